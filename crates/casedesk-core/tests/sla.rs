//! Service-level clocks through the engine, on the demo's Berlin office calendar
//! (Mon–Fri 09:00–12:30 and 13:30–17:30, 7.5 open hours a day). The test clock starts on
//! Tuesday 2026-11-24 at 09:00 UTC = 10:00 in Berlin.

mod common;

use casedesk_core::casetype::{DurationUnit, ServiceLevel, TimeBasis};
use casedesk_core::Command;
use chrono::{DateTime, Duration, Utc};
use common::*;
use serde_json::json;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn status(w: &World, case: uuid::Uuid, to: &str) {
    w.engine.execute(&alex(), Command::ChangeCaseStatus { case_id: case, status: to.into(), reason: None }).unwrap();
}

#[test]
fn a_technical_case_gets_its_sla_and_its_task_its_ola() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let sla = w.case(case).sla.unwrap();
    // 16 open hours: Tue 6.5 + Wed 7.5 + Thu 2 → Thu 11:00 Berlin.
    assert_eq!(sla.due_at, Some(utc("2026-11-26T10:00:00Z")));
    // At risk at 80 % = 12.8 h: Tue 6.5 + Wed 6.3 → Wed 16:18 Berlin.
    assert_eq!(sla.at_risk_at, Some(utc("2026-11-25T15:18:00Z")));
    // The triage OLA, 12 open hours: Tue 6.5 + Wed 5.5 → Wed 15:30 Berlin.
    let task = w.open_tasks(case).remove(0);
    assert_eq!(task.ola_clock.unwrap().due_at, Some(utc("2026-11-25T14:30:00Z")));
    // Replacement runs on calendar time: 10 days.
    let rep = w
        .create_case(&alex(), "replacement", json!({ "device": "Modem", "delivery_address": "12 High Street, Oxford" }))
        .unwrap();
    assert_eq!(w.case(rep).sla.unwrap().due_at, Some(utc("2026-12-04T09:00:00Z")));
}

#[test]
fn waiting_on_the_customer_pauses_the_clock_and_the_pause_is_kept() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    w.clock.set(utc("2026-11-24T11:00:00Z")); // Tue 12:00 Berlin
    status(&w, case, "waiting_customer");
    let paused = w.case(case).sla.unwrap();
    assert_eq!((paused.due_at, paused.paused_since), (None, Some(utc("2026-11-24T11:00:00Z"))));
    w.clock.set(utc("2026-11-25T11:00:00Z")); // Wed 12:00 Berlin
    status(&w, case, "in_progress");
    // Paused 7.5 open hours (Tue 12:00–12:30, 13:30–17:30, Wed 09:00–12:00): the 16 h
    // now end after 23.5 open hours from Tue 10:00 → Fri 11:00 Berlin.
    let sla = w.case(case).sla.unwrap();
    assert_eq!(sla.paused_ms, Duration::minutes(450).num_milliseconds());
    assert_eq!(sla.due_at, Some(utc("2026-11-27T10:00:00Z")));
    // A second wait adds to the first: Wed 12:00 → Wed 13:30 is 30 open minutes.
    status(&w, case, "waiting_customer");
    w.clock.set(utc("2026-11-25T12:30:00Z"));
    status(&w, case, "in_progress");
    let sla = w.case(case).sla.unwrap();
    assert_eq!(sla.paused_ms, Duration::minutes(480).num_milliseconds());
    assert_eq!(sla.due_at, Some(utc("2026-11-27T10:30:00Z")));
}

#[test]
fn reopening_resumes_the_clock_with_the_closed_time_as_pause() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    status(&w, case, "in_progress");
    status(&w, case, "resolved");
    assert_eq!(w.case(case).sla.unwrap().due_at, None, "a closed case's clock stands still");
    w.clock.set(utc("2026-11-30T09:00:00Z")); // next Monday 10:00 Berlin
    status(&w, case, "in_progress");
    let sla = w.case(case).sla.unwrap();
    // Closed from Tue 10:00 to Mon 10:00 Berlin: 4 open days = 30 open hours paused.
    assert_eq!(sla.paused_ms, Duration::hours(30).num_milliseconds());
    assert_eq!(sla.due_at, Some(utc("2026-12-02T10:00:00Z")), "16 open hours from Mon 10:00");
}

#[test]
fn a_supervisor_changes_a_tasks_ola() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    let ola = ServiceLevel {
        duration: 2,
        unit: DurationUnit::Hours,
        time: TimeBasis::Calendar,
        calendar: None,
        at_risk_percent: 50,
    };
    let e =
        w.engine.execute(&alex(), Command::ChangeTaskOla { task_ids: vec![task.id], ola: ola.clone() }).unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let r = w.engine.execute(&sam(), Command::ChangeTaskOla { task_ids: vec![task.id], ola: ola.clone() }).unwrap();
    assert_eq!(r.events[0].kind, "task_ola_changed");
    let clock = w.open_tasks(case)[0].ola_clock.clone().unwrap();
    assert_eq!(
        (clock.due_at, clock.at_risk_at),
        (Some(utc("2026-11-24T11:00:00Z")), Some(utc("2026-11-24T10:00:00Z")))
    );
    let bad = ServiceLevel { time: TimeBasis::OpenOffice, calendar: Some("moon".into()), ..ola };
    let snap = w.snapshot();
    let e = w.engine.execute(&sam(), Command::ChangeTaskOla { task_ids: vec![task.id], ola: bad }).unwrap_err();
    assert_eq!(e.to_string(), "calendar: calendar 'moon' is not defined");
    assert_eq!(snap, w.snapshot());
}
