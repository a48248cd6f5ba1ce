//! SMS through an HTTP gateway, and webhooks.

use casedesk_core::notify::{Delivery, SendError, SmsGateway};
use reqwest::blocking::{Client, RequestBuilder};

/// 2xx is done; 408, 429 and 5xx may pass on a retry; any other answer will not.
fn outcome(what: &str, response: reqwest::Result<reqwest::blocking::Response>) -> Result<(), SendError> {
    match response {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => {
            let status = r.status();
            let detail: String = r.text().unwrap_or_default().chars().take(200).collect();
            let message = format!("{what} answered {status}: {detail}");
            if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
                Err(SendError::Temporary(message))
            } else {
                Err(SendError::Permanent(message))
            }
        }
        // Without the URL: it may carry a key, and the reason is kept in the delivery log.
        Err(e) => Err(SendError::Temporary(format!("{what}: {}", e.without_url()))),
    }
}

fn with_key(request: RequestBuilder, d: &Delivery) -> RequestBuilder {
    request.header("Idempotency-Key", d.idempotency_key())
}

/// Fills the gateway's body template, escaping for its content type.
pub fn sms_body(gateway: &SmsGateway, to: &str, message: &str) -> String {
    let escape = |s: &str| -> String {
        if gateway.content_type.contains("json") {
            let quoted = serde_json::to_string(s).unwrap_or_default();
            quoted[1..quoted.len() - 1].to_string()
        } else if gateway.content_type.contains("x-www-form-urlencoded") {
            form_urlencoded::byte_serialize(s.as_bytes()).collect()
        } else {
            s.to_string()
        }
    };
    gateway.body.replace("{{ to }}", &escape(to)).replace("{{ message }}", &escape(message))
}

pub fn send_sms(client: &Client, d: &Delivery, gateway: &SmsGateway) -> Result<(), SendError> {
    let mut request = client.post(&gateway.url).header("Content-Type", &gateway.content_type).body(sms_body(
        gateway,
        &d.recipient,
        &d.body,
    ));
    if let Some(auth) = &gateway.authorization {
        request = request.header("Authorization", auth);
    }
    outcome("the SMS gateway", with_key(request, d).send())
}

pub fn send_webhook(client: &Client, d: &Delivery, secret: Option<&str>) -> Result<(), SendError> {
    let mut request = client.post(&d.recipient).header("Content-Type", "application/json").body(d.body.clone());
    if let Some(secret) = secret {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        request = request.header(super::signature::HEADER, super::signature::sign(secret, now, d.body.as_bytes()));
    }
    outcome("the webhook receiver", with_key(request, d).send())
}
