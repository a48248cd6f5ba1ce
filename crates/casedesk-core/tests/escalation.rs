//! Escalation with a test clock: at risk, breach, the chain and its end, the on-screen
//! exception, manual escalation, and a restart in the middle. Technical triage has a
//! 12-open-hour OLA on the Berlin office calendar; its chain is Expert_group_X, then
//! Team_Supervisor. The clock starts Tuesday 2026-11-24 09:00 UTC (10:00 in Berlin).

mod common;

use casedesk_core::model::TaskState;
use casedesk_core::{Command, Engine};
use chrono::{DateTime, Utc};
use common::*;
use serde_json::json;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn kinds(e: &casedesk_core::Executed) -> Vec<String> {
    e.events.iter().map(|e| e.kind.clone()).collect()
}

fn events_of(engine: &Engine, case: uuid::Uuid, kind: &str) -> usize {
    engine.case_detail(case).unwrap().history.iter().filter(|e| e.kind == kind).count()
}

#[test]
fn a_breached_task_escalates_along_its_chain_and_the_end_is_reported() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let triage = w.open_tasks(case).remove(0);
    let clock = triage.ola_clock.clone().unwrap();
    assert_eq!(clock.at_risk_at, Some(utc("2026-11-25T11:06:00Z")), "9.6 open hours: Tue 6.5 + Wed 3.1");
    assert_eq!(clock.due_at, Some(utc("2026-11-25T14:30:00Z")));
    assert_eq!(w.engine.next_timer(), Some(utc("2026-11-25T11:06:00Z")));

    w.clock.set(utc("2026-11-25T11:10:00Z"));
    w.engine.run_due_timers().unwrap();
    assert_eq!(events_of(&w.engine, case, "task_at_risk"), 1);
    assert_eq!(w.open_tasks(case)[0].id, triage.id, "at risk is not yet late");

    w.clock.set(utc("2026-11-25T14:31:00Z"));
    w.engine.run_due_timers().unwrap();
    assert_eq!(events_of(&w.engine, case, "task_breached"), 1);
    let tasks = w.tasks(case);
    assert_eq!(tasks.iter().find(|t| t.id == triage.id).unwrap().state, TaskState::Escalated);
    let level1 = w.open_tasks(case).remove(0);
    assert_eq!((level1.escalation_level, level1.queue.as_deref(), level1.priority), (1, Some("Expert_group_X"), 2));

    // Level 1 runs late too: on to the supervisor, priority 1.
    w.clock.set(utc("2026-11-30T09:00:00Z"));
    w.engine.run_due_timers().unwrap();
    let level2 = w.open_tasks(case).remove(0);
    assert_eq!((level2.escalation_level, level2.queue.as_deref(), level2.priority), (2, Some("Team_Supervisor"), 1));

    // And late again: the chain has ended. Reported once; nothing moves, nothing loops.
    w.clock.set(utc("2026-12-10T09:00:00Z"));
    w.engine.run_due_timers().unwrap();
    w.engine.run_due_timers().unwrap();
    assert_eq!(events_of(&w.engine, case, "escalation_chain_end"), 1);
    assert_eq!(w.open_tasks(case)[0].id, level2.id);
    assert_eq!(w.tasks(case).len(), 3);
}

#[test]
fn a_task_open_on_screen_escalates_when_it_is_closed_unfinished() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    w.engine.execute(&alex(), Command::AssignTask { task_id: task.id, assignee: "alex".into() }).unwrap();
    w.engine.execute(&alex(), Command::OpenTaskOnScreen { task_id: task.id }).unwrap();
    w.clock.set(utc("2026-11-25T15:00:00Z"));
    w.engine.run_due_timers().unwrap();
    assert_eq!(events_of(&w.engine, case, "task_breached"), 1);
    assert_eq!(w.open_tasks(case)[0].id, task.id, "alex is working on it: no escalation yet");
    let r = w.engine.execute(&alex(), Command::CloseTaskOnScreen { task_id: task.id }).unwrap();
    assert!(kinds(&r).contains(&"task_escalated".to_string()), "{:?}", kinds(&r));
    assert_eq!(w.open_tasks(case)[0].escalation_level, 1);
}

#[test]
fn an_agent_escalates_by_hand_with_a_reason() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    w.engine.execute(&alex(), Command::AssignTask { task_id: task.id, assignee: "alex".into() }).unwrap();
    let snap = w.snapshot();
    let e = w.engine.execute(&alex(), Command::EscalateTask { task_id: task.id, reason: " ".into() }).unwrap_err();
    assert_eq!(e.to_string(), "reason: an escalation needs a reason");
    let e = w.engine.execute(&bea(), Command::EscalateTask { task_id: task.id, reason: "x".into() }).unwrap_err();
    assert_eq!(e.code(), "forbidden");
    assert_eq!(snap, w.snapshot());
    let r = w
        .engine
        .execute(&alex(), Command::EscalateTask { task_id: task.id, reason: "Needs a fibre expert".into() })
        .unwrap();
    let ev = r.events.iter().find(|e| e.kind == "task_escalated").unwrap();
    assert_eq!((ev.after["how"].as_str(), ev.after["reason"].as_str()), (Some("manual"), Some("Needs a fibre expert")));
}

#[test]
fn a_restart_in_the_middle_neither_repeats_nor_misses() {
    let World { engine, clock, dir, database } = world();
    let r = engine
        .execute(
            &alex(),
            Command::CreateCase {
                case_type: "technical".into(),
                intent: None,
                customer_id: None,
                subject: "restart".into(),
                description: String::new(),
                fields: obj(json!({ "device": "Router" })),
                priority: None,
                interaction_id: None,
                contact: None,
                external_id: None,
            },
        )
        .unwrap();
    let case = created(&r);
    clock.set(utc("2026-11-25T11:10:00Z"));
    engine.run_due_timers().unwrap(); // at risk noted
    drop(engine);

    // Down past the deadline; the new process reloads its timers from the store.
    clock.set(utc("2026-11-25T16:00:00Z"));
    let engine = reopen(dir.path(), &database, clock.clone());
    assert_eq!(engine.next_timer(), Some(utc("2026-11-25T14:30:00Z")), "the missed breach is due at once");
    engine.run_due_timers().unwrap();
    drop(engine);

    let engine = reopen(dir.path(), &database, clock.clone());
    engine.run_due_timers().unwrap();
    for kind in ["task_at_risk", "task_breached", "task_escalated"] {
        assert_eq!(events_of(&engine, case, kind), 1, "{kind}");
    }
}
