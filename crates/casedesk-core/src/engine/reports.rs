//! Reports as queries: read the lives of the cases a range needs from the event log,
//! then compute the figures (`crate::reports`).

use super::Engine;
use crate::error::{Error, Result};
use crate::model::{Actor, Role};
use crate::reports::{self, timeline, ReportRange};
use serde::Serialize;
use ts_rs::TS;

/// The historical reports for one range.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct HistoricalReport {
    pub range: ReportRange,
    pub sla: reports::SlaAdherence,
    pub resolution: Vec<reports::ResolutionTime>,
    pub time_in_status: Vec<reports::TimeInStatus>,
    pub volume: Vec<reports::DayVolume>,
}

/// The longest range one report covers.
const MAX_DAYS: i64 = 800;

impl Engine {
    /// Supervisors and admins read the reports.
    pub fn historical_report(&self, actor: &Actor, range: ReportRange) -> Result<HistoricalReport> {
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
        let lives = self.read(|db| {
            let events = crate::store::reports::case_events_created_before(db.connection_ref(), range.to)?;
            Ok(events.chunk_by(|a, b| a.case_id == b.case_id).filter_map(timeline::case_life).collect::<Vec<_>>())
        })?;
        Ok(HistoricalReport {
            sla: reports::sla_adherence(&lives, &range),
            resolution: reports::resolution_times(&lives, &range),
            time_in_status: reports::time_in_status(&lives, &range),
            volume: reports::volume_by_day(&lives, &range),
            range,
        })
    }
}
