//! Reports as queries: read the lives of the cases a range needs from the event log,
//! then compute the figures (`crate::reports`).

use super::Engine;
use crate::error::{Error, Result};
use crate::model::{Actor, Case, Role};
use crate::reports::tally::Tally;
use crate::reports::timeline::{CaseLife, Names};
use crate::reports::{self, Figure, ReportRange, Selection};
use crate::store::reports::LifeBatch;
use crate::store::Db;
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
    /// The same, by ISO week (named by its Monday).
    pub weekly: Vec<reports::DayVolume>,
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
        self.check_report(actor, &range)?;
        let now = self.clock().now();
        let (figures, agent_events, users) = self.with_lives(|db, names| {
            let mut tally = Tally::new(Selection::new(&range, names, now));
            each_life(db, &range, |life| tally.add(&life))?;
            let agent_events = crate::store::reports::agent_events_before(db.connection_ref(), range.to)?;
            Ok((tally.finish(), agent_events, db.users()?))
        })?;
        // Agents' time, for the agent asked about, or the members of the team asked about.
        let mut agent_time = reports::agents::agent_time(&agent_events, &range, now);
        agent_time.retain(|t| {
            range.agent.as_ref().is_none_or(|a| *a == t.user_id)
                && range.queue.as_ref().is_none_or(|q| users.iter().any(|u| u.id == t.user_id && u.teams.contains(q)))
        });
        Ok(HistoricalReport {
            sla: figures.sla,
            resolution: figures.resolution,
            time_in_status: figures.time_in_status,
            time_in_stage: figures.time_in_stage,
            weekly: reports::by_week(&figures.volume),
            volume: figures.volume,
            escalations: figures.escalations,
            work_by_agent: figures.work_by_agent,
            task_aging: figures.task_aging,
            agent_time,
            range,
        })
    }

    /// The cases behind one figure of a report (drill-down), oldest first.
    pub fn report_cases(&self, actor: &Actor, range: ReportRange, figure: &Figure) -> Result<Vec<Case>> {
        self.check_report(actor, &range)?;
        let now = self.clock().now();
        self.with_lives(|db, names| {
            let selection = Selection::new(&range, names, now);
            let mut ids = vec![];
            each_life(db, &range, |life| {
                if selection.behind(&life, figure) {
                    ids.push(life.id);
                }
            })?;
            ids.into_iter().filter_map(|id| db.case(id).transpose()).collect()
        })
    }

    /// Runs `f` on the projection of case lives, brought up to the event log first (a
    /// write of derived data only: nothing of record changes). A long catch-up (the first
    /// report on a large history) goes in windows of events, letting commands in between;
    /// the last window and `f` share one hold of the database, so `f` sees every
    /// committed event.
    fn with_lives<T>(&self, f: impl FnOnce(&Db, &Names) -> Result<T>) -> Result<T> {
        let window = self.limits.report_catch_up_window.max(1);
        loop {
            let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
            let (names, _, caught_up) = db.write(|tx| crate::store::reports::catch_up_lives(tx, window))?;
            if caught_up {
                return f(&db, &names);
            }
        }
    }

    fn check_report(&self, actor: &Actor, range: &ReportRange) -> Result<()> {
        may_read_reports(actor)?;
        if range.to <= range.from {
            return Err(Error::field("to", "must be after from"));
        }
        if (range.to - range.from).num_days() > MAX_DAYS {
            return Err(Error::field("to", format!("a report covers at most {MAX_DAYS} days")));
        }
        if let Some(agent) = &range.agent {
            if self.read(|db| db.user(agent))?.is_none() {
                return Err(Error::field("agent", format!("no user '{agent}'")));
            }
        }
        Ok(())
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

/// Calls `f` with each life a range can count, in case order. The lives are decoded and
/// counted on a second thread while this one reads the next from the store: the two
/// halves take about as long, so a report takes about half the time.
fn each_life(db: &Db, range: &ReportRange, mut f: impl FnMut(CaseLife) + Send) -> Result<()> {
    std::thread::scope(|scope| {
        let (batches, received) = std::sync::mpsc::sync_channel::<LifeBatch>(4);
        let counting = scope.spawn(move || -> Result<()> {
            for batch in received {
                for life in batch.lives() {
                    f(life?);
                }
            }
            Ok(())
        });
        // Reading stops if counting stopped (a life that would not decode).
        let read = crate::store::reports::life_batches(db.connection_ref(), range, |b| batches.send(b).is_ok());
        drop(batches);
        let counted = counting.join().map_err(|_| Error::Storage("counting a report failed".into()))?;
        read.and(counted)
    })
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
