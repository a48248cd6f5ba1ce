//! Historical reports over a history written through the engine with a test clock, with
//! the figures worked out by hand. Times are UTC; the clock starts Tuesday 2026-11-24
//! 09:00 (t0). The case type has a 2-day SLA and a 1-day OLA, in calendar time.
//!
//! | case | created | what happens | closed |
//! | --- | --- | --- | --- |
//! | A | 24th 09:00 | working 11:00, waiting 14:00, working 25th 14:00, task done 25th 15:00 (OLA breached 25th 10:00) | 25th 15:00 (30 h) |
//! | B | 24th 10:00 | task done 12:00 | 24th 12:00 (2 h) |
//! | C | 24th 11:00 | closed 13:00, reopened working 15:00, closed 19:00 | 24th 19:00 (8 h) |
//! | D | 24th 12:00 | OLA breached 25th 14:00, SLA breached 26th 14:00 | open |
//! | E | 24th 13:00 | OLA breached 25th 14:00, SLA breached 26th 14:00 | 26th 15:00 (50 h) |

mod common;

use casedesk_core::reports::ReportRange;
use casedesk_core::{Actor, Command};
use chrono::{DateTime, Utc};
use common::*;
use serde_json::json;
use uuid::Uuid;

const SVC: &str = r#"
id = "svc"
name = "Service"
reference_prefix = "SVC"
sla = { duration = 2, unit = "days", time = "calendar" }

[statuses]
initial = "new"
on_complete = "done"
status = [
  { id = "new", label = "New", category = "open", next = ["working", "waiting", "done"] },
  { id = "working", label = "Working", category = "in_progress", next = ["waiting", "done"] },
  { id = "waiting", label = "Waiting", category = "waiting", next = ["working", "done"] },
  { id = "done", label = "Done", category = "closed", next = ["working"] },
]

[[stages]]
id = "work"
name = "Work"

[[stages.steps]]
id = "handle"
name = "Handle"
kind = "generic"
queue = "Employees_group_A"
ola = { duration = 1, unit = "days", time = "calendar" }
outcomes = [{ code = "done", label = "Done", then = "next" }]
"#;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct Story {
    w: World,
}

impl Story {
    fn at(&self, s: &str) {
        self.w.clock.set(utc(s));
    }
    fn create(&self) -> Uuid {
        self.w.create_case(&alex(), "svc", json!({})).unwrap()
    }
    fn status(&self, case: Uuid, to: &str) {
        let c = Command::ChangeCaseStatus { case_id: case, status: to.into(), reason: None };
        self.w.engine.execute(&sam(), c).unwrap();
    }
    fn finish_task(&self, case: Uuid) {
        let task = self.w.open_tasks(case).remove(0);
        self.w.finish(task.id, &alex(), "done", json!({}), None).unwrap();
    }
    fn timers(&self) {
        self.w.engine.run_due_timers().unwrap();
    }
}

#[test]
fn the_reports_match_the_figures_worked_out_by_hand() {
    let w = world();
    w.engine.execute(&admin(), Command::PublishCaseType { file_name: "svc.toml".into(), source: SVC.into() }).unwrap();
    let s = Story { w };
    s.at("2026-11-24T09:00:00Z");
    let a = s.create();
    s.at("2026-11-24T10:00:00Z");
    let b = s.create();
    s.at("2026-11-24T11:00:00Z");
    let c = s.create();
    s.status(a, "working");
    s.at("2026-11-24T12:00:00Z");
    let d = s.create();
    s.finish_task(b);
    s.at("2026-11-24T13:00:00Z");
    let e = s.create();
    s.status(c, "done");
    s.at("2026-11-24T14:00:00Z");
    s.status(a, "waiting");
    s.at("2026-11-24T15:00:00Z");
    s.status(c, "working");
    s.at("2026-11-24T19:00:00Z");
    s.status(c, "done");
    s.at("2026-11-25T10:00:00Z");
    s.timers();
    s.at("2026-11-25T14:00:00Z");
    s.timers();
    s.status(a, "working");
    s.at("2026-11-25T15:00:00Z");
    s.finish_task(a);
    s.at("2026-11-26T14:00:00Z");
    s.timers();
    s.at("2026-11-26T15:00:00Z");
    s.status(e, "done");
    for (case, closed) in [(a, true), (b, true), (c, true), (d, false), (e, true)] {
        assert_eq!(s.w.case(case).closed_at.is_some(), closed, "the story went as written");
    }

    let range = ReportRange {
        from: utc("2026-11-24T00:00:00Z"),
        to: utc("2026-11-27T00:00:00Z"),
        case_type: Some("svc".into()),
        intent: None,
    };
    let r = s.w.engine.historical_report(&sam(), range.clone()).unwrap();

    // SLA: A, B, C closed within it, E after its breach; D is still open.
    assert_eq!((r.sla.cases_closed, r.sla.cases_within_sla, r.sla.case_percent), (4, 3, Some(75.0)));
    // OLA: A's task finished late, B's in time; C's and E's were cancelled by closing.
    assert_eq!((r.sla.tasks_finished, r.sla.tasks_within_ola, r.sla.task_percent), (2, 1, Some(50.0)));
    // The breaches (A's, D's and E's tasks) all happened at the one step.
    let where_: Vec<_> = r.sla.breaches_by_step.iter().map(|b| (b.stage.as_str(), b.step.as_str(), b.count)).collect();
    assert_eq!(where_, [("work", "handle", 3)]);

    // Resolution: 2, 8, 30, 50 hours.
    assert_eq!(r.resolution.len(), 1);
    let t = &r.resolution[0];
    assert_eq!((t.case_type.as_str(), t.cases, t.mean_hours, t.p50_hours, t.p90_hours), ("svc", 4, 22.5, 8.0, 50.0));

    // Time in status inside the range; closed time (C between its closings) not counted.
    let statuses: Vec<_> =
        r.time_in_status.iter().map(|t| (t.status.as_str(), t.total_hours, t.cases, t.mean_hours)).collect();
    assert_eq!(
        statuses,
        [
            // A 2 + B 2 + C 2 + D 60 (until the range ends) + E 50.
            ("new", 116.0, 5, 23.2),
            ("waiting", 24.0, 1, 24.0),
            // A 3 + 1, C 4.
            ("working", 8.0, 2, 4.0),
        ]
    );

    // Per day: opened, closings (C twice), open at the end of the day.
    let days: Vec<_> = r.volume.iter().map(|v| (v.day.to_string(), v.opened, v.closed, v.backlog)).collect();
    assert_eq!(
        days,
        [("2026-11-24".to_string(), 5, 3, 3), ("2026-11-25".to_string(), 0, 1, 2), ("2026-11-26".to_string(), 0, 1, 1)]
    );

    // A narrower range: the 25th only.
    let day = ReportRange { from: utc("2026-11-25T00:00:00Z"), to: utc("2026-11-26T00:00:00Z"), ..range.clone() };
    let r = s.w.engine.historical_report(&sam(), day).unwrap();
    assert_eq!((r.sla.cases_closed, r.sla.tasks_finished), (1, 1));
    let new = r.time_in_status.iter().find(|t| t.status == "new").unwrap();
    assert_eq!((new.total_hours, new.cases), (48.0, 2), "D and E, all day");

    // Only supervisors and admins read reports; a range must run forwards.
    assert_eq!(s.w.engine.historical_report(&alex(), range.clone()).unwrap_err().code(), "forbidden");
    let backwards = ReportRange { from: range.to, to: range.from, ..range };
    let e = s.w.engine.historical_report(&Actor::system(), backwards).unwrap_err();
    assert_eq!(e.to_string(), "to: must be after from");
}
