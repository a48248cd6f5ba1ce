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
    pub time_in_status: Vec<reports::TimeInStatus>,
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
        let agent_events = self.read(|db| crate::store::reports::agent_events_before(db.connection_ref(), range.to))?;
        Ok(HistoricalReport {
            sla: reports::sla_adherence(&lives, &range),
            resolution: reports::resolution_times(&lives, &range),
            time_in_status: reports::time_in_status(&lives, &range, now),
            volume: reports::volume_by_day(&lives, &range),
            escalations: reports::escalations_by_type(&lives, &range),
            work_by_agent: reports::work_by_agent(&lives, &range),
            task_aging: reports::task_aging(&lives, &range, now),
            agent_time: reports::agents::agent_time(&agent_events, &range, now),
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
        if !(actor.has(Role::Supervisor) || actor.has(Role::Admin)) {
            return Err(Error::Forbidden {
                actor: actor.user_id.clone(),
                action: "read reports".into(),
                rule: "reports are for supervisors and admins".into(),
            });
        }
        if range.to <= range.from {
            return Err(Error::field("to", "must be after from"));
        }
        if (range.to - range.from).num_days() > MAX_DAYS {
            return Err(Error::field("to", format!("a report covers at most {MAX_DAYS} days")));
        }
        self.read(|db| {
            let events = crate::store::reports::case_events_created_before(db.connection_ref(), range.to)?;
            Ok(events.chunk_by(|a, b| a.case_id == b.case_id).filter_map(timeline::case_life).collect())
        })
    }
}
