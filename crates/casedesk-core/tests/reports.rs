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
//!
//! D's task is assigned to alex at 12:00 and to sam at 13:00 (one reassignment). alex is
//! Available 24th 09:00–17:00, on a break until 25th 09:00, then Available. The reports
//! are read at 26th 15:00.

mod common;

use casedesk_core::reports::{Figure, ReportRange};
use casedesk_core::routing::Presence;
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
    fn assign(&self, case: Uuid, to: &str) {
        let task = self.w.open_tasks(case).remove(0);
        self.w.engine.execute(&sam(), Command::AssignTask { task_id: task.id, assignee: to.into() }).unwrap();
    }
    fn presence(&self, p: Presence) {
        self.w.engine.execute(&alex(), Command::SetPresence { presence: p, secondary: None }).unwrap();
    }
}

#[test]
fn the_reports_match_the_figures_worked_out_by_hand() {
    // Reports catch up with the log three events at a time: the windows must not show.
    let World { engine, clock, dir, database } = world();
    let limits = casedesk_core::Limits { report_catch_up_window: 3, ..Default::default() };
    let w = World { engine: engine.with_limits(limits), clock, dir, database };
    w.engine.execute(&admin(), Command::PublishCaseType { file_name: "svc.toml".into(), source: SVC.into() }).unwrap();
    let s = Story { w };
    s.at("2026-11-24T09:00:00Z");
    s.presence(Presence::Available);
    let a = s.create();
    s.at("2026-11-24T10:00:00Z");
    let b = s.create();
    s.at("2026-11-24T11:00:00Z");
    let c = s.create();
    s.status(a, "working");
    s.at("2026-11-24T12:00:00Z");
    let d = s.create();
    s.assign(d, "alex");
    s.finish_task(b);
    s.at("2026-11-24T13:00:00Z");
    let e = s.create();
    s.assign(d, "sam");
    s.status(c, "done");
    s.at("2026-11-24T14:00:00Z");
    s.status(a, "waiting");
    s.at("2026-11-24T15:00:00Z");
    s.status(c, "working");
    s.at("2026-11-24T17:00:00Z");
    s.presence(Presence::Break);
    s.at("2026-11-24T19:00:00Z");
    s.status(c, "done");
    s.at("2026-11-25T09:00:00Z");
    s.presence(Presence::Available);
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
        ..ReportRange::between(utc("2026-11-24T00:00:00Z"), utc("2026-11-27T00:00:00Z"))
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
        r.time_in_status.iter().map(|t| (t.name.as_str(), t.total_hours, t.cases, t.mean_hours)).collect();
    assert_eq!(
        statuses,
        [
            // A 2 + B 2 + C 2 + D 51 (until now) + E 50.
            ("new", 107.0, 5, 21.4),
            ("waiting", 24.0, 1, 24.0),
            // A 3 + 1, C 4.
            ("working", 8.0, 2, 4.0),
        ]
    );
    // Time in the one stage while open: A 30 + B 2 + C 6 (8 less the 2 closed) + D 51 + E 50.
    let stages: Vec<_> =
        r.time_in_stage.iter().map(|t| (t.name.as_str(), t.total_hours, t.cases, t.mean_hours)).collect();
    assert_eq!(stages, [("work", 139.0, 5, 27.8)]);

    // Per day: opened, closings (C twice), open at the end of the day.
    let days: Vec<_> = r.volume.iter().map(|v| (v.day.to_string(), v.opened, v.closed, v.backlog)).collect();
    assert_eq!(
        days,
        [("2026-11-24".to_string(), 5, 3, 3), ("2026-11-25".to_string(), 0, 1, 2), ("2026-11-26".to_string(), 0, 1, 1)]
    );

    // By week: the three days are in the week of Monday the 23rd.
    let weeks: Vec<_> = r.weekly.iter().map(|v| (v.day.to_string(), v.opened, v.closed, v.backlog)).collect();
    assert_eq!(weeks, [("2026-11-23".to_string(), 5, 5, 1)]);

    // Escalations and reassignments; who completed what; open tasks by age (D's, 51 h).
    let esc: Vec<_> =
        r.escalations.iter().map(|x| (x.case_type.as_str(), x.manual, x.automatic, x.reassignments)).collect();
    assert_eq!(esc, [("svc", 0, 0, 1)]);
    let work: Vec<_> = r
        .work_by_agent
        .iter()
        .map(|x| (x.user_id.as_str(), x.tasks_completed, x.escalations, x.auto_escalated))
        .collect();
    assert_eq!(work, [("alex", 2, 0, 0)]);
    let ages: Vec<_> = r.task_aging.iter().map(|x| x.tasks).collect();
    assert_eq!(ages, [0, 0, 0, 1, 0]);
    // alex: available 8 h + 30 h (until now), on a break 16 h.
    let alex_time = r.agent_time.iter().find(|t| t.user_id == "alex").unwrap();
    assert_eq!(alex_time.presence.get("available"), Some(&38.0));
    assert_eq!(alex_time.presence.get("break"), Some(&16.0));

    // Every report exports as CSV, with the same figures.
    let files = casedesk_core::reports::csv_export::files(&r).unwrap();
    let file = |name: &str| files.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_eq!(file("sla-adherence.csv"), "what,finished,within,percent\ncases,4,3,75.00\ntasks,2,1,50.00\n");
    assert_eq!(file("resolution-time.csv"), "case_type,cases,mean_hours,p50_hours,p90_hours\nsvc,4,22.50,8.00,50.00\n");
    assert!(file("volume-by-day.csv").contains("2026-11-24,5,3,3\n"));
    assert_eq!(file("time-in-stage.csv"), "stage,total_hours,cases,mean_hours\nwork,139.00,5,27.80\n");
    assert_eq!(file("volume-by-week.csv"), "week_of,opened,closed,backlog\n2026-11-23,5,5,1\n");
    assert_eq!(files.len(), 11);

    // Drill-down: the cases behind a figure are the ones it counted.
    let behind = |figure: Figure| -> Vec<Uuid> {
        s.w.engine.report_cases(&sam(), range.clone(), &figure).unwrap().into_iter().map(|c| c.id).collect()
    };
    assert_eq!(behind(Figure::ClosedWithinSla), [a, b, c]);
    assert_eq!(behind(Figure::ClosedAfterBreach), [e]);
    assert_eq!(behind(Figure::BreachesAt { stage: "work".into(), step: "handle".into() }), [a, d, e]);
    assert_eq!(behind(Figure::InStatus { status: "waiting".into() }), [a]);
    let day = |s: &str| s.parse().unwrap();
    assert_eq!(behind(Figure::ClosedOn { day: day("2026-11-24") }), [b, c]);
    assert_eq!(behind(Figure::OpenedInWeek { monday: day("2026-11-23") }), [a, b, c, d, e]);
    assert_eq!(behind(Figure::OpenAtEndOf { day: day("2026-11-25") }), [d, e]);
    assert_eq!(behind(Figure::InStage { stage: "work".into() }), [a, b, c, d, e]);
    assert_eq!(behind(Figure::WorkedBy { agent: "alex".into() }), [a, b]);
    assert_eq!(behind(Figure::AgedOpen { label: "1–3 days".into() }), [d]);
    assert!(behind(Figure::EscalatedIn { case_type: "svc".into() }).is_empty());

    // One agent: the cases with a task alex held (A, B and D, whose task went on to sam).
    let alex_only = ReportRange { agent: Some("alex".into()), ..range.clone() };
    let r = s.w.engine.historical_report(&sam(), alex_only.clone()).unwrap();
    assert_eq!((r.sla.cases_closed, r.sla.cases_within_sla), (2, 2));
    assert_eq!((r.sla.tasks_finished, r.sla.tasks_within_ola), (2, 1));
    assert_eq!(r.volume.iter().map(|v| v.opened).sum::<u32>(), 3);
    assert_eq!(r.escalations[0].reassignments, 1);
    assert_eq!(r.agent_time.iter().map(|t| t.user_id.as_str()).collect::<Vec<_>>(), ["alex"]);
    let behind_alex: Vec<Uuid> =
        s.w.engine
            .report_cases(&sam(), alex_only, &Figure::OpenedOn { day: day("2026-11-24") })
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
    assert_eq!(behind_alex, [a, b, d]);
    // One team's queue: every task waited there; another queue has nothing.
    let team = ReportRange { queue: Some("Employees_group_A".into()), ..range.clone() };
    assert_eq!(s.w.engine.historical_report(&sam(), team).unwrap().sla.cases_closed, 4);
    let elsewhere = ReportRange { queue: Some("Nowhere".into()), ..range.clone() };
    let r = s.w.engine.historical_report(&sam(), elsewhere).unwrap();
    assert_eq!((r.sla.cases_closed, r.resolution.len(), r.volume.iter().map(|v| v.backlog).sum::<u32>()), (0, 0, 0));

    // A narrower range: the 25th only.
    let day = ReportRange { from: utc("2026-11-25T00:00:00Z"), to: utc("2026-11-26T00:00:00Z"), ..range.clone() };
    let r = s.w.engine.historical_report(&sam(), day).unwrap();
    assert_eq!((r.sla.cases_closed, r.sla.tasks_finished), (1, 1));
    let new = r.time_in_status.iter().find(|t| t.name == "new").unwrap();
    assert_eq!((new.total_hours, new.cases), (48.0, 2), "D and E, all day");
    // The backlog carries over from before the range: A, D and E were open; A closed.
    let days: Vec<_> = r.volume.iter().map(|v| (v.day.to_string(), v.opened, v.closed, v.backlog)).collect();
    assert_eq!(days, [("2026-11-25".to_string(), 0, 1, 2)]);

    // Only supervisors and admins read reports; a range must run forwards.
    assert_eq!(s.w.engine.historical_report(&alex(), range.clone()).unwrap_err().code(), "forbidden");
    let nobody = ReportRange { agent: Some("alxe".into()), ..range.clone() };
    let e = s.w.engine.historical_report(&sam(), nobody).unwrap_err();
    assert_eq!(e.to_string(), "agent: no user 'alxe'");
    let backwards = ReportRange { from: range.to, to: range.from, ..range };
    let e = s.w.engine.historical_report(&Actor::system(), backwards).unwrap_err();
    assert_eq!(e.to_string(), "to: must be after from");
}

#[test]
fn the_board_shows_how_work_stands_now() {
    let w = world();
    w.engine.execute(&admin(), Command::PublishCaseType { file_name: "svc.toml".into(), source: SVC.into() }).unwrap();
    let s = Story { w };
    s.at("2026-11-24T09:00:00Z");
    let a = s.create();
    s.at("2026-11-24T10:00:00Z");
    let b = s.create();
    let c = s.create();
    s.status(b, "working");
    s.assign(c, "alex");
    let closed = s.create();
    s.status(closed, "done");
    // A day later the two tasks still waiting in the queue are past their OLA.
    s.at("2026-11-25T10:30:00Z");
    s.timers();
    let board = s.w.engine.board(&sam()).unwrap();
    let cases: Vec<_> = board.cases.iter().map(|c| (c.group.as_str(), c.name.as_str(), c.count)).collect();
    assert_eq!(cases, [("svc", "new", 2), ("svc", "working", 1)]);
    let tasks: Vec<_> = board.tasks.iter().map(|t| (t.name.as_str(), t.count)).collect();
    assert_eq!(tasks, [("assigned", 1), ("queued", 2)]);
    assert_eq!((board.at_risk, board.breached), (0, 3), "every open task is a day old; the OLA is a day");
    let queue = board.queues.iter().find(|q| q.queue == "Employees_group_A").unwrap();
    assert_eq!((queue.waiting, queue.oldest_since), (2, Some(utc("2026-11-24T09:00:00Z"))));
    let held = board.agents.iter().find(|x| x.user_id == "alex").unwrap();
    assert_eq!(held.load, 1);
    let _ = a;
    assert_eq!(s.w.engine.board(&alex()).unwrap_err().code(), "forbidden");
}

#[test]
fn reports_follow_the_work_between_two_reads() {
    let w = world();
    w.engine.execute(&admin(), Command::PublishCaseType { file_name: "svc.toml".into(), source: SVC.into() }).unwrap();
    let s = Story { w };
    let day = ReportRange::between(utc("2026-11-24T00:00:00Z"), utc("2026-11-25T00:00:00Z"));
    let read = || {
        let r = s.w.engine.historical_report(&sam(), day.clone()).unwrap();
        (r.volume[0].opened, r.volume[0].closed, r.volume[0].backlog, r.sla.cases_closed)
    };
    s.at("2026-11-24T09:00:00Z");
    let a = s.create();
    s.at("2026-11-24T10:00:00Z");
    assert_eq!(read(), (1, 0, 1, 0));
    // A new case, and a change to one the last report had already read.
    let _b = s.create();
    s.status(a, "done");
    assert_eq!(read(), (2, 1, 1, 1));
    s.status(a, "working");
    assert_eq!(read(), (2, 1, 2, 0), "reopened: no longer closed, open again");
}
