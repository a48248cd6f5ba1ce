use crate::model::TaskKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Presence {
    Available,
    Busy,
    Away,
    Break,
    Meal,
    Meeting,
    Training,
    Offline,
}

/// Derived from presence, On/Off Queue, load and missed offers; never set directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[ts(export)]
pub enum RoutingStatus {
    OffQueue,
    Idle,
    Interacting,
    NotResponding,
}

/// How many tasks an agent works at once: in all, and per task kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Capacity {
    pub total: u32,
    #[serde(default)]
    pub per_kind: BTreeMap<TaskKind, u32>,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity { total: 3, per_kind: BTreeMap::new() }
    }
}

/// What an admin sets about an agent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AgentProfile {
    /// Skill → proficiency 0–5.
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub capacity: Capacity,
    /// Queues (and team workbins) whose work the agent receives or pulls.
    #[serde(default)]
    pub queues: Vec<String>,
}

/// An agent's routing state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Agent {
    pub user_id: String,
    pub presence: Presence,
    /// A finer label under the presence (e.g. "Lunch" under Meal), from the admin's list.
    pub secondary: Option<String>,
    pub on_queue: bool,
    /// Set by a declined or missed offer; cleared when the agent makes themselves ready.
    pub not_responding: bool,
    pub routing_status: RoutingStatus,
    pub profile: AgentProfile,
    pub last_assigned_at: Option<DateTime<Utc>>,
    /// Tasks offered or assigned and not finished, per kind.
    pub load: BTreeMap<TaskKind, u32>,
    /// Offers waiting for this agent's answer (one alert at a time).
    pub pending_offers: u32,
}

impl Agent {
    pub fn total_load(&self) -> u32 {
        self.load.values().sum()
    }

    /// Whether routing may offer this agent work at all.
    pub fn ready(&self) -> bool {
        self.on_queue && self.presence == Presence::Available && !self.not_responding
    }

    /// Whether routing may push an offer now: ready, and not already alerted.
    pub fn can_be_offered(&self) -> bool {
        self.ready() && self.pending_offers == 0
    }

    /// Room for one more task of this kind.
    pub fn has_room_for(&self, kind: TaskKind) -> bool {
        let cap = &self.profile.capacity;
        self.total_load() < cap.total
            && cap.per_kind.get(&kind).is_none_or(|max| self.load.get(&kind).copied().unwrap_or(0) < *max)
    }

    pub fn derived_status(&self) -> RoutingStatus {
        if !self.on_queue || self.presence != Presence::Available {
            RoutingStatus::OffQueue
        } else if self.not_responding {
            RoutingStatus::NotResponding
        } else if self.total_load() > 0 {
            RoutingStatus::Interacting
        } else {
            RoutingStatus::Idle
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum QueueMode {
    /// Routing offers tasks to ready agents.
    Push,
    /// A team workbin: agents take tasks themselves.
    Pull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SkillEvaluation {
    /// Only agents with every required skill at its minimum.
    AllSkillsMatching,
    /// Every required skill, and the highest total proficiency wins.
    BestAvailableSkills,
    /// Skills are ignored; the longest-idle agent wins.
    IgnoreSkills,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum QueueOrdering {
    /// Priority first, with waiting time raising a task: `wait_minutes_per_priority`
    /// minutes of waiting count as one priority level.
    PriorityPlusWait,
    StrictPriority,
}

/// A bullseye ring: after `after_seconds` of waiting, the requirements relax.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Ring {
    pub after_seconds: u32,
    /// Lower every required proficiency by this much.
    #[serde(default)]
    pub relax_proficiency: u8,
    /// Stop requiring these skills.
    #[serde(default)]
    pub drop_skills: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct QueueConfig {
    pub id: String,
    pub name: String,
    pub mode: QueueMode,
    #[serde(default = "default_evaluation")]
    pub skill_evaluation: SkillEvaluation,
    #[serde(default = "default_ordering")]
    pub ordering: QueueOrdering,
    #[serde(default = "default_wait_minutes")]
    pub wait_minutes_per_priority: u32,
    #[serde(default)]
    pub rings: Vec<Ring>,
    /// How long the preferred agent (case owner, original advisor) is waited for.
    #[serde(default)]
    pub preferred_agent_seconds: u32,
    /// How long an offer stays open before it counts as missed.
    #[serde(default = "default_alert_timeout")]
    pub alert_timeout_seconds: u32,
    /// A declined or missed offer also takes the agent Off Queue.
    #[serde(default)]
    pub off_queue_when_not_responding: bool,
    /// Pull queues: agents may only take the next-best task, not choose one.
    #[serde(default)]
    pub no_cherry_picking: bool,
}

fn default_evaluation() -> SkillEvaluation {
    SkillEvaluation::AllSkillsMatching
}
fn default_ordering() -> QueueOrdering {
    QueueOrdering::PriorityPlusWait
}
fn default_wait_minutes() -> u32 {
    60
}
fn default_alert_timeout() -> u32 {
    30
}

impl QueueConfig {
    /// A queue nobody defined: a team workbin with the defaults.
    pub fn pull(id: &str) -> QueueConfig {
        QueueConfig {
            id: id.to_string(),
            name: id.to_string(),
            mode: QueueMode::Pull,
            skill_evaluation: default_evaluation(),
            ordering: default_ordering(),
            wait_minutes_per_priority: default_wait_minutes(),
            rings: vec![],
            preferred_agent_seconds: 0,
            alert_timeout_seconds: default_alert_timeout(),
            off_queue_when_not_responding: false,
            no_cherry_picking: false,
        }
    }
}

/// Every agent's own workbin: a pull queue only they take from, where a supervisor (or
/// the agent) can park work for them.
pub fn personal_workbin(user_id: &str) -> String {
    format!("personal:{user_id}")
}

impl AgentProfile {
    /// Whether the agent receives or takes work from this queue or workbin.
    pub fn works_in(&self, user_id: &str, queue: &str) -> bool {
        self.queues.iter().any(|q| q == queue) || queue == personal_workbin(user_id)
    }
}

/// What a task needs of the agent who gets it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Requirements {
    pub skills: BTreeMap<String, u8>,
    pub language: Option<String>,
}
