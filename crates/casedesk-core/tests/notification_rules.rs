//! Notification rules: checked when saved, written with their event, delivered with
//! retries, backoff and dead letters through the Transport seam (a scripted fake here;
//! the real SMTP and HTTP senders are tested in casedesk-delivery).

mod common;

use casedesk_core::notify::{
    deliver, Channel, ChannelSettings, Delivery, DesktopNotification, NotificationPreferences, NotificationRule,
    Notifier, NotifyEvent, Recipient, SendError, Transport,
};
use casedesk_core::{Command, Error};
use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Mutex;

/// Answers sends from a script (then succeeds), recording every attempt.
#[derive(Default)]
struct Scripted {
    script: Mutex<VecDeque<Result<(), SendError>>>,
    attempts: Mutex<Vec<Delivery>>,
}

impl Scripted {
    fn answering(answers: Vec<Result<(), SendError>>) -> Self {
        Scripted { script: Mutex::new(answers.into()), ..Default::default() }
    }
    fn attempts(&self) -> Vec<Delivery> {
        self.attempts.lock().unwrap().clone()
    }
}

impl Transport for Scripted {
    fn send(&self, d: &Delivery, _: &ChannelSettings) -> Result<(), SendError> {
        self.attempts.lock().unwrap().push(d.clone());
        self.script.lock().unwrap().pop_front().unwrap_or(Ok(()))
    }
}

#[derive(Default)]
struct Desk(Mutex<Vec<DesktopNotification>>);

impl Notifier for Desk {
    fn show(&self, n: &DesktopNotification) -> Result<(), String> {
        self.0.lock().unwrap().push(n.clone());
        Ok(())
    }
}

fn rule(id: &str, case_type: Option<&str>, event: NotifyEvent, channel: Channel, to: &[Recipient]) -> NotificationRule {
    NotificationRule {
        id: id.into(),
        case_type: case_type.map(String::from),
        event,
        channel,
        recipients: to.to_vec(),
        webhook_url: None,
        subject: "Case {{ case.reference }}".into(),
        body: "{{ case.type }}: {{ case.subject }}".into(),
        enabled: true,
    }
}

/// Email counts as configured (the scripted transport never connects anywhere).
fn email_configured(w: &World) {
    let settings = ChannelSettings {
        email: Some(casedesk_core::notify::EmailSettings {
            host: "smtp.example.com".into(),
            port: 587,
            security: Default::default(),
            username: None,
            password: None,
            from: "service@example.com".into(),
        }),
        ..Default::default()
    };
    w.engine.execute(&admin(), Command::ConfigureNotificationChannels { settings }).unwrap();
}

fn define(w: &World, r: NotificationRule) -> casedesk_core::Result<casedesk_core::Executed> {
    w.engine.execute(&admin(), Command::DefineNotificationRule { rule: r })
}

fn log(w: &World) -> Vec<(String, String, String, Option<String>)> {
    let mut rows: Vec<_> = w
        .engine
        .delivery_log(None, 100)
        .unwrap()
        .into_iter()
        .map(|e| (e.delivery.rule_id, e.delivery.recipient, e.status, e.last_error))
        .collect();
    rows.reverse();
    rows
}

fn customer(w: &World, email: Option<&str>) -> uuid::Uuid {
    let r = w
        .engine
        .execute(
            &alex(),
            Command::CreateCustomer {
                name: "Maria Silva".into(),
                email: email.map(String::from),
                phone: Some("+49 30 1234567".into()),
                external_id: None,
                extra: Default::default(),
            },
        )
        .unwrap();
    created(&r)
}

fn case_for(w: &World, customer_id: Option<uuid::Uuid>) -> uuid::Uuid {
    let r = w
        .engine
        .execute(
            &alex(),
            Command::CreateCase {
                case_type: "technical".into(),
                intent: None,
                customer_id,
                subject: "Router drops the line".into(),
                description: "Every evening".into(),
                fields: obj(json!({ "device": "Router", "serial_number": "ABC12345" })),
                priority: None,
                interaction_id: None,
                contact: None,
                external_id: None,
            },
        )
        .unwrap();
    created(&r)
}

#[test]
fn rules_that_cannot_work_are_refused_when_saved_and_change_nothing() {
    let w = world();
    let before = w.snapshot();
    let field_of = |r: NotificationRule| match define(&w, r) {
        Err(Error::InvalidField { field, rule }) => format!("{field}: {rule}"),
        other => panic!("expected a field error, got {other:?}"),
    };
    let email = || rule("r1", Some("technical"), NotifyEvent::Created, Channel::Email, &[Recipient::Customer]);

    let e = field_of(NotificationRule { body: "Dear {{ customer.name }}, {{ case.refrence }}".into(), ..email() });
    assert!(e.starts_with("body: unknown variable 'case.refrence'") && e.contains("reference"), "{e}");
    let e = field_of(NotificationRule { subject: "{{ fields.iban }}".into(), ..email() });
    assert!(e.starts_with("subject: unknown variable 'fields.iban'") && e.contains("device"), "{e}");
    // A rule for every case type may use only the fields every type has.
    let e = field_of(NotificationRule { case_type: None, body: "{{ fields.device }}".into(), ..email() });
    assert!(e.contains("fields.device") && e.contains("every case type"), "{e}");
    let e = field_of(NotificationRule { body: "{% if case.status %}open".into(), ..email() });
    assert!(e.starts_with("body: line 1"), "{e}");
    let e = field_of(NotificationRule { channel: Channel::Desktop, ..email() });
    assert!(e.starts_with("recipients: customers have no desktop"), "{e}");
    let e = field_of(NotificationRule { channel: Channel::Webhook, recipients: vec![], ..email() });
    assert!(e.starts_with("webhook_url"), "{e}");
    let e = field_of(NotificationRule { case_type: Some("nope".into()), ..email() });
    assert!(e.starts_with("case_type: 'nope' is not a published case type"), "{e}");
    let e = field_of(NotificationRule { id: "Has Spaces".into(), ..email() });
    assert!(e.starts_with("id:"), "{e}");
    let e = field_of(NotificationRule { subject: String::new(), ..email() });
    assert!(e.starts_with("subject: email notifications need a subject"), "{e}");
    assert!(matches!(
        w.engine.execute(&alex(), Command::DefineNotificationRule { rule: email() }),
        Err(Error::Forbidden { .. })
    ));
    // Channel settings and contacts are checked field by field too.
    let bad_channels = ChannelSettings { webhook_secret: Some("short".into()), ..Default::default() };
    let e = w.engine.execute(&admin(), Command::ConfigureNotificationChannels { settings: bad_channels });
    assert!(matches!(e, Err(Error::InvalidField { ref field, .. }) if field == "webhook_secret"), "{e:?}");
    let contact = |by: &casedesk_core::Actor, user: &str, email: &str| {
        w.engine.execute(by, Command::SetUserContact { user_id: user.into(), email: Some(email.into()), phone: None })
    };
    assert!(
        matches!(contact(&alex(), "alex", "not-an-address"), Err(Error::InvalidField { ref field, .. }) if field == "email")
    );
    assert!(matches!(contact(&alex(), "sam", "sam@example.com"), Err(Error::Forbidden { .. })), "only one's own");
    assert_eq!(w.snapshot(), before, "a refused rule, setting or contact leaves the workspace as it was");
}

#[test]
fn a_rule_renders_every_variable_in_the_transaction_of_its_event() {
    let w = world();
    let body = "Dear {{ customer.name }},\n{{ case.reference }} ({{ case.type }}) is {{ case.status }}: \
                {{ case.description }}. Device {{ fields.device }}, serial {{ fields.serial_number }}, \
                phone '{{ fields.contact_phone }}'. SLA {{ case.sla }} {{ case.sla_unit }} {{ case.sla_kind }}, \
                due {{ case.target }}. Opened {{ case.created_date }} at {{ case.created_time }} \
                ({{ case.created }}). Assignee '{{ case.assignee }}'.";
    define(
        &w,
        NotificationRule {
            subject: "Your case {{ case.reference }}".into(),
            body: body.into(),
            ..rule("tech-created", Some("technical"), NotifyEvent::Created, Channel::Email, &[Recipient::Customer])
        },
    )
    .unwrap();
    let maria = customer(&w, Some("maria@example.com"));
    let case = case_for(&w, Some(maria));
    let entries = w.engine.delivery_log(None, 10).unwrap();
    assert_eq!(entries.len(), 1);
    let d = &entries[0].delivery;
    assert_eq!((d.recipient.as_str(), d.subject.as_str()), ("maria@example.com", "Your case TEC-000001"));
    // Created Tuesday 10:00 Berlin; 16 open-office hours on 09:00–17:00 with a lunch hour (12–13)
    // run to Thursday 11:00... as the office calendar counts them.
    let due = w.case(case).sla.unwrap().due_at.unwrap().with_timezone(&chrono_tz::Europe::Berlin);
    assert_eq!(
        d.body,
        format!(
            "Dear Maria Silva,\nTEC-000001 (Technical) is New: Every evening. Device Router, serial ABC12345, \
             phone ''. SLA 16 hours open-office, due {}. Opened 2026-11-24 at 10:00 (2026-11-24 10:00 CET). \
             Assignee ''.",
            due.format("%Y-%m-%d %H:%M CET")
        )
    );
    // The delivery belongs to the case_created event, written in the same transaction.
    let kind: String = w
        .engine
        .read(|db| {
            Ok(db.connection_ref().query_row("SELECT kind FROM events WHERE seq = ?1", [d.event_seq], |r| r.get(0))?)
        })
        .unwrap();
    assert_eq!(kind, "case_created");
}

#[test]
fn a_failed_send_is_retried_with_backoff_and_sent_once() {
    let w = world();
    define(&w, rule("c", Some("technical"), NotifyEvent::Created, Channel::Email, &[Recipient::Customer])).unwrap();
    let maria = customer(&w, Some("maria@example.com"));
    case_for(&w, Some(maria));
    // Nothing goes out, and no attempt is counted, while email has no settings.
    assert_eq!(w.engine.next_delivery_due().unwrap(), None);
    assert_eq!(w.engine.deliver_due(&Scripted::default(), 50).unwrap(), Default::default());
    email_configured(&w);
    let smtp = Scripted::answering(vec![
        Err(SendError::Temporary("421 try later".into())),
        Err(SendError::Temporary("connection refused".into())),
    ]);
    let round = w.engine.deliver_due(&smtp, 50).unwrap();
    assert_eq!((round.sent, round.retrying, round.dead), (0, 1, 0));
    // Not due again before the first backoff (30 s) has passed.
    w.clock.advance(Duration::seconds(29));
    assert_eq!(w.engine.deliver_due(&smtp, 50).unwrap().retrying, 0);
    assert_eq!(smtp.attempts().len(), 1);
    w.clock.advance(Duration::seconds(1));
    assert_eq!(w.engine.deliver_due(&smtp, 50).unwrap().retrying, 1);
    // The second wait is twice as long.
    w.clock.advance(Duration::seconds(59));
    assert_eq!(w.engine.next_delivery_due().unwrap(), Some(w.engine.clock().now() + Duration::seconds(1)));
    assert_eq!(w.engine.deliver_due(&smtp, 50).unwrap().sent, 0);
    w.clock.advance(Duration::seconds(1));
    assert_eq!(w.engine.deliver_due(&smtp, 50).unwrap().sent, 1);
    // Done: nothing more goes out, however often the worker runs.
    for _ in 0..3 {
        w.clock.advance(Duration::hours(2));
        assert_eq!(w.engine.deliver_due(&smtp, 50).unwrap(), Default::default());
    }
    let attempts = smtp.attempts();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts.iter().map(|d| d.attempts).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(attempts.windows(2).all(|p| p[0].idempotency_key() == p[1].idempotency_key()));
    assert_eq!(log(&w), [("c".into(), "maria@example.com".into(), "sent".into(), None)]);
    assert_eq!(w.engine.next_delivery_due().unwrap(), None);
}

#[test]
fn dead_letters_keep_the_reason() {
    let w = world();
    define(&w, rule("c", Some("technical"), NotifyEvent::Created, Channel::Email, &[Recipient::Customer])).unwrap();
    let maria = customer(&w, Some("maria@example.com"));
    case_for(&w, Some(maria));
    case_for(&w, Some(maria));
    email_configured(&w);
    let refusing = Scripted::answering(vec![Err(SendError::Permanent("550 no such mailbox".into()))]);
    let always_down = Scripted::answering((0..10).map(|_| Err(SendError::Temporary("timed out".into()))).collect());
    assert_eq!(w.engine.deliver_due(&refusing, 1).unwrap().dead, 1);
    let mut tries = 0;
    loop {
        let round = w.engine.deliver_due(&always_down, 50).unwrap();
        tries += round.retrying + round.dead;
        if round.dead == 1 {
            break;
        }
        w.clock.advance(Duration::hours(1));
        assert!(tries < 20, "never gave up");
    }
    assert_eq!(tries, 6);
    let dead = w.engine.delivery_log(Some("dead"), 10).unwrap();
    let reasons: Vec<_> = dead.iter().rev().map(|e| e.last_error.clone().unwrap()).collect();
    assert_eq!(reasons, ["550 no such mailbox", "gave up after 6 attempts: timed out"]);
    w.clock.advance(Duration::days(1));
    assert_eq!(w.engine.deliver_due(&always_down, 50).unwrap(), Default::default());
}

#[test]
fn recipients_are_resolved_once_each_and_unreachable_ones_say_why() {
    let w = world();
    let who = [Recipient::Assignee, Recipient::Supervisor, Recipient::QueueMembers, Recipient::Owner];
    define(&w, rule("assign-mail", None, NotifyEvent::AssignmentChanged, Channel::Email, &who)).unwrap();
    define(&w, rule("made-mail", None, NotifyEvent::Created, Channel::Email, &[Recipient::Customer])).unwrap();
    w.engine
        .execute(
            &admin(),
            Command::SetUserContact { user_id: "alex".into(), email: Some("alex@example.com".into()), phone: None },
        )
        .unwrap();
    let case = case_for(&w, None);
    let task = w.open_tasks(case).remove(0);
    w.engine.execute(&sam(), Command::AssignTask { task_id: task.id, assignee: "alex".into() }).unwrap();
    // alex is assignee, owner and queue member: one email. sam acted, so is not told;
    // dana, also in the queue, has no address.
    assert_eq!(
        log(&w),
        [
            ("made-mail".into(), "customer:none".into(), "dead".into(), Some("the case has no customer".into())),
            ("assign-mail".into(), "alex@example.com".into(), "pending".into(), None),
            ("assign-mail".into(), "user:dana".into(), "dead".into(), Some("dana has no email address".into())),
        ]
    );
    // A repeat of the same event and rule writes nothing more (the key is event, rule, recipient).
    let d = &w.engine.delivery_log(Some("pending"), 1).unwrap()[0].delivery;
    let again = w
        .engine
        .read(|db| {
            Ok(db.connection_ref().execute(
                "INSERT INTO deliveries (event_seq, rule_id, channel, recipient, subject, body, status,
                   next_attempt_at, created_at) VALUES (?1, ?2, 'email', ?3, '', '', 'pending', 0, 0)
                 ON CONFLICT DO NOTHING",
                casedesk_core::store::sql::params![d.event_seq, d.rule_id, d.recipient],
            )?)
        })
        .unwrap();
    assert_eq!(again, 0);
}

#[test]
fn an_escalation_reaches_the_receiving_team_and_a_user_without_a_phone_is_a_dead_letter() {
    let w = world();
    define(
        &w,
        NotificationRule {
            body: "{{ task.name }} on {{ case.reference }} escalated to level {{ task.escalation_level }}".into(),
            ..rule("esc", Some("technical"), NotifyEvent::Escalated, Channel::Sms, &[Recipient::QueueMembers])
        },
    )
    .unwrap();
    w.engine
        .execute(
            &sam(),
            Command::SetUserContact { user_id: "sam".into(), email: None, phone: Some("0171 5550100".into()) },
        )
        .unwrap();
    let case = case_for(&w, None);
    let task = w.open_tasks(case).remove(0);
    w.engine.execute(&sam(), Command::AssignTask { task_id: task.id, assignee: "alex".into() }).unwrap();
    w.engine.execute(&alex(), Command::EscalateTask { task_id: task.id, reason: "needs an expert".into() }).unwrap();
    // Employees_group_A (where it was: alex acted, sam, dana) and Expert_group_X (where it
    // went: chris).
    assert_eq!(
        log(&w),
        [
            ("esc".into(), "user:chris".into(), "dead".into(), Some("chris has no phone number".into())),
            ("esc".into(), "user:dana".into(), "dead".into(), Some("dana has no phone number".into())),
            ("esc".into(), "01715550100".into(), "pending".into(), None),
        ]
    );
    let sms = &w.engine.delivery_log(Some("pending"), 1).unwrap()[0].delivery;
    assert_eq!(sms.body, "Diagnose the fault on TEC-000001 escalated to level 0");
}

#[test]
fn desktop_rules_reach_the_desk_unless_muted() {
    let w = world();
    define(&w, rule("closed", None, NotifyEvent::StatusChanged, Channel::Desktop, &[Recipient::Owner])).unwrap();
    let desk = Desk::default();
    deliver(&w.engine, "alex", &desk).unwrap();
    let case = case_for(&w, None);
    w.engine
        .execute(&sam(), Command::ChangeCaseStatus { case_id: case, status: "waiting_customer".into(), reason: None })
        .unwrap();
    assert_eq!(deliver(&w.engine, "alex", &desk).unwrap(), 1);
    assert_eq!(deliver(&w.engine, "alex", &desk).unwrap(), 0, "once");
    let shown = desk.0.lock().unwrap().clone();
    assert_eq!((shown[0].title.as_str(), shown[0].kind.as_str()), ("Case TEC-000001", "case_status_changed"));
    let muted = NotificationPreferences { muted: vec!["case_status_changed".into()], do_not_disturb: false };
    w.engine.execute(&alex(), Command::SetNotificationPreferences { preferences: muted }).unwrap();
    w.engine
        .execute(&sam(), Command::ChangeCaseStatus { case_id: case, status: "in_progress".into(), reason: None })
        .unwrap();
    assert_eq!(deliver(&w.engine, "alex", &desk).unwrap(), 0);
    let statuses: Vec<_> = log(&w).into_iter().map(|(_, _, s, e)| (s, e)).collect();
    assert_eq!(statuses, [("sent".into(), None), ("suppressed".into(), Some("case_status_changed muted".into()))]);
}

#[test]
fn a_webhook_posts_the_case_as_json_and_secrets_stay_out_of_the_event_log() {
    let w = world();
    let hook = NotificationRule {
        webhook_url: Some("http://127.0.0.1:9/hook?key=chat-room-key".into()),
        recipients: vec![],
        subject: String::new(),
        body: "closed by {{ event.actor }}".into(),
        ..rule("crm", None, NotifyEvent::Created, Channel::Webhook, &[])
    };
    define(&w, hook).unwrap();
    let settings = ChannelSettings { webhook_secret: Some("a-very-secret-signing-key".into()), ..Default::default() };
    w.engine.execute(&admin(), Command::ConfigureNotificationChannels { settings: settings.clone() }).unwrap();
    assert_eq!(w.engine.channel_settings().unwrap(), settings);
    case_for(&w, None);
    let d = &w.engine.delivery_log(None, 1).unwrap()[0].delivery;
    assert_eq!(d.recipient, "http://127.0.0.1:9/hook?key=chat-room-key");
    let body: Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(body["event"], "created");
    assert_eq!(body["case"]["reference"], "TEC-000001");
    assert_eq!(body["fields"]["device"], "Router");
    assert_eq!(body["message"], "closed by alex");
    let events: String = w
        .engine
        .read(|db| Ok(db.connection_ref().query_row("SELECT string_agg(after, ',') FROM events", [], |r| r.get(0))?))
        .unwrap();
    assert!(!events.contains("a-very-secret-signing-key"));
    assert!(!events.contains("chat-room-key"), "a webhook URL's key stays out of the event log");
    assert!(events.contains("notification_channels") || events.contains("********"));
}

/// A sender that stops the worker in the middle of a send.
struct Crashing;

impl Transport for Crashing {
    fn send(&self, _: &Delivery, _: &ChannelSettings) -> Result<(), SendError> {
        panic!("the worker stopped mid-send");
    }
}

#[test]
fn a_delivery_left_claimed_by_a_stopped_worker_is_taken_over_after_the_claim_and_not_forever() {
    let w = world();
    define(&w, rule("c", Some("technical"), NotifyEvent::Created, Channel::Email, &[Recipient::Customer])).unwrap();
    email_configured(&w);
    let maria = customer(&w, Some("maria@example.com"));
    case_for(&w, Some(maria));
    let stop = || std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.engine.deliver_due(&Crashing, 50)));
    assert!(stop().is_err());
    assert_eq!(log(&w)[0].2, "sending");
    // Another worker leaves it alone while the claim holds, then takes it over.
    let smtp = Scripted::default();
    w.clock.advance(Duration::seconds(60));
    assert_eq!(w.engine.deliver_due(&smtp, 50).unwrap(), Default::default());
    w.clock.advance(Duration::seconds(61));
    assert_eq!(w.engine.deliver_due(&smtp, 50).unwrap().sent, 1);
    assert_eq!(smtp.attempts()[0].attempts, 1, "the stopped attempt counts");

    // One that stops every worker runs out of attempts like any other failure.
    case_for(&w, Some(maria));
    for _ in 0..6 {
        assert!(stop().is_err());
        w.clock.advance(Duration::seconds(121));
    }
    assert_eq!(w.engine.deliver_due(&smtp, 50).unwrap().dead, 1);
    assert_eq!(smtp.attempts().len(), 1);
    let dead = &w.engine.delivery_log(Some("dead"), 1).unwrap()[0];
    assert_eq!(dead.last_error.as_deref(), Some("gave up: the sender stopped during all 6 attempts"));
}

#[test]
fn a_new_case_type_version_that_drops_a_field_a_rule_uses_is_published_with_a_warning() {
    let w = world();
    let uses_serial = NotificationRule {
        body: "Serial {{ fields.serial_number }}".into(),
        ..rule("serial", Some("technical"), NotifyEvent::Created, Channel::Email, &[Recipient::Customer])
    };
    define(&w, uses_serial).unwrap();
    let source = casedesk_core::demo::CASE_TYPES.iter().find(|(f, _)| *f == "technical.toml").unwrap().1;
    let start = source.find("[[fields]]\nid = \"serial_number\"").unwrap();
    let end = start + source[start..].find("[[fields]]\nid = \"contact_phone\"").unwrap();
    let without_serial = format!("{}{}", &source[..start], &source[end..]);
    let published = w
        .engine
        .execute(&admin(), Command::PublishCaseType { file_name: "technical.toml".into(), source: without_serial })
        .unwrap();
    assert!(
        published
            .warnings
            .iter()
            .any(|m| m.contains("notification rule 'serial' no longer fits") && m.contains("fields.serial_number")),
        "{:?}",
        published.warnings
    );
}

#[test]
fn a_case_that_closes_reaches_the_supervisor_of_the_work_it_closed() {
    let w = world();
    define(&w, rule("closed", None, NotifyEvent::Closed, Channel::Desktop, &[Recipient::Supervisor])).unwrap();
    let desk = Desk::default();
    deliver(&w.engine, "sam", &desk).unwrap();
    let case = case_for(&w, None);
    let task = w.open_tasks(case).remove(0);
    w.finish(task.id, &alex(), "fixed", json!({}), None).unwrap();
    assert_eq!(w.case(case).status_category, casedesk_core::model::StatusCategory::Closed);
    assert_eq!(deliver(&w.engine, "sam", &desk).unwrap(), 1);
    assert_eq!(desk.0.lock().unwrap()[0].kind, "case_closed");
}
