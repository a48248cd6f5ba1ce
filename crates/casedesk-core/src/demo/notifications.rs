//! The demo's notification set-up: the team's addresses and a few rules, so the
//! notification screen shows how rules read. No SMTP server is configured: email waits
//! until an admin sets one.

use crate::command::Command;
use crate::error::Result;
use crate::model::Actor;
use crate::notify::{Channel, NotificationRule, NotifyEvent, Recipient};
use crate::Engine;

pub fn rules() -> Vec<NotificationRule> {
    let rule = |id: &str, event, channel, recipients: &[Recipient], subject: &str, body: &str| NotificationRule {
        id: id.into(),
        case_type: None,
        event,
        channel,
        recipients: recipients.to_vec(),
        webhook_url: None,
        subject: subject.into(),
        body: body.into(),
        enabled: true,
    };
    vec![
        rule(
            "customer-case-created",
            NotifyEvent::Created,
            Channel::Email,
            &[Recipient::Customer],
            "Your case {{ case.reference }}: {{ case.subject }}",
            "Dear {{ customer.name }},\n\nwe have registered your {{ case.type }} case {{ case.reference }} on \
             {{ case.created }}. We aim to resolve it within {{ case.sla }} {{ case.sla_unit }} \
             ({{ case.sla_kind }} time), by {{ case.target }}.\n\nPlease quote {{ case.reference }} when you \
             contact us.",
        ),
        rule(
            "supervisor-task-breached",
            NotifyEvent::Breached,
            Channel::Desktop,
            &[Recipient::Supervisor],
            "Breached in your team: {{ task.name }}",
            "{{ case.reference }} ({{ case.type }}), assigned to {{ task.assignee }}",
        ),
        rule(
            "owner-case-closed",
            NotifyEvent::Closed,
            Channel::Desktop,
            &[Recipient::Owner],
            "Your case {{ case.reference }} is closed",
            "{{ case.subject }}: {{ case.status }}",
        ),
    ]
}

pub fn configure(engine: &Engine) -> Result<()> {
    let system = Actor::system();
    for (user, _, _, _) in super::USERS {
        let email = Some(format!("{user}@casedesk.example"));
        engine.execute(&system, Command::SetUserContact { user_id: user.to_string(), email, phone: None })?;
    }
    for rule in rules() {
        engine.execute(&system, Command::DefineNotificationRule { rule })?;
    }
    Ok(())
}
