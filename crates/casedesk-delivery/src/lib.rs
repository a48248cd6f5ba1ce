//! Sends what the engine's notification outbox holds: email over SMTP (lettre), SMS
//! through an HTTP gateway and signed webhooks (reqwest). The engine decides what is due
//! and what a failure means for the next attempt; this crate only speaks the protocols
//! and says whether a failure is worth retrying.

mod email;
mod http;
pub mod signature;

use casedesk_core::notify::{Channel, ChannelSettings, Delivery, SendError, Transport};
use casedesk_core::Engine;
use std::time::Duration;

/// How long one SMTP conversation or HTTP request may take.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The real senders, one per channel.
pub struct Senders {
    http: reqwest::blocking::Client,
}

impl Senders {
    pub fn new() -> Result<Senders, String> {
        let http = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("Casedesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        Ok(Senders { http })
    }
}

impl Transport for Senders {
    fn send(&self, d: &Delivery, settings: &ChannelSettings) -> Result<(), SendError> {
        let unconfigured = |what: &str| {
            SendError::Temporary(format!("{what} is not configured (an admin sets it in the notification channels)"))
        };
        match d.channel {
            Channel::Email => email::send(d, settings.email.as_ref().ok_or_else(|| unconfigured("email"))?),
            Channel::Sms => http::send_sms(&self.http, d, settings.sms.as_ref().ok_or_else(|| unconfigured("SMS"))?),
            Channel::Webhook => http::send_webhook(&self.http, d, settings.webhook_secret.as_deref()),
            Channel::Desktop => Err(SendError::Permanent("desktop notifications are shown by the desk".into())),
        }
    }
}

/// How often a sender looks for deliveries that are due.
pub const EVERY: Duration = Duration::from_secs(5);
/// Deliveries claimed per pass.
const BATCH: u32 = 50;

/// Runs `pass` every [`EVERY`] with the real senders, on a thread of its own (so a slow
/// mail server never holds up anything else), until it returns `None`; failures are
/// printed after `who`.
pub fn send_in_background(
    who: &'static str,
    pass: impl Fn(&Senders) -> Option<casedesk_core::Result<()>> + Send + 'static,
) {
    std::thread::spawn(move || {
        let senders = match Senders::new() {
            Ok(s) => s,
            Err(e) => return eprintln!("{who}: notifications cannot be sent: {e}"),
        };
        loop {
            std::thread::sleep(EVERY);
            match pass(&senders) {
                None => return,
                Some(Err(e)) => eprintln!("{who}: delivering notifications failed: {e}"),
                Some(Ok(())) => {}
            }
        }
    });
}

/// Sends every delivery due now. An indexed read decides whether anything is, so a pass
/// with nothing due writes nothing; a full batch is followed at once by the next.
pub fn send_due(engine: &Engine, senders: &Senders) -> casedesk_core::Result<()> {
    let now = engine.clock().now();
    while engine.next_delivery_due()?.is_some_and(|t| t <= now) {
        let round = engine.deliver_due(senders, BATCH)?;
        if round.sent + round.retrying + round.dead < BATCH {
            break;
        }
    }
    Ok(())
}
