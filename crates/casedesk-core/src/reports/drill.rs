//! Drill-down: the cases behind one figure, chosen by the same tests the figure counts
//! with (`Selection` in `reports/mod.rs`).

use super::timeline::{CaseLife, Stay, Sym};
use super::{Selection, AGES, DAY, OVER_AGES};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

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
    OpenedOn {
        day: NaiveDate,
    },
    /// Opened in the ISO week starting that Monday (within the range).
    OpenedInWeek {
        monday: NaiveDate,
    },
    ClosedOn {
        day: NaiveDate,
    },
    OpenAtEndOf {
        day: NaiveDate,
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
}

/// The start of a day, in milliseconds (none out of range).
fn day_start(day: &NaiveDate) -> Option<i64> {
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

impl Selection<'_> {
    /// Whether `c` is one of the cases behind `figure`.
    pub fn behind(&self, c: &CaseLife, figure: &Figure) -> bool {
        if !self.selects(c) {
            return false;
        }
        let sym = |name: &str| -> Option<Sym> { self.names.find(name) };
        let closed_in_range = c.closed_at.is_some_and(|at| self.covers(at));
        let tasks = || c.tasks.iter().filter(|t| self.selects_task(t));
        let on_day = |day: &NaiveDate| day_start(day).map(|start| (start, start + DAY));
        match figure {
            Figure::ClosedWithinSla => closed_in_range && !c.sla_breached,
            Figure::ClosedAfterBreach => closed_in_range && c.sla_breached,
            Figure::BreachesAt { stage, step } => {
                let (Some(stage), Some(step)) = (sym(stage), sym(step)) else { return false };
                tasks()
                    .any(|t| t.stage == stage && t.step == step && t.ola_breached_at.is_some_and(|at| self.covers(at)))
            }
            Figure::Resolved { case_type } => closed_in_range && sym(case_type) == Some(c.case_type),
            Figure::InStatus { status } => {
                let Some(s) = sym(status) else { return false };
                c.in_(Stay::Status).any(|i| i.name == s && c.open_ms(i, self.from, self.end) > 0)
            }
            Figure::InStage { stage } => {
                let Some(s) = sym(stage) else { return false };
                c.in_(Stay::Stage).any(|i| i.name == s && c.open_ms(i, self.from, self.end) > 0)
            }
            Figure::OpenedOn { day } => on_day(day).is_some_and(|(from, to)| from <= c.created_at && c.created_at < to),
            Figure::OpenedInWeek { monday } => day_start(monday)
                .is_some_and(|from| self.covers(c.created_at) && from <= c.created_at && c.created_at < from + 7 * DAY),
            Figure::ClosedOn { day } => on_day(day).is_some_and(|(from, to)| c.closings_in(from, to) > 0),
            Figure::OpenAtEndOf { day } => on_day(day).is_some_and(|(_, to)| c.open_before(to)),
            Figure::WorkedBy { agent } => {
                let Some(a) = sym(agent) else { return false };
                tasks().any(|t| self.credit(t).is_some_and(|(who, _, _)| who == a))
            }
            Figure::EscalatedIn { case_type } => {
                sym(case_type) == Some(c.case_type) && tasks().any(|t| self.escalation(t).is_some())
            }
            Figure::AgedOpen { label } => {
                let labels = AGES.iter().map(|(l, _)| *l).chain([OVER_AGES]);
                let Some(bucket) = labels.into_iter().position(|l| l == label) else { return false };
                tasks().any(|t| self.age_bucket(t) == Some(bucket))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_day_is_its_date() {
        let day: chrono::NaiveDate = "2026-11-24".parse().unwrap();
        assert_eq!(super::super::day_of(super::day_start(&day).unwrap()), day);
    }
}
