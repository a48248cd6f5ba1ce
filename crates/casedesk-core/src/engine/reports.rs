//! Reports as queries: read the lives of the cases a range needs from the event log,
//! then compute the figures (`crate::reports`).

use super::Engine;
use crate::error::{Error, Result};
use crate::model::{Actor, Case, Role};
use crate::reports::{self, timeline, Figure, ReportRange};
use serde::Serialize;
use ts_rs::TS;

/// The historical reports for one range.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoricalReport {
    pub range: ReportRange,
    pub sla: reports::SlaAdherence,
    pub resolution: Vec<reports::ResolutionTime>,
    pub time_in_status: Vec<reports::TimeIn>,
    pub time_in_stage: Vec<reports::TimeIn>,
    pub volume: Vec<reports::DayVolume>,
    pub escalations: Vec<reports::TypeEscalations>,
    pub work_by_agent: Vec<reports::AgentWork>,
    pub task_aging: Vec<reports::AgeBucket>,
    pub agent_time: Vec<reports::agents::AgentTime>,
}

/// The longest range one report covers.
const MAX_DAYS: i64 = 800;

impl Engine {
    /// Supervisors and admins read the reports.
    pub fn historical_report(&self, actor: &Actor, range: ReportRange) -> Result<HistoricalReport> {
        let lives = self.case_lives(actor, &range)?;
        let now = self.clock().now();
        let (agent_events, users) = self
            .read(|db| Ok((crate::store::reports::agent_events_before(db.connection_ref(), range.to)?, db.users()?)))?;
        // Agents' time, for the agent asked about, or the members of the team asked about.
        let mut agent_time = reports::agents::agent_time(&agent_events, &range, now);
        agent_time.retain(|t| {
            range.agent.as_ref().is_none_or(|a| *a == t.user_id)
                && range.queue.as_ref().is_none_or(|q| users.iter().any(|u| u.id == t.user_id && u.teams.contains(q)))
        });
        Ok(HistoricalReport {
            sla: reports::sla_adherence(&lives, &range),
            resolution: reports::resolution_times(&lives, &range),
            time_in_status: reports::time_in_status(&lives, &range, now),
            time_in_stage: reports::time_in_stage(&lives, &range, now),
            volume: reports::volume_by_day(&lives, &range),
            escalations: reports::escalations_by_type(&lives, &range),
            work_by_agent: reports::work_by_agent(&lives, &range),
            task_aging: reports::task_aging(&lives, &range, now),
            agent_time,
            range,
        })
    }

    /// The cases behind one figure of a report (drill-down), oldest first.
    pub fn report_cases(&self, actor: &Actor, range: ReportRange, figure: &Figure) -> Result<Vec<Case>> {
        let lives = self.case_lives(actor, &range)?;
        let ids = reports::cases_behind(&lives, &range, figure, self.clock().now());
        self.read(|db| ids.into_iter().filter_map(|id| db.case(id).transpose()).collect())
    }

    fn case_lives(&self, actor: &Actor, range: &ReportRange) -> Result<Vec<timeline::CaseLife>> {
        may_read_reports(actor)?;
        if range.to <= range.from {
            return Err(Error::field("to", "must be after from"));
        }
        if (range.to - range.from).num_days() > MAX_DAYS {
            return Err(Error::field("to", format!("a report covers at most {MAX_DAYS} days")));
        }
        self.read(|db| {
            if let Some(agent) = &range.agent {
                if db.user(agent)?.is_none() {
                    return Err(Error::field("agent", format!("no user '{agent}'")));
                }
            }
            let events = crate::store::reports::case_events_for(db.connection_ref(), range)?;
            Ok(events.chunk_by(|a, b| a.case_id == b.case_id).filter_map(timeline::case_life).collect())
        })
    }
}

/// The real-time board: how work stands now.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Board {
    pub at: chrono::DateTime<chrono::Utc>,
    /// Open cases by type and status.
    pub cases: Vec<BoardCount>,
    /// Open tasks by state (queued, offered, assigned, …).
    pub tasks: Vec<BoardCount>,
    /// Open tasks at risk of their OLA now, and past it.
    pub at_risk: u32,
    pub breached: u32,
    pub queues: Vec<QueueNow>,
    pub agents: Vec<AgentNow>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardCount {
    /// The case type, for cases; empty for tasks.
    pub group: String,
    pub name: String,
    pub count: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueNow {
    pub queue: String,
    pub waiting: u32,
    /// Since when the oldest waiting task waits.
    pub oldest_since: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentNow {
    pub user_id: String,
    pub presence: String,
    pub routing_status: String,
    /// Tasks offered to or held by them.
    pub load: u32,
}

impl Engine {
    /// The real-time board (supervisors and admins).
    pub fn board(&self, actor: &Actor) -> Result<Board> {
        may_read_reports(actor)?;
        let rows = self.read(|db| crate::store::reports::board(db.connection_ref()))?;
        Ok(Board {
            at: self.clock().now(),
            cases: rows.cases.into_iter().map(|(group, name, count)| BoardCount { group, name, count }).collect(),
            tasks: rows
                .tasks
                .into_iter()
                .map(|(name, count)| BoardCount { group: String::new(), name, count })
                .collect(),
            at_risk: rows.at_risk,
            breached: rows.breached,
            queues: rows
                .queues
                .into_iter()
                .map(|(queue, waiting, since)| QueueNow {
                    queue,
                    waiting,
                    oldest_since: since.map(crate::clock::from_millis),
                })
                .collect(),
            agents: rows
                .agents
                .into_iter()
                .map(|(user_id, presence, routing_status, load)| AgentNow { user_id, presence, routing_status, load })
                .collect(),
        })
    }
}

fn may_read_reports(actor: &Actor) -> Result<()> {
    if actor.has(Role::Supervisor) || actor.has(Role::Admin) {
        return Ok(());
    }
    Err(Error::Forbidden {
        actor: actor.user_id.clone(),
        action: "read reports".into(),
        rule: "reports are for supervisors and admins".into(),
    })
}
