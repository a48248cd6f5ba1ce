//! Case types: the plan a case follows. Written by admins as TOML files
//! (see `demo/*.toml`), checked by [`load`], published as immutable versions.

mod load;

pub use load::{load_case_type, load_rule, load_rule_set, Problem, Seg};

use crate::fields::FieldDef;
use crate::model::{StatusCategory, TaskKind};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CaseTypeDef {
    /// Stable key across versions, e.g. "technical".
    pub id: String,
    pub name: String,
    /// References read PREFIX-000123.
    pub reference_prefix: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_priority")]
    pub default_priority: u8,
    pub sla: ServiceLevel,
    /// What reopening a closed case does to its SLA clock.
    #[serde(default)]
    pub sla_on_reopen: ReopenRule,
    #[serde(default)]
    pub intents: Vec<Intent>,
    /// Whether customers may open this type of case on the hub's public web form.
    #[serde(default)]
    pub web_form: bool,
    /// Customer-facing fields captured when the case is created.
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    pub statuses: StatusSet,
    pub stages: Vec<Stage>,
    /// Business rules: classification, routing requirements, timed automation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<crate::rules::Rule>,
    /// Cross-field checks of the case fields ("end date after start date").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::rules::Check>,
    /// Links to external systems, shown in the case view.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<crate::rules::LinkTemplate>,
}

fn default_priority() -> u8 {
    3
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DurationUnit {
    Minutes,
    Hours,
    Days,
}

/// Reopening a case: the SLA clock goes on where it stopped (the closed time counts as
/// paused), or starts again from the reopening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ReopenRule {
    #[default]
    Resume,
    Reset,
}

/// Whether only the calendar's open hours count, or all of the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TimeBasis {
    OpenOffice,
    Calendar,
}

/// A case SLA or a step OLA.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceLevel {
    pub duration: u32,
    pub unit: DurationUnit,
    pub time: TimeBasis,
    /// Business calendar name; required for open-office time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub calendar: Option<String>,
    /// Share of the duration after which the work counts as at risk.
    #[serde(default = "default_at_risk")]
    pub at_risk_percent: u8,
}

fn default_at_risk() -> u8 {
    80
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Intent {
    pub id: String,
    pub label: String,
    /// Example phrases, for intent suggestion.
    #[serde(default)]
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct StatusSet {
    /// Status of a new case.
    pub initial: String,
    /// Status the case takes when its plan completes or an outcome closes it.
    pub on_complete: String,
    #[serde(rename = "status")]
    pub list: Vec<StatusDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct StatusDef {
    pub id: String,
    pub label: String,
    pub category: StatusCategory,
    /// Statuses a person may move the case to from this one.
    #[serde(default)]
    pub next: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Stage {
    pub id: String,
    pub name: String,
    /// All steps start together and the stage ends when all are done; otherwise one
    /// step after another.
    #[serde(default)]
    pub parallel: bool,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Step {
    pub id: String,
    pub name: String,
    pub kind: TaskKind,
    #[serde(default)]
    pub instructions: String,
    /// Queue or group the task is routed to.
    pub queue: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub priority: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ola: Option<ServiceLevel>,
    /// Where the task goes when it escalates (level 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub escalation: Option<String>,
    /// Where it goes when it escalates again: level 2, 3, … The chain's end is reported,
    /// never looped.
    #[serde(default)]
    pub escalation_chain: Vec<String>,
    /// The form a `form` task fills in.
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    /// Cross-field checks of the form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::rules::Check>,
    /// Skills the task needs, with the minimum proficiency (0–5).
    #[serde(default)]
    pub skills: std::collections::BTreeMap<String, u8>,
    /// Language the task needs (e.g. "de").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub language: Option<String>,
    pub outcomes: Vec<Outcome>,
}

/// A wrap-up code and where it leads.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Outcome {
    pub code: String,
    pub label: String,
    pub then: Then,
    /// Target step of `send_back` and `goto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub step: Option<String>,
    /// Closed status for `close` (default: the type's `on_complete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub status: Option<String>,
    #[serde(default)]
    pub reason_required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Then {
    /// The next step, or the next stage, or completion of the plan.
    Next,
    Close,
    Escalate,
    /// Back to a named earlier step, to the person who did it (verification).
    SendBack,
    /// On to any named step.
    Goto,
}

impl CaseTypeDef {
    pub fn status(&self, id: &str) -> Option<&StatusDef> {
        self.statuses.list.iter().find(|s| s.id == id)
    }

    /// (stage index, step index) of a step.
    pub fn locate_step(&self, step_id: &str) -> Option<(usize, usize)> {
        self.stages
            .iter()
            .enumerate()
            .find_map(|(si, st)| st.steps.iter().position(|s| s.id == step_id).map(|pi| (si, pi)))
    }

    pub fn step(&self, step_id: &str) -> Option<&Step> {
        self.locate_step(step_id).map(|(si, pi)| &self.stages[si].steps[pi])
    }
}

impl Step {
    /// The escalation target for a task at `level` (1 = first escalation); none past the
    /// end of the chain.
    pub fn escalation_target(&self, level: u32) -> Option<&String> {
        match level {
            0 => None,
            1 => self.escalation.as_ref(),
            n => self.escalation_chain.get(n as usize - 2),
        }
    }
}

/// A published, immutable version of a case type.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseTypeVersion {
    pub version: u32,
    pub definition: CaseTypeDef,
    pub published_at: chrono::DateTime<chrono::Utc>,
    pub published_by: String,
}
