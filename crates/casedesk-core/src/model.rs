//! The domain's records as the engine hands them out (and as the UI sees them, via ts-rs).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

/// Who executes a command. Authentication happens outside the engine (the shell knows
/// its logged-in user, the hub checks tokens); the engine checks what the roles allow.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Actor {
    pub user_id: String,
    pub roles: Vec<Role>,
}

impl Actor {
    pub fn new(user_id: impl Into<String>, roles: &[Role]) -> Self {
        Actor { user_id: user_id.into(), roles: roles.to_vec() }
    }
    /// The engine itself (plan progression, timers); allowed everything.
    pub fn system() -> Self {
        Actor { user_id: "system".into(), roles: vec![Role::Admin, Role::Supervisor, Role::Agent] }
    }
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub teams: Vec<String>,
    /// Where email and SMS notifications reach them.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StatusCategory {
    Open,
    InProgress,
    Waiting,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TaskKind {
    Approval,
    Form,
    Generic,
}

/// queued → offered → assigned → in_progress → completed | escalated | cancelled,
/// with waiting beside in_progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TaskState {
    Queued,
    Offered,
    Assigned,
    InProgress,
    Waiting,
    Completed,
    Escalated,
    Cancelled,
}

impl TaskState {
    pub fn is_open(self) -> bool {
        !matches!(self, TaskState::Completed | TaskState::Escalated | TaskState::Cancelled)
    }

    /// The task state machine: the one place that says which moves are legal.
    pub fn can_move_to(self, to: TaskState) -> bool {
        use TaskState::*;
        match (self, to) {
            (Queued, Offered | Assigned) => true,
            (Offered, Assigned | Queued) => true,
            (Assigned, InProgress | Queued | Assigned) => true,
            (InProgress, Waiting | Queued | Assigned) => true,
            (Waiting, InProgress) => true,
            (Assigned | InProgress | Waiting, Completed) => true,
            // Late work escalates whether or not anyone has picked it up.
            (Queued | Offered | Assigned | InProgress | Waiting, Escalated) => true,
            (from, Cancelled) => from.is_open(),
            _ => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Queued => "queued",
            TaskState::Offered => "offered",
            TaskState::Assigned => "assigned",
            TaskState::InProgress => "in_progress",
            TaskState::Waiting => "waiting",
            TaskState::Completed => "completed",
            TaskState::Escalated => "escalated",
            TaskState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TaskState> {
        use TaskState::*;
        [Queued, Offered, Assigned, InProgress, Waiting, Completed, Escalated, Cancelled]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

impl StatusCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCategory::Open => "open",
            StatusCategory::InProgress => "in_progress",
            StatusCategory::Waiting => "waiting",
            StatusCategory::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<StatusCategory> {
        use StatusCategory::*;
        [Open, InProgress, Waiting, Closed].into_iter().find(|c| c.as_str() == s)
    }
}

/// Priority 1 (highest) to 5 (lowest), as contact centres count it.
pub type Priority = u8;

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Case {
    pub id: Uuid,
    pub reference: String,
    pub case_type: String,
    pub type_version: u32,
    pub type_name: String,
    pub status: String,
    pub status_category: StatusCategory,
    pub stage: Option<String>,
    pub priority: Priority,
    pub owner: Option<String>,
    pub customer_id: Option<Uuid>,
    pub intent: Option<String>,
    pub subject: String,
    pub description: String,
    #[ts(type = "Record<string, unknown>")]
    pub fields: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The case SLA's clock (none if the case type's calendar was missing when it began).
    pub sla: Option<SlaClock>,
    /// The case's id in an outside system (a CRM), unique in the workspace.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// A running service-level clock: when it began, how long it was paused, and the
/// instants it is due and at risk (none while paused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaClock {
    pub started_at: DateTime<Utc>,
    /// Paused time so far, in the clock's own kind of time (open-office or calendar), ms.
    pub paused_ms: i64,
    pub paused_since: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub at_risk_at: Option<DateTime<Utc>>,
    /// Whether reaching the at-risk and due instants has been recorded (once each).
    #[serde(default)]
    pub at_risk_noted: bool,
    #[serde(default)]
    pub breach_noted: bool,
}

impl SlaClock {
    /// The next instant a timer must act on: at risk, then due; none when paused or done.
    pub fn next_timer(&self) -> Option<DateTime<Utc>> {
        if self.paused_since.is_some() {
            return None;
        }
        match (self.at_risk_noted, self.breach_noted) {
            (false, _) => self.at_risk_at,
            (true, false) => self.due_at,
            (true, true) => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: Uuid,
    pub case_id: Uuid,
    pub stage: String,
    pub step: String,
    pub name: String,
    pub kind: TaskKind,
    pub state: TaskState,
    pub queue: Option<String>,
    pub assignee: Option<String>,
    pub priority: Priority,
    pub escalation_level: u32,
    pub outcome: Option<String>,
    #[ts(type = "Record<string, unknown>")]
    pub form_values: Map<String, Value>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// What routing needs of the agent: skills with minimum proficiency, a language.
    pub requirements: crate::routing::Requirements,
    /// The agent the task is offered to right now (one at a time), and until when.
    pub offered_to: Option<String>,
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// Considered first for the queue's preferred-agent window (the case owner).
    pub preferred_agent: Option<String>,
    /// When the task entered its current queue (for waiting time and bullseye rings).
    pub queued_at: Option<DateTime<Utc>>,
    /// Its place in the queue's order (`routing::rank`), kept for the queue's index.
    #[serde(skip)]
    #[ts(skip)]
    pub route_rank: Option<i64>,
    /// The task's OLA (from its step, or as a supervisor changed it) and its clock.
    pub ola: Option<crate::casetype::ServiceLevel>,
    pub ola_clock: Option<SlaClock>,
    /// The agent who has the task open on screen now: a breach escalates it only when
    /// they close it unfinished.
    pub on_screen_by: Option<String>,
    /// When routing should look at this waiting task again (`routing::next_widening`).
    #[serde(skip)]
    #[ts(skip)]
    pub reroute_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
    #[ts(type = "Record<string, unknown>")]
    pub extra: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    Voice,
    Email,
    Chat,
    Sms,
    Web,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interaction {
    pub id: Uuid,
    pub channel: Channel,
    pub external_id: Option<String>,
    pub customer_id: Option<Uuid>,
    pub summary: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    pub id: Uuid,
    pub case_id: Uuid,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: Uuid,
    pub case_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

/// One change, written in the same transaction as the state it describes.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub seq: i64,
    pub case_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub kind: String,
    #[ts(type = "unknown")]
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub before: Value,
    #[ts(type = "unknown")]
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub after: Value,
}

/// Everything the case view shows, read in one query round.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseDetail {
    pub case: Case,
    pub tasks: Vec<Task>,
    pub customer: Option<Customer>,
    pub notes: Vec<Note>,
    pub attachments: Vec<Attachment>,
    pub interactions: Vec<Interaction>,
    pub history: Vec<Event>,
    /// The case type's links to external systems, filled in for this case.
    pub links: Vec<CaseLink>,
    /// The step of each open task, as the case's type version defines it: what working
    /// the task needs (instructions, kind, form, outcomes).
    pub open_steps: Vec<OpenStep>,
    /// The stages of the case's plan, in order (for its progress).
    pub stages: Vec<StageName>,
    /// Who the case's customer is when they write a note or add a file in the status
    /// portal (the `author`/`added_by` to show as the customer).
    #[serde(default)]
    pub customer_author: Option<String>,
    /// Who stands for the hub's web form on this case, when the customer sent the case
    /// through it (the `actor`/`added_by` to show as the customer's form).
    #[serde(default)]
    pub web_form_author: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageName {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenStep {
    pub task_id: Uuid,
    /// A step of the case type (see the case-type guide).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub step: crate::casetype::Step,
}

/// A link to an external system, ready to open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseLink {
    pub label: String,
    pub url: String,
}

/// A row of the case list.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseSummary {
    pub id: Uuid,
    pub reference: String,
    pub case_type: String,
    pub type_name: String,
    pub status: String,
    pub status_category: StatusCategory,
    pub stage: Option<String>,
    pub priority: Priority,
    pub subject: String,
    pub customer_name: Option<String>,
    pub open_tasks: u32,
    pub updated_at: DateTime<Utc>,
}

/// A task as the agent's desk lists it: with its case's reference and subject.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeskTask {
    pub task: Task,
    pub case_reference: String,
    pub case_subject: String,
}

/// A page of a workbin's open work, and how many tasks it holds in all.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkbinPage {
    pub total: u32,
    pub offset: u32,
    pub tasks: Vec<DeskTask>,
}

/// What routing shows one agent: their state, the offer waiting for them, their work.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AgentDesk {
    pub agent: Option<crate::routing::Agent>,
    pub offers: Vec<DeskTask>,
    pub work: Vec<DeskTask>,
    /// The engine's clock, so a countdown agrees with the engine's deadline.
    pub now: DateTime<Utc>,
}

/// Who is signed in on this desk and where the workspace lives.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WorkspaceInfo {
    pub user: User,
    pub data_dir: String,
    pub schema_version: i64,
    /// "standalone" until a hub is configured.
    pub mode: String,
}

#[cfg(test)]
mod tests {
    use super::TaskState::*;

    #[test]
    fn finished_tasks_never_move() {
        for from in [Completed, Escalated, Cancelled] {
            for to in [Queued, Offered, Assigned, InProgress, Waiting, Completed, Escalated, Cancelled] {
                assert!(!from.can_move_to(to), "{from:?} -> {to:?}");
            }
        }
        assert!(!Queued.can_move_to(Completed), "a task must be assigned before it completes");
    }
}
