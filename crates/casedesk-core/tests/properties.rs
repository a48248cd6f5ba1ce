//! Property tests over random command sequences:
//! - a closed case has no open task;
//! - every changed case or task row has an event naming it, in the same command;
//! - references are unique;
//! - a command that fails changes nothing.

mod common;

use casedesk_core::model::{StatusCategory, Task};
use casedesk_core::{Actor, Command, Executed};
use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Op {
    Create { case_type: usize, valid: bool },
    Assign { task: usize, who: usize },
    Start { task: usize },
    Complete { task: usize, outcome: usize, reason: bool, form_ok: bool },
    Status { case: usize, status: usize },
    Note { case: usize, empty: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..5usize, prop::bool::weighted(0.8)).prop_map(|(case_type, valid)| Op::Create { case_type, valid }),
        4 => (any::<usize>(), 0..4usize).prop_map(|(task, who)| Op::Assign { task, who }),
        1 => any::<usize>().prop_map(|task| Op::Start { task }),
        5 => (any::<usize>(), 0..4usize, prop::bool::weighted(0.7), prop::bool::weighted(0.8))
            .prop_map(|(task, outcome, reason, form_ok)| Op::Complete { task, outcome, reason, form_ok }),
        2 => (any::<usize>(), 0..6usize).prop_map(|(case, status)| Op::Status { case, status }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(case, empty)| Op::Note { case, empty }),
    ]
}

const TYPES: [&str; 5] = ["technical", "finance", "replacement", "refund", "business_account"];

fn case_fields(t: &str, valid: bool) -> Value {
    let mut v = match t {
        "technical" => json!({ "device": "Router" }),
        "finance" => json!({ "invoice_number": "INV-123456" }),
        "replacement" => json!({ "device": "Modem", "delivery_address": "12 High Street, Oxford" }),
        "refund" => json!({}),
        _ => json!({ "company_name": "Acme", "registration_number": "HRB12345", "contact_email": "a@acme.example" }),
    };
    if !valid {
        v["unknown_field"] = json!(1);
    }
    v
}

fn form_for(task: &Task, ok: bool) -> Value {
    let v = match task.step.as_str() {
        "refund_form" => {
            json!({ "amount": 10, "iban": "DE89370400440532013000", "reason": "Goodwill", "payment_date": "2026-01-02" })
        }
        "kyc_check" => json!({ "director_name": "A", "id_document": "Passport", "id_expiry": "2030-01-01" }),
        "credit_check" => json!({ "credit_score": 700 }),
        _ => json!({}),
    };
    if ok {
        v
    } else {
        json!({ "amount": "lots" })
    }
}

/// Rows of one table by primary key, as text.
type Rows = BTreeMap<Vec<u8>, String>;

fn rows(w: &World, table: &str) -> Rows {
    w.engine
        .read(|db| {
            let conn = db.connection_ref();
            let mut st = conn.prepare(&format!("SELECT * FROM {table}"))?;
            let n = st.column_count();
            let mut out = BTreeMap::new();
            let mut q = st.query([])?;
            while let Some(r) = q.next()? {
                let id: Vec<u8> = r.get(0)?;
                let text = (0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect::<Vec<_>>().join("|");
                out.insert(id, text);
            }
            Ok(out)
        })
        .unwrap()
}

fn changed(before: &Rows, after: &Rows) -> Vec<Vec<u8>> {
    after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect()
}

fn run(w: &World, op: &Op) -> (Command, Actor) {
    let agents = [alex(), bea(), sam(), Actor::new("chris", &[casedesk_core::Role::Agent])];
    let cases = w.engine.case_summaries(10_000, 0).unwrap();
    let tasks: Vec<Task> = cases.iter().flat_map(|c| w.tasks(c.id)).collect();
    let pick_task = |i: usize| tasks.get(i % tasks.len().max(1)).cloned();
    let pick_case = |i: usize| cases.get(i % cases.len().max(1)).map(|c| c.id);
    let nil = uuid::Uuid::nil();
    match op {
        Op::Create { case_type, valid } => {
            let t = TYPES[*case_type];
            (
                Command::CreateCase {
                    case_type: t.into(),
                    intent: None,
                    customer_id: None,
                    subject: "s".into(),
                    description: String::new(),
                    fields: obj(case_fields(t, *valid)),
                    priority: None,
                    interaction_id: None,
                    contact: None,
                    external_id: None,
                },
                alex(),
            )
        }
        Op::Assign { task, who } => {
            let t = pick_task(*task).map(|t| t.id).unwrap_or(nil);
            (Command::AssignTask { task_id: t, assignee: agents[*who].user_id.clone() }, sam())
        }
        Op::Start { task } => {
            let t = pick_task(*task);
            let actor = t.as_ref().and_then(|t| t.assignee.clone()).unwrap_or("alex".into());
            (
                Command::StartTask { task_id: t.map(|t| t.id).unwrap_or(nil) },
                agents.iter().find(|a| a.user_id == actor).cloned().unwrap_or(alex()),
            )
        }
        Op::Complete { task, outcome, reason, form_ok } => {
            let Some(t) = pick_task(*task) else {
                return (Command::StartTask { task_id: nil }, alex());
            };
            let def = w.engine.case_types().unwrap().into_iter().find(|d| d.step(&t.step).is_some()).unwrap();
            let outcomes = &def.step(&t.step).unwrap().outcomes;
            let code = outcomes[outcome % outcomes.len()].code.clone();
            let actor = agents.iter().find(|a| Some(&a.user_id) == t.assignee.as_ref()).cloned().unwrap_or(alex());
            (
                Command::CompleteTask {
                    task_id: t.id,
                    outcome: code,
                    form_values: obj(form_for(&t, *form_ok)),
                    reason: reason.then(|| "because".into()),
                },
                actor,
            )
        }
        Op::Status { case, status } => {
            let id = pick_case(*case).unwrap_or(nil);
            let statuses = ["new", "in_progress", "waiting_customer", "resolved", "cancelled", "investigating"];
            (Command::ChangeCaseStatus { case_id: id, status: statuses[*status].into(), reason: None }, alex())
        }
        Op::Note { case, empty } => {
            let id = pick_case(*case).unwrap_or(nil);
            (Command::AddNote { case_id: id, body: if *empty { " ".into() } else { "note".into() } }, bea())
        }
    }
}

fn check_event_coverage(before: (&Rows, &Rows), after: (&Rows, &Rows), done: &Executed) {
    for id in changed(before.0, after.0) {
        let id = uuid::Uuid::from_slice(&id).unwrap();
        assert!(done.events.iter().any(|e| e.case_id == Some(id)), "case {id} changed without an event");
    }
    for id in changed(before.1, after.1) {
        let id = uuid::Uuid::from_slice(&id).unwrap();
        assert!(done.events.iter().any(|e| e.task_id == Some(id)), "task {id} changed without an event");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_command_sequences_keep_the_invariants(ops in prop::collection::vec(op(), 1..60)) {
        let w = world();
        for op in &ops {
            let (command, actor) = run(&w, op);
            let snapshot = w.snapshot();
            let (cases_before, tasks_before) = (rows(&w, "cases"), rows(&w, "tasks"));
            match w.engine.execute(&actor, command.clone()) {
                Err(e) => {
                    prop_assert_eq!(&snapshot, &w.snapshot(), "failed {:?} ({}) changed the database", command, e);
                }
                Ok(done) => {
                    let (cases_after, tasks_after) = (rows(&w, "cases"), rows(&w, "tasks"));
                    check_event_coverage((&cases_before, &tasks_before), (&cases_after, &tasks_after), &done);
                }
            }
            for c in w.engine.case_summaries(10_000, 0).unwrap() {
                if c.status_category == StatusCategory::Closed {
                    prop_assert!(w.open_tasks(c.id).is_empty(), "closed case {} has open tasks", c.reference);
                }
            }
            let (all, distinct): (i64, i64) = w.engine.read(|db| Ok(db.connection_ref().query_row(
                "SELECT count(reference), count(DISTINCT reference) FROM cases", [], |r| Ok((r.get(0)?, r.get(1)?)))?)).unwrap();
            prop_assert_eq!(all, distinct);
        }
    }
}
