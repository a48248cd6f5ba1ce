//! Delivering what the rules wrote to the outbox (`deliveries`): the channel settings,
//! the retry policy, and the [`Transport`] seam. Senders that speak SMTP and HTTP live in
//! `casedesk-delivery`; tests use fakes.

use super::rules::Channel;
use crate::error::{Error, Result};
use crate::fields::is_email;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One message to send, as the rule rendered it when the event happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Delivery {
    pub id: i64,
    pub event_seq: i64,
    pub rule_id: String,
    pub channel: Channel,
    /// A user id (desktop), an email address, a phone number, or a URL (webhook).
    pub recipient: String,
    pub subject: String,
    /// Plain text; for a webhook, the JSON document to post.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

impl Delivery {
    /// Stable across retries, so a receiver can drop a repeat (Message-ID, Idempotency-Key).
    pub fn idempotency_key(&self) -> String {
        format!("casedesk-{}-{}", self.event_seq, self.id)
    }
}

/// Why a send failed: worth retrying (a timeout, a 4xx SMTP reply, HTTP 5xx or 429), or
/// never going to work (a refused address, HTTP 4xx).
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    Temporary(String),
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Temporary(m) => write!(f, "temporary failure: {m}"),
            SendError::Permanent(m) => write!(f, "permanent failure: {m}"),
        }
    }
}

/// Sends one delivery through its channel. Implementations must not retry on their own:
/// the engine decides when to try again.
pub trait Transport: Send + Sync {
    fn send(&self, delivery: &Delivery, settings: &ChannelSettings) -> std::result::Result<(), SendError>;
}

/// Attempts before a delivery becomes a dead letter.
pub const MAX_ATTEMPTS: u32 = 6;

/// How long a claimed delivery is someone's before another worker may take it again
/// (a worker that died mid-send).
pub const CLAIM_SECONDS: i64 = 120;

/// The wait after the `attempt`-th failure: 30 s, doubling, at most an hour.
pub fn backoff(attempt: u32) -> chrono::Duration {
    let seconds = 30i64.saturating_mul(1i64 << attempt.saturating_sub(1).min(20));
    chrono::Duration::seconds(seconds.min(3600))
}

/// What one round of delivery did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct DeliveryRound {
    pub sent: u32,
    pub retrying: u32,
    pub dead: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EmailSecurity {
    /// Plain SMTP (a relay on the same host or a test sink).
    None,
    /// SMTP upgraded with STARTTLS (port 587).
    #[default]
    StartTls,
    /// SMTP over TLS from the first byte (port 465).
    Tls,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct EmailSettings {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: EmailSecurity,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The sender, e.g. "Casedesk <service@example.com>".
    pub from: String,
}

/// An HTTP SMS gateway: the message is POSTed to `url` with `body` as the template, in
/// which `{{ to }}` and `{{ message }}` are replaced (JSON-escaped when the content type
/// is JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct SmsGateway {
    pub url: String,
    pub body: String,
    #[serde(default = "json_type")]
    pub content_type: String,
    /// Sent as the Authorization header, e.g. "Bearer …".
    #[serde(default)]
    pub authorization: Option<String>,
}

fn json_type() -> String {
    "application/json".into()
}

/// How each channel reaches the outside world; a channel left out is not configured, and
/// its deliveries wait (and, after the retries, become dead letters saying so).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ChannelSettings {
    #[serde(default)]
    pub email: Option<EmailSettings>,
    #[serde(default)]
    pub sms: Option<SmsGateway>,
    /// Webhook bodies are signed with HMAC-SHA256 under this secret when it is set.
    #[serde(default)]
    pub webhook_secret: Option<String>,
}

pub const SETTINGS_KEY: &str = "notification_channels";

/// A URL without its query, which gateways and chat webhooks often use for keys.
pub fn without_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?********"),
        None => url.to_string(),
    }
}

fn http_url(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && !s.contains(char::is_whitespace) && s.len() > 8
}

impl ChannelSettings {
    pub fn check(&self) -> Result<()> {
        if let Some(e) = &self.email {
            if e.host.trim().is_empty() || e.host.contains(char::is_whitespace) {
                return Err(Error::field("email.host", "must be a host name or address"));
            }
            if e.port == 0 {
                return Err(Error::field("email.port", "must be a port from 1 to 65535"));
            }
            let address = e.from.rsplit_once('<').map(|(_, a)| a.trim_end_matches('>')).unwrap_or(&e.from);
            if !is_email(address.trim()) {
                return Err(Error::field(
                    "email.from",
                    "must be an address like service@example.com or Name <service@example.com>",
                ));
            }
            if e.password.is_some() && e.username.is_none() {
                return Err(Error::field("email.username", "a password needs a user name"));
            }
        }
        if let Some(s) = &self.sms {
            if !http_url(&s.url) {
                return Err(Error::field("sms.url", "must be an http:// or https:// URL"));
            }
            if !s.body.contains("{{ to }}") || !s.body.contains("{{ message }}") {
                return Err(Error::field("sms.body", "must contain {{ to }} and {{ message }}"));
            }
        }
        if self.webhook_secret.as_deref().is_some_and(|s| s.len() < 16) {
            return Err(Error::field("webhook_secret", "must be at least 16 characters"));
        }
        Ok(())
    }

    /// The settings as the event log keeps them: secrets replaced.
    pub fn redacted(&self) -> ChannelSettings {
        let mut out = self.clone();
        if let Some(s) = &mut out.sms {
            s.url = without_query(&s.url);
        }
        if let Some(e) = &mut out.email {
            e.password = e.password.as_ref().map(|_| "********".into());
        }
        if let Some(s) = &mut out.sms {
            s.authorization = s.authorization.as_ref().map(|_| "********".into());
        }
        out.webhook_secret = out.webhook_secret.as_ref().map(|_| "********".into());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let s: Vec<i64> = (1..=10).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(s, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        let mut s = ChannelSettings {
            email: Some(EmailSettings {
                host: "smtp.example.com".into(),
                port: 587,
                security: EmailSecurity::StartTls,
                username: None,
                password: None,
                from: "Casedesk <service@example.com>".into(),
            }),
            ..Default::default()
        };
        s.check().unwrap();
        s.email.as_mut().unwrap().from = "nobody".into();
        assert!(s.check().unwrap_err().to_string().contains("email.from"));
        s.email = None;
        s.sms =
            Some(SmsGateway { url: "ftp://x".into(), body: "".into(), content_type: json_type(), authorization: None });
        assert!(s.check().unwrap_err().to_string().contains("sms.url"));
        s.sms.as_mut().unwrap().url = "https://sms.example.com/send".into();
        assert!(s.check().unwrap_err().to_string().contains("sms.body"));
        s.webhook_secret = Some("short".into());
        s.sms = None;
        assert!(s.check().unwrap_err().to_string().contains("webhook_secret"));
    }
}
