//! Notification rules: per case type (or every type) × event × channel, with recipients
//! and the words to send. Admins define them; the engine applies them in the
//! transaction of the event (see `engine/notifications.rs`).

use super::template::{self, FieldScope};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The moments a rule can react to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NotifyEvent {
    Created,
    /// The case's fields, external id, notes or attachments changed (a customer's
    /// comment among them).
    Updated,
    AssignmentChanged,
    StatusChanged,
    AtRisk,
    Breached,
    Escalated,
    TaskCompleted,
    Closed,
}

impl NotifyEvent {
    pub const ALL: [NotifyEvent; 9] = [
        NotifyEvent::Created,
        NotifyEvent::Updated,
        NotifyEvent::AssignmentChanged,
        NotifyEvent::StatusChanged,
        NotifyEvent::AtRisk,
        NotifyEvent::Breached,
        NotifyEvent::Escalated,
        NotifyEvent::TaskCompleted,
        NotifyEvent::Closed,
    ];

    /// Which rule event an engine event is, if any: the one mapping from the event log
    /// to notification rules.
    pub fn of(event_kind: &str) -> Option<NotifyEvent> {
        Some(match event_kind {
            "case_created" => NotifyEvent::Created,
            "case_fields_updated" | "case_external_id_set" | "note_added" | "attachment_added" => NotifyEvent::Updated,
            "task_completed" => NotifyEvent::TaskCompleted,
            "task_assigned" | "task_requeued" => NotifyEvent::AssignmentChanged,
            "case_status_changed" | "case_reopened" => NotifyEvent::StatusChanged,
            "case_at_risk" | "task_at_risk" => NotifyEvent::AtRisk,
            "case_breached" | "task_breached" => NotifyEvent::Breached,
            "task_escalated" => NotifyEvent::Escalated,
            "case_closed" => NotifyEvent::Closed,
            _ => return None,
        })
    }

    /// The engine event kinds that are this rule event.
    pub fn event_kinds(self) -> &'static [&'static str] {
        match self {
            NotifyEvent::Created => &["case_created"],
            NotifyEvent::Updated => &["case_fields_updated", "case_external_id_set", "note_added", "attachment_added"],
            NotifyEvent::TaskCompleted => &["task_completed"],
            NotifyEvent::AssignmentChanged => &["task_assigned", "task_requeued"],
            NotifyEvent::StatusChanged => &["case_status_changed", "case_reopened"],
            NotifyEvent::AtRisk => &["case_at_risk", "task_at_risk"],
            NotifyEvent::Breached => &["case_breached", "task_breached"],
            NotifyEvent::Escalated => &["task_escalated"],
            NotifyEvent::Closed => &["case_closed"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::Created => "created",
            NotifyEvent::Updated => "updated",
            NotifyEvent::TaskCompleted => "task_completed",
            NotifyEvent::AssignmentChanged => "assignment_changed",
            NotifyEvent::StatusChanged => "status_changed",
            NotifyEvent::AtRisk => "at_risk",
            NotifyEvent::Breached => "breached",
            NotifyEvent::Escalated => "escalated",
            NotifyEvent::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "NotificationChannel")]
pub enum Channel {
    Desktop,
    Email,
    Sms,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Desktop => "desktop",
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Desktop, Channel::Email, Channel::Sms, Channel::Webhook].into_iter().find(|c| c.as_str() == s)
    }
}

/// Who a rule tells, resolved when the event happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Recipient {
    /// The case's customer (email or SMS only).
    Customer,
    /// The task's assignee; for a case event, the assignees of the case's open tasks.
    Assignee,
    /// The case owner.
    Owner,
    /// The supervisors of the team the task waits in or was assigned from.
    Supervisor,
    /// The agents who work the task's queue.
    QueueMembers,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NotificationRule {
    /// The admin's key for the rule, e.g. "refund-created-email".
    pub id: String,
    /// The case type it applies to; none for every case type.
    #[serde(default)]
    pub case_type: Option<String>,
    pub event: NotifyEvent,
    pub channel: Channel,
    /// Who is told (not for webhooks, which go to `webhook_url`).
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Template of the email subject or desktop title.
    #[serde(default)]
    pub subject: String,
    /// Template of the message (a webhook sends it as `message` beside the case data).
    #[serde(default)]
    pub body: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

impl NotificationRule {
    /// The rule as the event log keeps it: a webhook URL's query (often a key) hidden.
    pub fn redacted(&self) -> NotificationRule {
        let mut out = self.clone();
        out.webhook_url = out.webhook_url.as_deref().map(super::delivery::without_query);
        out
    }
}

fn enabled() -> bool {
    true
}

const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 20_000;

/// Checks a rule before it is saved: its shape per channel, and every variable its
/// templates use against `fields` (the form fields in scope).
pub fn check(rule: &NotificationRule, fields: &FieldScope) -> Result<()> {
    let id_ok = (1..=64).contains(&rule.id.len())
        && rule.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !id_ok {
        return Err(Error::field("id", "must be 1 to 64 characters of a-z, 0-9, '-' and '_'"));
    }
    match rule.channel {
        Channel::Webhook => {
            if !rule.recipients.is_empty() {
                return Err(Error::field("recipients", "a webhook goes to its URL; leave recipients empty"));
            }
            let url = rule.webhook_url.as_deref().unwrap_or_default();
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) {
                return Err(Error::field("webhook_url", "must be an http:// or https:// URL"));
            }
        }
        channel => {
            if rule.webhook_url.is_some() {
                return Err(Error::field("webhook_url", "only webhook rules have a URL"));
            }
            if rule.recipients.is_empty() {
                return Err(Error::field("recipients", "name at least one recipient"));
            }
            if channel == Channel::Desktop && rule.recipients.contains(&Recipient::Customer) {
                return Err(Error::field("recipients", "customers have no desktop; use email or SMS for them"));
            }
            if rule.body.trim().is_empty() {
                return Err(Error::field("body", "must not be empty"));
            }
        }
    }
    if matches!(rule.channel, Channel::Email | Channel::Desktop) && rule.subject.trim().is_empty() {
        return Err(Error::field("subject", format!("{} notifications need a subject", rule.channel.as_str())));
    }
    if rule.subject.chars().count() > MAX_SUBJECT || rule.subject.contains('\n') {
        return Err(Error::field("subject", format!("must be one line of at most {MAX_SUBJECT} characters")));
    }
    if rule.body.len() > MAX_BODY {
        return Err(Error::field("body", format!("must be at most {MAX_BODY} bytes")));
    }
    template::check("subject", &rule.subject, fields)?;
    template::check("body", &rule.body, fields)
}
