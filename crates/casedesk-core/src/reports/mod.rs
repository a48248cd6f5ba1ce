//! Historical reports, computed from the event log and nothing else, so the desktop and
//! the hub give the same figures. `timeline` reads each case's events into its life;
//! the functions here turn lives into figures for a date range.
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
pub mod timeline;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use timeline::{CaseLife, TaskLife};
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
    fn covers(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }

    /// The whole range, no filters.
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        ReportRange { from, to, case_type: None, intent: None, queue: None, agent: None }
    }

    pub fn selects(&self, c: &CaseLife) -> bool {
        self.case_type.as_ref().is_none_or(|t| *t == c.case_type)
            && self.intent.as_ref().is_none_or(|i| c.intent.as_ref() == Some(i))
            && (self.queue.is_none() && self.agent.is_none() || c.tasks.iter().any(|t| self.selects_task(t)))
    }

    /// Whether a task of a selected case counts in the task figures.
    pub fn selects_task(&self, t: &TaskLife) -> bool {
        self.queue.as_ref().is_none_or(|q| t.queues.contains(q))
            && self.agent.as_ref().is_none_or(|a| t.holders.contains(a))
    }

    /// The selected cases' matching tasks.
    fn tasks<'a>(&'a self, lives: &'a [CaseLife]) -> impl Iterator<Item = (&'a CaseLife, &'a TaskLife)> + 'a {
        lives
            .iter()
            .filter(|c| self.selects(c))
            .flat_map(move |c| c.tasks.iter().filter(|t| self.selects_task(t)).map(move |t| (c, t)))
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

fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| 100.0 * f64::from(part) / f64::from(whole))
}

pub fn sla_adherence(lives: &[CaseLife], range: &ReportRange) -> SlaAdherence {
    let mut out = SlaAdherence {
        cases_closed: 0,
        cases_within_sla: 0,
        case_percent: None,
        tasks_finished: 0,
        tasks_within_ola: 0,
        task_percent: None,
        breaches_by_step: vec![],
    };
    let mut breaches: BTreeMap<(String, String), u32> = BTreeMap::new();
    for c in lives.iter().filter(|c| range.selects(c) && c.closed_at.is_some_and(|at| range.covers(at))) {
        out.cases_closed += 1;
        out.cases_within_sla += u32::from(!c.sla_breached);
    }
    for (_, t) in range.tasks(lives) {
        if t.ola_breached_at.is_some_and(|at| range.covers(at)) {
            *breaches.entry((t.stage.clone(), t.step.clone())).or_default() += 1;
        }
        let Some((at, how)) = &t.ended else { continue };
        if how == "cancelled" || !range.covers(*at) {
            continue;
        }
        out.tasks_finished += 1;
        out.tasks_within_ola += u32::from(t.ola_breached_at.is_none());
    }
    out.case_percent = percent(out.cases_within_sla, out.cases_closed);
    out.task_percent = percent(out.tasks_within_ola, out.tasks_finished);
    let mut by_step: Vec<StepCount> =
        breaches.into_iter().map(|((stage, step), count)| StepCount { stage, step, count }).collect();
    by_step.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| (&a.stage, &a.step).cmp(&(&b.stage, &b.step))));
    out.breaches_by_step = by_step;
    out
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

/// The nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn hours(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 3_600_000.0
}

/// Per case type, for the cases closed in the range.
pub fn resolution_times(lives: &[CaseLife], range: &ReportRange) -> Vec<ResolutionTime> {
    let mut by_type: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for c in lives.iter().filter(|c| range.selects(c)) {
        if let Some(closed) = c.closed_at.filter(|at| range.covers(*at)) {
            by_type.entry(&c.case_type).or_default().push(hours(closed - c.created_at));
        }
    }
    by_type
        .into_iter()
        .map(|(case_type, mut h)| {
            h.sort_by(f64::total_cmp);
            ResolutionTime {
                case_type: case_type.to_string(),
                cases: h.len() as u32,
                mean_hours: h.iter().sum::<f64>() / h.len() as f64,
                p50_hours: nearest_rank(&h, 0.5),
                p90_hours: nearest_rank(&h, 0.9),
            }
        })
        .collect()
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

/// Time spent in each status while the case was open, inside the range, up to `now`.
pub fn time_in_status(lives: &[CaseLife], range: &ReportRange, now: DateTime<Utc>) -> Vec<TimeIn> {
    time_in(lives, range, now, |c| &c.statuses)
}

/// Time spent in each stage while the case was open, inside the range, up to `now`.
pub fn time_in_stage(lives: &[CaseLife], range: &ReportRange, now: DateTime<Utc>) -> Vec<TimeIn> {
    time_in(lives, range, now, |c| &c.stages)
}

fn time_in(
    lives: &[CaseLife],
    range: &ReportRange,
    now: DateTime<Utc>,
    stays: impl Fn(&CaseLife) -> &[timeline::Interval],
) -> Vec<TimeIn> {
    let end = range.to.min(now);
    let mut totals: BTreeMap<&str, (i64, u32)> = BTreeMap::new();
    for c in lives.iter().filter(|c| range.selects(c)) {
        let mut per_case: BTreeMap<&str, i64> = BTreeMap::new();
        for s in stays(c) {
            let ms = c.open_ms(s, range.from, end);
            if ms > 0 {
                *per_case.entry(&s.name).or_default() += ms;
            }
        }
        for (name, ms) in per_case {
            let t = totals.entry(name).or_default();
            t.0 += ms;
            t.1 += 1;
        }
    }
    totals
        .into_iter()
        .map(|(name, (ms, cases))| TimeIn {
            name: name.to_string(),
            total_hours: ms as f64 / 3_600_000.0,
            cases,
            mean_hours: ms as f64 / 3_600_000.0 / f64::from(cases),
        })
        .collect()
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

/// Opened, closed and backlog for each UTC day of the range: each case's openings and
/// closings are put on their day once, then the days are summed in order.
pub fn volume_by_day(lives: &[CaseLife], range: &ReportRange) -> Vec<DayVolume> {
    let mut out = vec![];
    let mut day = range.from.date_naive();
    while day_bounds(&day).is_some_and(|(start, _)| start < range.to) {
        out.push(DayVolume { day, opened: 0, closed: 0, backlog: 0 });
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    let Some(first) = out.first().and_then(|d| day_bounds(&d.day)).map(|(start, _)| start) else { return out };
    let slot = |at: DateTime<Utc>| -> Option<usize> {
        let i = (at - first).num_days();
        (at >= first && (i as usize) < out.len()).then_some(i as usize)
    };
    // Changes of the backlog per day; those before the first day give its starting level.
    let mut change = vec![0i64; out.len()];
    let mut before = 0i64;
    let mut opened = vec![0u32; out.len()];
    let mut closed = vec![0u32; out.len()];
    for c in lives.iter().filter(|c| range.selects(c)) {
        if let Some(i) = slot(c.created_at) {
            opened[i] += 1;
        }
        for (at, delta) in c.open_changes() {
            match slot(at) {
                Some(i) => {
                    change[i] += i64::from(delta);
                    closed[i] += u32::from(delta < 0);
                }
                None if at < first => before += i64::from(delta),
                None => {}
            }
        }
    }
    let mut backlog = before;
    for (i, v) in out.iter_mut().enumerate() {
        backlog += change[i];
        (v.opened, v.closed, v.backlog) = (opened[i], closed[i], backlog.max(0) as u32);
    }
    out
}

/// A UTC day's first instant and the next day's (none at the end of time).
fn day_bounds(day: &NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = day.and_hms_opt(0, 0, 0)?.and_utc();
    Some((start, start.checked_add_signed(Duration::days(1))?))
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

/// Escalations (by hand and automatic) and reassignments in the range, per case type.
pub fn escalations_by_type(lives: &[CaseLife], range: &ReportRange) -> Vec<TypeEscalations> {
    let mut by_type: BTreeMap<&str, TypeEscalations> = BTreeMap::new();
    for c in lives.iter().filter(|c| range.selects(c)) {
        for t in c.tasks.iter().filter(|t| range.selects_task(t)) {
            let row = by_type.entry(&c.case_type).or_insert_with(|| TypeEscalations {
                case_type: c.case_type.clone(),
                manual: 0,
                automatic: 0,
                reassignments: 0,
            });
            row.reassignments += t.reassignments.iter().filter(|at| range.covers(**at)).count() as u32;
            if let (Some(how), Some((at, _))) = (&t.escalated, &t.ended) {
                if range.covers(*at) {
                    if how == "automatic" {
                        row.automatic += 1;
                    } else {
                        row.manual += 1;
                    }
                }
            }
        }
    }
    by_type.into_values().collect()
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

/// Per agent, in the range: tasks completed, escalated by hand, and escalated
/// automatically while they held them.
pub fn work_by_agent(lives: &[CaseLife], range: &ReportRange) -> Vec<AgentWork> {
    let mut by_agent: BTreeMap<&str, AgentWork> = BTreeMap::new();
    for (_, t) in range.tasks(lives) {
        let (Some((at, how)), Some(by)) = (&t.ended, &t.ended_by) else { continue };
        let automatic = t.escalated.as_deref() == Some("automatic");
        let who = if automatic { t.assignee.as_ref() } else { Some(by).filter(|b| *b != "system") };
        let Some(who) = who.filter(|w| range.covers(*at) && range.agent.as_ref().is_none_or(|a| a == *w)) else {
            continue;
        };
        let row = by_agent.entry(who).or_insert_with(|| AgentWork {
            user_id: who.clone(),
            tasks_completed: 0,
            escalations: 0,
            auto_escalated: 0,
        });
        match how.as_str() {
            "completed" => row.tasks_completed += 1,
            "escalated" if automatic => row.auto_escalated += 1,
            "escalated" => row.escalations += 1,
            _ => {}
        }
    }
    by_agent.into_values().collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgeBucket {
    /// e.g. "under 1 h", "1–8 h", "8–24 h", "1–3 days", "over 3 days".
    pub label: String,
    pub tasks: u32,
}

const AGES: &[(&str, i64)] = &[("under 1 h", 1), ("1–8 h", 8), ("8–24 h", 24), ("1–3 days", 72)];

/// The tasks open at the end of the range (or now), by how long they have existed.
pub fn task_aging(lives: &[CaseLife], range: &ReportRange, now: DateTime<Utc>) -> Vec<AgeBucket> {
    let at = range.to.min(now);
    let mut counts = vec![0u32; AGES.len() + 1];
    for (_, t) in range.tasks(lives).filter(|(_, t)| t.created_at < at && t.ended.as_ref().is_none_or(|(e, _)| *e > at))
    {
        let age = (at - t.created_at).num_hours();
        let i = AGES.iter().position(|(_, limit)| age < *limit).unwrap_or(AGES.len());
        counts[i] += 1;
    }
    let labels = AGES.iter().map(|(l, _)| *l).chain(["over 3 days"]);
    labels.zip(counts).map(|(label, tasks)| AgeBucket { label: label.to_string(), tasks }).collect()
}

/// A figure of a report, to see the cases behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "figure", rename_all = "snake_case")]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Figure {
    ClosedWithinSla,
    ClosedAfterBreach,
    BreachesAt {
        stage: String,
        step: String,
    },
    Resolved {
        case_type: String,
    },
    InStatus {
        status: String,
    },
    InStage {
        stage: String,
    },
    /// Tasks an agent completed or escalated (by hand, or held when escalated automatically).
    WorkedBy {
        agent: String,
    },
    /// Escalations (by hand or automatic) of a case type's tasks.
    EscalatedIn {
        case_type: String,
    },
    /// Tasks open at the range's end in an age bucket (its label).
    AgedOpen {
        label: String,
    },
    OpenedOn {
        day: NaiveDate,
    },
    ClosedOn {
        day: NaiveDate,
    },
    OpenAtEndOf {
        day: NaiveDate,
    },
}

/// The cases behind a figure: the same tests the figure counts with.
pub fn cases_behind(lives: &[CaseLife], range: &ReportRange, figure: &Figure, now: DateTime<Utc>) -> Vec<uuid::Uuid> {
    let day_of = |d: &NaiveDate| day_bounds(d).unwrap_or((DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MAX_UTC));
    lives
        .iter()
        .filter(|c| range.selects(c))
        .filter(|c| {
            let closed_in_range = c.closed_at.is_some_and(|at| range.covers(at));
            match figure {
                Figure::ClosedWithinSla => closed_in_range && !c.sla_breached,
                Figure::ClosedAfterBreach => closed_in_range && c.sla_breached,
                Figure::BreachesAt { stage, step } => c.tasks.iter().any(|t| {
                    range.selects_task(t)
                        && &t.stage == stage
                        && &t.step == step
                        && t.ola_breached_at.is_some_and(|at| range.covers(at))
                }),
                Figure::Resolved { case_type } => closed_in_range && &c.case_type == case_type,
                Figure::InStatus { status } => {
                    c.statuses.iter().any(|s| &s.name == status && c.open_ms(s, range.from, range.to.min(now)) > 0)
                }
                Figure::InStage { stage } => {
                    c.stages.iter().any(|s| &s.name == stage && c.open_ms(s, range.from, range.to.min(now)) > 0)
                }
                Figure::OpenedOn { day } => {
                    let (start, end) = day_of(day);
                    start <= c.created_at && c.created_at < end
                }
                Figure::ClosedOn { day } => {
                    let (start, end) = day_of(day);
                    c.closings_in(start, end) > 0
                }
                Figure::OpenAtEndOf { day } => c.open_before(day_of(day).1),
                Figure::WorkedBy { agent } => {
                    work_by_agent(std::slice::from_ref(c), range).iter().any(|w| &w.user_id == agent)
                }
                Figure::EscalatedIn { case_type } => escalations_by_type(std::slice::from_ref(c), range)
                    .iter()
                    .any(|e| &e.case_type == case_type && e.manual + e.automatic > 0),
                Figure::AgedOpen { label } => {
                    task_aging(std::slice::from_ref(c), range, now).iter().any(|a| &a.label == label && a.tasks > 0)
                }
            }
        })
        .map(|c| c.id)
        .collect()
}
