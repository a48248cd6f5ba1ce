//! Historical reports, computed from the event log and nothing else, so the desktop and
//! the hub give the same figures. `timeline` reads each case's events into its life
//! (kept up to date as a projection, `store/reports.rs`); a [`tally::Tally`] adds the
//! lives of a range one at a time into every figure; `drill` lists the cases behind one.
//!
//! Definitions (one place):
//! - A case is within its SLA if it closed without its SLA being breached; a task within
//!   its OLA if it was completed or escalated without its OLA being breached (cancelled
//!   tasks do not count). Breaches are counted where they happened, when recorded.
//! - Resolution time is creation to the last close, in calendar time, for cases closed in
//!   the range; percentiles are nearest-rank.
//! - Time in status, in stage (and in presence) counts the parts of each stay inside the
//!   range, up to now, while the case was not closed.
//! - Days are UTC days; the backlog is the cases open at the end of a day.
//! - Filters: a case is selected by its type and intent, and by a queue (team) or agent
//!   when any of its tasks waited in that queue or was held by that agent; task figures
//!   (OLA, breaches, escalations, reassignments, work, aging) count only the matching tasks.

pub mod agents;
pub mod csv_export;
pub mod drill;
pub mod tally;
pub mod timeline;

pub use drill::Figure;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use timeline::{CaseLife, Ms, Names, Sym, TaskLife};
use ts_rs::TS;

/// Which cases a report looks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportRange {
    pub from: DateTime<Utc>,
    /// The end (exclusive); time is counted up to now at most.
    pub to: DateTime<Utc>,
    #[serde(default)]
    pub case_type: Option<String>,
    #[serde(default)]
    pub intent: Option<String>,
    /// A queue or team workbin (a team's work is its queue's).
    #[serde(default)]
    pub queue: Option<String>,
    /// An agent (user id).
    #[serde(default)]
    pub agent: Option<String>,
}

impl ReportRange {
    /// The whole range, no filters.
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        ReportRange { from, to, case_type: None, intent: None, queue: None, agent: None }
    }
}

/// A filter on a name: none (everything), or the name's symbol (none if no life ever
/// named it, so nothing matches).
type Filter = Option<Option<Sym>>;

fn filter(names: &Names, name: &Option<String>) -> Filter {
    name.as_ref().map(|n| names.find(n))
}

fn matches(f: Filter, value: Option<Sym>) -> bool {
    f.is_none_or(|want| want.is_some() && want == value)
}

/// A range with its instants in milliseconds and its filters as symbols: what decides
/// which cases and tasks a figure counts.
pub struct Selection<'n> {
    pub from: Ms,
    pub to: Ms,
    /// Time is counted up to here: the range's end, or now if sooner.
    pub end: Ms,
    case_type: Filter,
    intent: Filter,
    queue: Filter,
    agent: Filter,
    pub names: &'n Names,
}

impl<'n> Selection<'n> {
    pub fn new(range: &ReportRange, names: &'n Names, now: DateTime<Utc>) -> Self {
        let (from, to) = (range.from.timestamp_millis(), range.to.timestamp_millis());
        Selection {
            from,
            to,
            end: to.min(now.timestamp_millis()),
            case_type: filter(names, &range.case_type),
            intent: filter(names, &range.intent),
            queue: filter(names, &range.queue),
            agent: filter(names, &range.agent),
            names,
        }
    }

    pub fn covers(&self, at: Ms) -> bool {
        self.from <= at && at < self.to
    }

    /// By its type and intent, and by a queue or agent when one of its tasks matches.
    pub fn selects(&self, c: &CaseLife) -> bool {
        matches(self.case_type, Some(c.case_type))
            && matches(self.intent, c.intent)
            && (self.queue.is_none() && self.agent.is_none() || c.tasks.iter().any(|t| self.selects_task(t)))
    }

    /// Whether a task of a selected case counts in the task figures.
    pub fn selects_task(&self, t: &TaskLife) -> bool {
        self.queue.is_none_or(|q| q.is_some_and(|q| t.queues.contains(&q)))
            && self.agent.is_none_or(|a| a.is_some_and(|a| t.holders.contains(&a)))
    }

    /// Whether the figures of one agent are asked for, and this is another.
    fn other_agent(&self, who: Sym) -> bool {
        self.agent.is_some_and(|a| a != Some(who))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepCount {
    pub stage: String,
    pub step: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaAdherence {
    pub cases_closed: u32,
    pub cases_within_sla: u32,
    /// None when no case closed in the range.
    pub case_percent: Option<f64>,
    pub tasks_finished: u32,
    pub tasks_within_ola: u32,
    pub task_percent: Option<f64>,
    /// Where the OLA breaches recorded in the range happened, most first.
    pub breaches_by_step: Vec<StepCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolutionTime {
    pub case_type: String,
    pub cases: u32,
    pub mean_hours: f64,
    pub p50_hours: f64,
    pub p90_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeIn {
    /// The status, or the stage.
    pub name: String,
    pub total_hours: f64,
    /// Cases that spent time in it within the range.
    pub cases: u32,
    pub mean_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayVolume {
    pub day: NaiveDate,
    pub opened: u32,
    /// Closings that day (a case reopened and closed again counts twice).
    pub closed: u32,
    /// Cases open at the end of the day.
    pub backlog: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TypeEscalations {
    pub case_type: String,
    pub manual: u32,
    pub automatic: u32,
    /// Tasks given to another agent after they had one.
    pub reassignments: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentWork {
    pub user_id: String,
    pub tasks_completed: u32,
    /// Tasks they escalated by hand.
    pub escalations: u32,
    /// Tasks they held that the timer service escalated (their OLA ran out).
    pub auto_escalated: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgeBucket {
    /// e.g. "under 1 h", "1–8 h", "8–24 h", "1–3 days", "over 3 days".
    pub label: String,
    pub tasks: u32,
}

/// Days added up by ISO week (each week named by its Monday, counting only the range's
/// days in it); a week's backlog is that of its last day in the range.
pub fn by_week(days: &[DayVolume]) -> Vec<DayVolume> {
    use chrono::Datelike;
    let mut weeks: Vec<DayVolume> = vec![];
    for d in days {
        let monday = d.day - chrono::Days::new(u64::from(d.day.weekday().num_days_from_monday()));
        match weeks.last_mut().filter(|w| w.day == monday) {
            Some(w) => {
                w.opened += d.opened;
                w.closed += d.closed;
                w.backlog = d.backlog;
            }
            None => weeks.push(DayVolume { day: monday, ..d.clone() }),
        }
    }
    weeks
}

/// Open tasks are put in these age buckets (upper bounds in hours), then "over 3 days".
const AGES: &[(&str, i64)] = &[("under 1 h", 1), ("1–8 h", 8), ("8–24 h", 24), ("1–3 days", 72)];
const OVER_AGES: &str = "over 3 days";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn hours(ms: i64) -> f64 {
    ms as f64 / HOUR as f64
}

/// What one task adds to the per-task figures, decided once for the figures and their
/// drill-downs alike.
impl Selection<'_> {
    /// An escalation in the range: automatic (true) or by hand (false).
    fn escalation(&self, t: &TaskLife) -> Option<bool> {
        let (at, how) = t.ended?;
        (how == timeline::Ending::Escalated && self.covers(at)).then_some(t.escalated_automatically)
    }

    /// Who is credited with the task's end in the range (completed or escalated by them,
    /// or held by them when the timer service escalated it), and how it ended.
    fn credit(&self, t: &TaskLife) -> Option<(Sym, timeline::Ending, bool)> {
        let (at, how) = t.ended?;
        let who = if t.escalated_automatically { t.assignee } else { t.ended_by }?;
        (self.covers(at) && !self.other_agent(who)).then_some((who, how, t.escalated_automatically))
    }

    /// The age bucket of a task open at the end of the range (or now).
    fn age_bucket(&self, t: &TaskLife) -> Option<usize> {
        let at = self.end;
        let open = t.created_at < at && t.ended.is_none_or(|(e, _)| e > at);
        open.then(|| {
            let age = (at - t.created_at) / HOUR;
            AGES.iter().position(|(_, limit)| age < *limit).unwrap_or(AGES.len())
        })
    }

    /// The UTC days of the range: the first day's start and how many.
    fn days(&self) -> (Ms, usize) {
        let first = self.from.div_euclid(DAY) * DAY;
        let count = if self.to > first { (self.to - first + DAY - 1) / DAY } else { 0 };
        (first, count as usize)
    }
}

fn day_of(ms: Ms) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or(NaiveDate::MIN, |d| d.date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_add_up_their_days_and_keep_the_last_backlog() {
        let day = |d: &str, opened, closed, backlog| DayVolume { day: d.parse().unwrap(), opened, closed, backlog };
        // Saturday, Sunday, then Monday starts another week.
        let days = [day("2026-11-28", 2, 0, 5), day("2026-11-29", 1, 3, 3), day("2026-11-30", 4, 1, 6)];
        let weeks: Vec<_> = by_week(&days).iter().map(|w| (w.day.to_string(), w.opened, w.closed, w.backlog)).collect();
        assert_eq!(weeks, [("2026-11-23".to_string(), 3, 3, 3), ("2026-11-30".to_string(), 4, 1, 6)]);
    }
}
