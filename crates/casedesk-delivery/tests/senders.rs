//! The real senders against real local servers: an SMTP sink on 127.0.0.1 that speaks
//! the protocol and records what it accepts, and HTTP receivers for the SMS gateway and
//! webhooks. Deliveries come from the engine's outbox, so retries, backoff and dead
//! letters are the engine's own.

use casedesk_core::notify::{
    Channel, ChannelSettings, EmailSecurity, EmailSettings, NotificationRule, NotifyEvent, Recipient, SmsGateway,
};
use casedesk_core::{demo, Actor, Clock, Command, Engine, ManualClock, Role};
use casedesk_delivery::{signature, Senders};
use chrono::{TimeZone, Utc};
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

struct World {
    engine: Engine,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()));
    let engine = Engine::open(dir.path(), clock.clone(), Default::default()).unwrap();
    demo::seed(&engine).unwrap();
    // Each test writes the one rule it is about.
    for rule in engine.notification_rules().unwrap() {
        engine.execute(&admin(), Command::RemoveNotificationRule { id: rule.id }).unwrap();
    }
    World { engine, clock, _dir: dir }
}

fn admin() -> Actor {
    Actor::new("ada", &[Role::Admin])
}

impl World {
    fn rule(&self, channel: Channel, recipients: Vec<Recipient>, webhook_url: Option<String>) {
        let rule = NotificationRule {
            id: format!("{}-rule", channel.as_str()),
            case_type: Some("technical".into()),
            event: NotifyEvent::Created,
            channel,
            recipients,
            webhook_url,
            subject: "Your case {{ case.reference }}".into(),
            body: "We have your case \"{{ case.subject }}\".\nReference: {{ case.reference }}".into(),
            enabled: true,
        };
        self.engine.execute(&admin(), Command::DefineNotificationRule { rule }).unwrap();
    }

    fn channels(&self, settings: ChannelSettings) {
        self.engine.execute(&admin(), Command::ConfigureNotificationChannels { settings }).unwrap();
    }

    fn case_for(&self, email: &str) -> String {
        let alex = Actor::new("alex", &[Role::Agent]);
        let c = self
            .engine
            .execute(
                &alex,
                Command::CreateCustomer {
                    name: "Maria Silva".into(),
                    email: Some(email.into()),
                    phone: Some("+351 912 345 678".into()),
                    external_id: None,
                    extra: Default::default(),
                },
            )
            .unwrap();
        let r = self
            .engine
            .execute(
                &alex,
                Command::CreateCase {
                    case_type: "technical".into(),
                    intent: None,
                    customer_id: c.created_id.unwrap().parse().ok(),
                    subject: "Router drops the line".into(),
                    description: String::new(),
                    fields: serde_json::from_str(r#"{"device":"Router"}"#).unwrap(),
                    priority: None,
                    interaction_id: None,
                    contact: None,
                    external_id: None,
                },
            )
            .unwrap();
        r.reference.unwrap()
    }

    /// Runs the delivery worker until nothing is due, letting time pass between rounds.
    fn deliver_until_settled(&self, senders: &Senders) -> u32 {
        let mut rounds = 0;
        while let Some(due) = self.engine.next_delivery_due().unwrap() {
            if due > self.clock.now() {
                self.clock.set(due);
            }
            self.engine.deliver_due(senders, 50).unwrap();
            rounds += 1;
            assert!(rounds < 20, "delivery never settled");
        }
        rounds
    }

    fn statuses(&self) -> Vec<(String, String, Option<String>)> {
        let mut log: Vec<_> = self
            .engine
            .delivery_log(None, 50)
            .unwrap()
            .into_iter()
            .map(|e| (e.delivery.recipient, e.status, e.last_error))
            .collect();
        log.reverse();
        log
    }
}

/// A local SMTP server that records the messages it accepts. `data_replies` answer the
/// end of each message in turn (then 250); a recipient containing "nobody" is refused.
struct SmtpSink {
    port: u16,
    accepted: Arc<Mutex<Vec<String>>>,
}

fn smtp_sink(data_replies: Vec<&'static str>) -> SmtpSink {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(vec![]));
    let recorded = accepted.clone();
    let mut replies: VecDeque<&str> = data_replies.into();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut out = stream.unwrap();
            let mut input = BufReader::new(out.try_clone().unwrap());
            out.write_all(b"220 sink.test ESMTP\r\n").unwrap();
            let mut line = String::new();
            while input.read_line(&mut line).unwrap_or(0) > 0 {
                let command = line.to_ascii_uppercase();
                let reply = if command.starts_with("EHLO") || command.starts_with("HELO") {
                    "250-sink.test\r\n250 8BITMIME"
                } else if command.starts_with("RCPT") && command.contains("NOBODY") {
                    "550 5.1.1 no such mailbox"
                } else if command.starts_with("DATA") {
                    out.write_all(b"354 end with a dot\r\n").unwrap();
                    let mut message = String::new();
                    loop {
                        let mut l = String::new();
                        input.read_line(&mut l).unwrap();
                        if l == ".\r\n" {
                            break;
                        }
                        message.push_str(&l);
                    }
                    let reply = replies.pop_front().unwrap_or("250 2.0.0 queued");
                    if reply.starts_with("250") {
                        recorded.lock().unwrap().push(message);
                    }
                    reply
                } else if command.starts_with("QUIT") {
                    out.write_all(b"221 bye\r\n").unwrap();
                    break;
                } else {
                    "250 OK"
                };
                out.write_all(format!("{reply}\r\n").as_bytes()).unwrap();
                line.clear();
            }
        }
    });
    SmtpSink { port, accepted }
}

/// A local HTTP receiver answering with `statuses` in turn (then 200), recording each
/// request's headers and body.
type Seen = Arc<Mutex<Vec<(HashMap<String, String>, String)>>>;

fn receiver(statuses: Vec<u16>) -> (String, Seen) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/hook", server.server_addr().to_ip().unwrap().port());
    let seen: Seen = Arc::default();
    let recorded = seen.clone();
    let mut statuses: VecDeque<u16> = statuses.into();
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let headers =
                request.headers().iter().map(|h| (h.field.to_string().to_lowercase(), h.value.to_string())).collect();
            let mut body = String::new();
            request.as_reader().read_to_string(&mut body).unwrap();
            recorded.lock().unwrap().push((headers, body));
            let status = statuses.pop_front().unwrap_or(200);
            request.respond(tiny_http::Response::from_string("thanks").with_status_code(status)).unwrap();
        }
    });
    (url, seen)
}

fn email_settings(port: u16) -> ChannelSettings {
    ChannelSettings {
        email: Some(EmailSettings {
            host: "127.0.0.1".into(),
            port,
            security: EmailSecurity::None,
            username: None,
            password: None,
            from: "Casedesk <service@example.com>".into(),
        }),
        ..Default::default()
    }
}

#[test]
fn email_goes_through_a_real_smtp_conversation_retried_once_and_refused_for_good() {
    let w = world();
    let sink = smtp_sink(vec!["451 4.3.0 try again later"]);
    w.rule(Channel::Email, vec![Recipient::Customer], None);
    w.channels(email_settings(sink.port));
    let reference = w.case_for("maria@example.com");
    w.case_for("nobody@example.com");
    let senders = Senders::new().unwrap();
    w.deliver_until_settled(&senders);

    let accepted = sink.accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 1, "sent once, after one 451");
    let message = &accepted[0];
    assert!(message.contains("To: maria@example.com"), "{message}");
    assert!(message.contains("From: Casedesk <service@example.com>"), "{message}");
    assert!(message.contains(&format!("Subject: Your case {reference}")), "{message}");
    assert!(message.contains(&format!("Reference: {reference}")), "{message}");
    assert!(message.contains("Message-ID: <casedesk-"), "{message}");
    let statuses = w.statuses();
    assert_eq!((statuses[0].0.as_str(), statuses[0].1.as_str()), ("maria@example.com", "sent"));
    assert_eq!((statuses[1].0.as_str(), statuses[1].1.as_str()), ("nobody@example.com", "dead"));
    assert!(statuses[1].2.as_deref().unwrap().contains("no such mailbox"), "{statuses:?}");
}

#[test]
fn email_waits_while_no_smtp_server_is_configured_then_goes_out() {
    let w = world();
    w.rule(Channel::Email, vec![Recipient::Customer], None);
    w.case_for("maria@example.com");
    let senders = Senders::new().unwrap();
    w.clock.set(w.clock.now() + chrono::Duration::days(2));
    w.engine.deliver_due(&senders, 50).unwrap();
    let waiting = &w.engine.delivery_log(None, 1).unwrap()[0];
    assert_eq!((waiting.status.as_str(), waiting.delivery.attempts), ("pending", 0), "waiting is not an attempt");
    let sink = smtp_sink(vec![]);
    w.channels(email_settings(sink.port));
    w.deliver_until_settled(&senders);
    assert_eq!(sink.accepted.lock().unwrap().len(), 1);
    assert_eq!(w.statuses()[0].1, "sent");
}

#[test]
fn a_webhook_that_fails_three_times_gets_the_event_once_signed() {
    let w = world();
    let secret = "whsec-0123456789abcdef";
    let (url, seen) = receiver(vec![503, 500, 429]);
    w.rule(Channel::Webhook, vec![], Some(url));
    w.channels(ChannelSettings { webhook_secret: Some(secret.into()), ..Default::default() });
    let reference = w.case_for("maria@example.com");
    let senders = Senders::new().unwrap();
    assert_eq!(w.deliver_until_settled(&senders), 4);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    let keys: std::collections::BTreeSet<_> = seen.iter().map(|(h, _)| h["idempotency-key"].clone()).collect();
    assert_eq!(keys.len(), 1, "one event: every attempt carries the same key");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    for (headers, body) in &seen {
        assert!(signature::verify(secret, &headers["casedesk-signature"], body.as_bytes(), now, 300));
        assert!(!signature::verify("not-the-secret-at-all", &headers["casedesk-signature"], body.as_bytes(), now, 300));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["case"]["reference"], reference.as_str());
        assert_eq!(json["event"], "created");
    }
    assert_eq!(w.statuses()[0].1, "sent");
    // A receiver that says no (a 4xx other than 408/429) is not asked again.
    let (gone, seen_gone) = receiver(vec![410]);
    let w2 = world();
    w2.rule(Channel::Webhook, vec![], Some(gone));
    w2.case_for("maria@example.com");
    w2.deliver_until_settled(&senders);
    assert_eq!(seen_gone.lock().unwrap().len(), 1);
    let s = w2.statuses();
    assert_eq!(s[0].1, "dead");
    assert!(s[0].2.as_deref().unwrap().contains("410"), "{s:?}");
}

#[test]
fn an_sms_goes_to_the_gateway_in_its_body_template() {
    let w = world();
    let (url, seen) = receiver(vec![]);
    w.rule(Channel::Sms, vec![Recipient::Customer], None);
    w.channels(ChannelSettings {
        sms: Some(SmsGateway {
            url,
            body: r#"{"to": "{{ to }}", "text": "{{ message }}", "sender": "Casedesk"}"#.into(),
            content_type: "application/json".into(),
            authorization: Some("Bearer gateway-token".into()),
        }),
        ..Default::default()
    });
    let reference = w.case_for("maria@example.com");
    w.deliver_until_settled(&Senders::new().unwrap());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (headers, body) = &seen[0];
    assert_eq!(headers["authorization"], "Bearer gateway-token");
    let json: serde_json::Value = serde_json::from_str(body).expect("quotes and newlines are escaped");
    assert_eq!(json["to"], "+351912345678");
    assert_eq!(json["text"], format!("We have your case \"Router drops the line\".\nReference: {reference}"));
    assert_eq!(w.statuses()[0].1, "sent");
}
