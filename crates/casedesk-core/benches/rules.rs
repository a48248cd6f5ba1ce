//! Business rules (a bench binary that prints its figures):
//!   cargo bench -p casedesk-core --bench rules
//! 1. Compiling 200 rule conditions (what publishing a case type with 200 rules costs).
//! 2. Evaluating them: conditions per second against one case's facts.
//! 3. Through the engine: creating cases of a type with 200 rules (100 on case creation,
//!    100 on task creation) next to the same type without rules, in one run.

use casedesk_core::rules::expr::{self, Facts};
use casedesk_core::{Actor, Command, Engine, SystemClock};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

const RULES: usize = 200;

/// A mix of what admins write: field tests, customer tests, text, dates, arithmetic.
fn condition(i: usize) -> String {
    match i % 6 {
        0 => format!(r#"segment == "gold" && language == "l{i}""#),
        1 => format!(r#"priority <= 2 || subject.contains("urgent {i}")"#),
        2 => format!(r#"customer.segment == "s{i}" && customer.language == "de""#),
        3 => format!(r#"amount > {}.0 && days_between(start_date, today) < 3"#, 1000 + i),
        4 => format!(r#"intent == "intent_{i}" || (channel == "web" && owner == ())"#),
        _ => format!(r#"status_category == "open" && amount * 1.19 > {i}.5 && language in ["de", "fr"]"#),
    }
}

/// What rules of the bench's case type may read: the engine's variables and its fields.
fn variables() -> Vec<&'static str> {
    let mut v = casedesk_core::rules::CASE_VARIABLES.to_vec();
    v.extend(["language", "segment", "amount", "start_date"]);
    v
}

fn facts() -> Facts {
    let mut f = Facts::default();
    for (k, v) in [
        ("now", json!("2026-11-24T09:00:00Z")),
        ("today", json!("2026-11-24")),
        ("reference", json!("SRV-000123")),
        ("case_type", json!("service")),
        ("intent", json!("general")),
        ("priority", json!(3)),
        ("status", json!("new")),
        ("status_category", json!("open")),
        ("stage", json!("work")),
        ("owner", json!("alex")),
        ("subject", json!("The router drops the line every evening")),
        ("description", json!("")),
        ("channel", json!("voice")),
        ("created_at", json!("2026-11-24T09:00:00Z")),
        ("status_since", json!("2026-11-24T09:00:00Z")),
        ("sla_due", json!("2026-11-26T09:00:00Z")),
        ("customer", json!({ "name": "Maria Keller", "email": null, "segment": "consumer", "language": "de" })),
        ("fields", json!({ "language": "de", "segment": "consumer", "amount": 120.5, "start_date": "2026-11-20" })),
        ("language", json!("de")),
        ("segment", json!("consumer")),
        ("amount", json!(120.5)),
        ("start_date", json!("2026-11-20")),
    ] {
        f.set_json(k, &v);
    }
    f
}

fn case_type(with_rules: bool) -> String {
    let mut s = String::from(
        r#"
id = "service"
name = "Service"
reference_prefix = "SRV"
sla = { duration = 10, unit = "days", time = "calendar" }
intents = [{ id = "general", label = "General" }]
fields = [
  { id = "language", label = "Language", type = "text" },
  { id = "segment", label = "Segment", type = "text" },
  { id = "amount", label = "Amount", type = "number" },
  { id = "start_date", label = "Start", type = "date" },
]
[statuses]
initial = "new"
on_complete = "done"
status = [{ id = "new", label = "New", category = "open", next = ["done"] }, { id = "done", label = "Done", category = "closed" }]
[[stages]]
id = "work"
name = "Work"
[[stages.steps]]
id = "handle"
name = "Handle"
kind = "generic"
queue = "Service_queue"
outcomes = [{ code = "done", label = "Done", then = "next" }]
"#,
    );
    if with_rules {
        for i in 0..RULES {
            let (on, action) = if i % 2 == 0 {
                ("case_created", "{ raise_priority = 1 }".to_string())
            } else {
                ("task_created", format!(r#"{{ require_skill = {{ skill = "skill_{i}", min = 2 }} }}"#))
            };
            s.push_str(&format!(
                "\n[[rules]]\nid = \"r{i}\"\non = \"{on}\"\nif = '{}'\nactions = [{action}]\n",
                condition(i)
            ));
        }
    }
    s
}

/// Cases created per second with the given case type, over `n` creations.
fn creation_rate(with_rules: bool, n: usize) -> (f64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), Arc::new(SystemClock), Default::default()).unwrap();
    let system = Actor::system();
    let customer_fields = serde_json::from_value(json!([
        { "id": "segment", "label": "Segment", "type": "text" },
        { "id": "language", "label": "Language", "type": "text" }
    ]))
    .unwrap();
    engine.execute(&system, Command::DefineCustomerFields { fields: customer_fields }).unwrap();
    engine
        .execute(&system, Command::PublishCaseType { file_name: "service.toml".into(), source: case_type(with_rules) })
        .unwrap();
    let fields = json!({ "language": "de", "segment": "consumer", "amount": 120.5, "start_date": "2026-11-20" });
    let start = Instant::now();
    let mut events = 0;
    for i in 0..n {
        let r = engine
            .execute(
                &system,
                Command::CreateCase {
                    case_type: "service".into(),
                    intent: Some("general".into()),
                    customer_id: None,
                    subject: format!("Case {i}"),
                    description: String::new(),
                    fields: fields.as_object().unwrap().clone(),
                    priority: None,
                    interaction_id: None,
                    contact: None,
                    external_id: None,
                },
            )
            .unwrap();
        events += r.events.len();
    }
    (n as f64 / start.elapsed().as_secs_f64(), events / n)
}

fn main() {
    println!("casedesk business rules benchmark ({RULES} rules per case type)");
    let sources: Vec<String> = (0..RULES).map(condition).collect();
    let vars = variables();
    let start = Instant::now();
    let compiled: Vec<_> = sources.iter().map(|s| expr::compile(s, &vars).unwrap()).collect();
    let compile = start.elapsed();
    println!(
        "\n1. compiling {RULES} conditions: {:.2} ms ({:.1} µs each)",
        compile.as_secs_f64() * 1e3,
        compile.as_secs_f64() * 1e6 / RULES as f64
    );

    let mut f = facts();
    let rounds = 2_000;
    let mut matched = 0usize;
    let mut failed = 0usize;
    let start = Instant::now();
    for _ in 0..rounds {
        for ast in &compiled {
            match expr::eval_bool(ast, &mut f) {
                Ok(true) => matched += 1,
                Ok(false) => {}
                Err(_) => failed += 1,
            }
        }
    }
    let took = start.elapsed().as_secs_f64();
    let evals = (rounds * RULES) as f64;
    println!(
        "\n2. evaluating: {:.0} rule evaluations/s ({:.2} µs each; one case against all {RULES}: {:.0} µs); {} matched, {} failed per round",
        evals / took,
        took * 1e6 / evals,
        took * 1e6 / rounds as f64,
        matched / rounds,
        failed / rounds
    );

    let n = 2_000;
    let (plain, plain_events) = creation_rate(false, n);
    let (ruled, ruled_events) = creation_rate(true, n);
    println!("\n3. creating {n} cases through the engine (one transaction each)");
    println!("   without rules: {plain:.0} cases/s ({plain_events} events each)");
    println!(
        "   with {RULES} rules: {ruled:.0} cases/s ({ruled_events} events each); {:.2}× the time per case",
        plain / ruled
    );
}
