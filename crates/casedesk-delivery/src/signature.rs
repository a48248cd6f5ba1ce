//! Webhook signatures: `Casedesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the
//! MAC taken over `<t>.<body>` with the workspace's webhook secret. A receiver recomputes
//! it, compares in constant time, and refuses a `t` too far from its own clock (replays).

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "Casedesk-Signature";

fn mac(secret: &str, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

/// Checks a signature header as a receiver would: the MAC matches and `t` is within
/// `tolerance_secs` of `now`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: u64, tolerance_secs: u64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<u64>().ok(),
            Some(("v1", x)) => v1 = hex::decode(x).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    t.abs_diff(now) <= tolerance_secs && mac(secret, t, body).verify_slice(&v1).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_secret_body_and_time() {
        let h = sign("s3cret-s3cret-s3cret", 1_800_000_000, b"{\"a\":1}");
        assert!(verify("s3cret-s3cret-s3cret", &h, b"{\"a\":1}", 1_800_000_100, 300));
        assert!(!verify("another-secret-value", &h, b"{\"a\":1}", 1_800_000_100, 300));
        assert!(!verify("s3cret-s3cret-s3cret", &h, b"{\"a\":2}", 1_800_000_100, 300));
        assert!(!verify("s3cret-s3cret-s3cret", &h, b"{\"a\":1}", 1_800_001_000, 300), "too old: a replay");
        assert!(!verify("s3cret-s3cret-s3cret", "t=1,v1=zz", b"", 1, 300));
    }
}
