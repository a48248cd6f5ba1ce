//! Email over SMTP with lettre, one conversation per message.

use casedesk_core::notify::{Delivery, EmailSecurity, EmailSettings, SendError};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};

pub fn send(d: &Delivery, s: &EmailSettings) -> Result<(), SendError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| SendError::Permanent(format!("{what}: {e}"));
    let from: Mailbox = s.from.parse().map_err(|e| bad("the sender address", &e))?;
    let to: Mailbox = d.recipient.parse().map_err(|e| bad("the recipient address", &e))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(&d.subject)
        // The same id on every attempt, so a mail system can drop a repeat.
        .message_id(Some(format!("<{}@casedesk>", d.idempotency_key())))
        .header(ContentType::TEXT_PLAIN)
        .body(d.body.clone())
        .map_err(|e| bad("the message", &e))?;
    let builder = match s.security {
        EmailSecurity::None => Ok(SmtpTransport::builder_dangerous(&s.host)),
        EmailSecurity::StartTls => SmtpTransport::starttls_relay(&s.host),
        EmailSecurity::Tls => SmtpTransport::relay(&s.host),
    }
    .map_err(|e| bad("the SMTP server's TLS set-up", &e))?;
    let mut builder = builder.port(s.port).timeout(Some(super::TIMEOUT));
    if let Some(user) = &s.username {
        builder = builder.credentials(Credentials::new(user.clone(), s.password.clone().unwrap_or_default()));
    }
    match builder.build().send(&message) {
        Ok(_) => Ok(()),
        // 5xx replies will not change on a retry; everything else (4xx, a refused or
        // dropped connection, a timeout) may.
        Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("SMTP: {e}"))),
        Err(e) => Err(SendError::Temporary(format!("SMTP: {e}"))),
    }
}
