//! Business rules: admin-written data that classifies cases, sets the routing
//! requirements and priority of tasks, and acts as dates approach. A rule is a condition
//! in a sandboxed expression language ([`expr`]) and a list of actions. Case types carry
//! their own rules; a workspace-wide rule set applies to every type. The engine applies
//! them in `engine/automation/`.

mod check;
pub mod expr;

pub use check::{
    check_checks, check_links, check_rule, check_rules, variables, RuleProblem, Scope, CASE_VARIABLES, TASK_VARIABLE,
};

use crate::notify::rules::{Channel, Recipient};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "BusinessRule")]
pub struct Rule {
    /// The admin's key, unique within its file.
    pub id: String,
    #[serde(default)]
    pub label: String,
    pub on: Trigger,
    /// The condition; the rule acts when it is true. Empty means always.
    #[serde(rename = "if", default)]
    pub condition: String,
    /// For timed rules: when they look at their subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub timer: Option<TimerSpec>,
    pub actions: Vec<Action>,
}

/// When a rule is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "RuleTrigger")]
pub enum Trigger {
    /// A case is being created (any path: desktop, API, web form): classification.
    CaseCreated,
    /// A task is being created, before it is routed: its routing requirements.
    TaskCreated,
    /// At an instant relative to a date of the case or task (see [`TimerSpec`]).
    Timer,
}

/// A timed rule's instant: `from` an anchor, `after` or `before` it by an offset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "RuleTimer")]
pub struct TimerSpec {
    pub from: Anchor,
    /// For `case_field`: the date field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub after: Option<Offset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub before: Option<Offset>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "RuleAnchor")]
pub enum Anchor {
    CaseCreated,
    /// When the case entered its current status (e.g. Waiting on the customer).
    StatusEntered,
    /// The case's SLA due instant.
    CaseDue,
    /// A date field of the case (midnight UTC of that day).
    CaseField,
    TaskCreated,
    /// The task's OLA due instant.
    TaskDue,
}

impl Anchor {
    /// Whether the rule's subject is a task (else the case).
    pub fn is_task(self) -> bool {
        matches!(self, Anchor::TaskCreated | Anchor::TaskDue)
    }
}

/// A calendar-time offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "RuleOffset")]
pub struct Offset {
    #[serde(default)]
    pub days: u32,
    #[serde(default)]
    pub hours: u32,
    #[serde(default)]
    pub minutes: u32,
}

impl Offset {
    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.days))
            + chrono::Duration::hours(i64::from(self.hours))
            + chrono::Duration::minutes(i64::from(self.minutes))
    }
}

impl TimerSpec {
    /// The signed offset from the anchor.
    pub fn offset(&self) -> chrono::Duration {
        self.after.unwrap_or_default().duration() - self.before.unwrap_or_default().duration()
    }
}

/// A text an action uses: written as is, or computed by an expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export, rename = "RuleText")]
pub enum Text {
    Literal(String),
    Expr { expr: String },
}

/// What a rule does. Which actions fit which trigger is checked when the rule is saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[ts(export, rename = "RuleAction")]
pub enum Action {
    /// Creation only: the case is created as this type instead.
    SetCaseType(String),
    /// Creation only.
    SetIntent(String),
    /// The case's priority (case rules) or the task's (task rules), 1 highest to 5.
    SetPriority(u8),
    /// Raise the priority by this many levels (never above 1).
    RaisePriority(u8),
    SetOwner(Text),
    /// Task creation: a skill the agent needs, with the minimum proficiency (0–5).
    RequireSkill {
        skill: String,
        min: u8,
    },
    /// Task creation: the language the agent must speak.
    RequireLanguage(Text),
    /// Task creation: the queue or workbin the task goes to.
    RouteTo(Text),
    /// Task creation: the agent considered first (during the queue's preferred window).
    PreferAgent(Text),
    /// Tell people (or the customer, by email or SMS) through the notification outbox.
    Notify {
        recipients: Vec<Recipient>,
        #[serde(default = "desktop")]
        channel: Channel,
        #[serde(default)]
        subject: String,
        body: String,
    },
    /// Timed rules: move the case to a status, as a person could (allowed transitions).
    ChangeStatus {
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reason: Option<String>,
    },
    /// Timed rules: close the case (its open tasks are cancelled).
    CloseCase {
        /// A closed status; default the type's `on_complete`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        status: Option<String>,
        reason: String,
    },
    AddNote(String),
}

fn desktop() -> Channel {
    Channel::Desktop
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::SetCaseType(_) => "set_case_type",
            Action::SetIntent(_) => "set_intent",
            Action::SetPriority(_) => "set_priority",
            Action::RaisePriority(_) => "raise_priority",
            Action::SetOwner(_) => "set_owner",
            Action::RequireSkill { .. } => "require_skill",
            Action::RequireLanguage(_) => "require_language",
            Action::RouteTo(_) => "route_to",
            Action::PreferAgent(_) => "prefer_agent",
            Action::Notify { .. } => "notify",
            Action::ChangeStatus { .. } => "change_status",
            Action::CloseCase { .. } => "close_case",
            Action::AddNote(_) => "add_note",
        }
    }

    /// A `notify` action as the notification rule it sends through (same recipients,
    /// channels and template checks). The rule's event is not used: the rule sends
    /// when its business rule acts.
    pub fn as_notification_rule(
        &self,
        id: String,
        case_type: Option<String>,
    ) -> Option<crate::notify::NotificationRule> {
        let Action::Notify { recipients, channel, subject, body } = self else { return None };
        Some(crate::notify::NotificationRule {
            id,
            case_type,
            event: crate::notify::NotifyEvent::StatusChanged,
            channel: *channel,
            recipients: recipients.clone(),
            webhook_url: None,
            subject: subject.clone(),
            body: body.clone(),
            enabled: true,
        })
    }

    /// The subjects the action can act on: (case at creation, task at creation, timed
    /// case, timed task).
    fn fits(&self, on: Trigger, task_subject: bool) -> bool {
        use Action::*;
        match (on, task_subject) {
            (Trigger::CaseCreated, _) => matches!(
                self,
                SetCaseType(_)
                    | SetIntent(_)
                    | SetPriority(_)
                    | RaisePriority(_)
                    | SetOwner(_)
                    | Notify { .. }
                    | AddNote(_)
            ),
            (Trigger::TaskCreated, _) => matches!(
                self,
                SetPriority(_)
                    | RaisePriority(_)
                    | RequireSkill { .. }
                    | RequireLanguage(_)
                    | RouteTo(_)
                    | PreferAgent(_)
                    | Notify { .. }
                    | AddNote(_)
            ),
            (Trigger::Timer, false) => matches!(
                self,
                SetPriority(_)
                    | RaisePriority(_)
                    | SetOwner(_)
                    | Notify { .. }
                    | ChangeStatus { .. }
                    | CloseCase { .. }
                    | AddNote(_)
            ),
            (Trigger::Timer, true) => matches!(
                self,
                SetPriority(_) | RaisePriority(_) | Notify { .. } | ChangeStatus { .. } | CloseCase { .. } | AddNote(_)
            ),
        }
    }
}

/// A cross-field check of a form: when `field` has a value, `rule` must be true, or the
/// value is refused with `message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export, rename = "FieldCheck")]
pub struct Check {
    pub field: String,
    pub rule: String,
    pub message: String,
}

/// A link to an external system, shown in the case view and opened in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LinkTemplate {
    pub label: String,
    /// A template with the notification templates' variables, e.g.
    /// `https://crm.example/customer/{{ customer.external_id }}`.
    pub url: String,
}

/// The workspace-wide rules: a file of `[[rules]]` that apply to every case type.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct RuleSet {
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// What a rule did or would do, in words, for the case history and the dry run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleEffect {
    pub action: String,
    pub detail: String,
}

/// The most rules one file may hold.
pub const MAX_RULES: usize = 500;
/// The most actions one rule may have.
pub const MAX_ACTIONS: usize = 20;
