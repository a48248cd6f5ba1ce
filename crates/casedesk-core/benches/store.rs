//! Store benchmarks (a bench binary that prints its figures):
//!   cargo bench -p casedesk-core --bench store
//! BENCH_CASES sets the size of the big database (default 1,000,000).
//!
//! 1. Raw SQLite: one small row per committed transaction, same file settings as the
//!    engine (WAL, synchronous=NORMAL, background checkpoints) — the reference — next to
//!    create-case through the engine (case + first task + 2 events + an outbox row), without
//!    and with the demo's notification rules (one confirmation email rendered and queued).
//! 2. Opening a case (the case, 50 tasks, 200 events, its customer) in a database of
//!    BENCH_CASES cases: p50 / p99 over many reads.
//! 3. Bytes on disk per case.

use casedesk_core::model::{Actor, Role};
use casedesk_core::{demo, Command, Engine, OpenOptions, SystemClock};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn new_case(customer: Option<Uuid>, i: usize) -> Command {
    Command::CreateCase {
        case_type: "technical".into(),
        intent: Some("connectivity".into()),
        customer_id: customer,
        subject: format!("Internet drops every evening #{i}"),
        description: "Customer reports drops between 19:00 and 22:00.".into(),
        fields: obj(json!({ "device": "Router", "serial_number": "RT7781234", "contact_phone": "+49 30 1234567" })),
        priority: None,
        interaction_id: None,
        contact: None,
        external_id: None,
    }
}

fn fresh_engine(dir: &Path) -> Engine {
    let engine = Engine::open(dir, Arc::new(SystemClock), OpenOptions::default()).unwrap();
    demo::seed(&engine).unwrap();
    engine
}

/// With BENCH_WITHOUT_CHANGE_CAPTURE set, drops the sync's change-capture triggers from the
/// open workspace `file`, to measure their share of a write.
fn maybe_without_change_capture(file: &Path) {
    if std::env::var_os("BENCH_WITHOUT_CHANGE_CAPTURE").is_none() {
        return;
    }
    let conn = rusqlite::Connection::open(file).unwrap();
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'changed!_%' ESCAPE '!'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!triggers.is_empty(), "the workspace has change-capture triggers");
    for t in triggers {
        conn.execute_batch(&format!("DROP TRIGGER \"{t}\"")).unwrap();
    }
}

fn raw_reference(dir: &Path, n: usize) -> f64 {
    let conn = rusqlite::Connection::open(dir.join("raw.sqlite")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id BLOB PRIMARY KEY, reference TEXT NOT NULL, subject TEXT NOT NULL, at INTEGER NOT NULL)",
    )
    .unwrap();
    // The same checkpointing as the engine's store: mostly off the commit path.
    let mut checkpointer = casedesk_core::store::Checkpointer::start(&dir.join("raw.sqlite"), &conn).unwrap();
    let start = Instant::now();
    for i in 0..n {
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        conn.prepare_cached("INSERT INTO t VALUES (?1, ?2, ?3, ?4)")
            .unwrap()
            .execute(rusqlite::params![Uuid::now_v7(), format!("TEC-{i:06}"), "Internet drops every evening", i as i64])
            .unwrap();
        conn.execute_batch("COMMIT").unwrap();
        checkpointer.committed();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn create_rate(engine: &Engine, customer: Uuid, n: usize) -> f64 {
    let alex = Actor::new("alex", &[Role::Agent]);
    let start = Instant::now();
    for i in 0..n {
        engine.execute(&alex, new_case(Some(customer), i)).unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn add_customer(engine: &Engine) -> Uuid {
    let alex = Actor::new("alex", &[Role::Agent]);
    let command = Command::CreateCustomer {
        name: "Maria Keller".into(),
        email: Some("maria@example.com".into()),
        phone: None,
        external_id: None,
        extra: Map::new(),
    };
    engine.execute(&alex, command).unwrap().created_id.unwrap().parse().unwrap()
}

/// The rows one create-case writes (case, task, 2 events, outbox row, reference number),
/// written with plain SQL in one transaction each: the storage floor under the engine.
fn same_rows_by_hand(dir: &Path, n: usize) -> f64 {
    let engine = fresh_engine(dir);
    let customer = add_customer(&engine);
    let sample = engine.execute(&Actor::new("alex", &[Role::Agent]), new_case(Some(customer), 0)).unwrap();
    let case_id: Uuid = sample.created_id.unwrap().parse().unwrap();
    let detail = engine.case_detail(case_id).unwrap();
    let (case_json, task_json) =
        (serde_json::to_string(&detail.case).unwrap(), serde_json::to_string(&detail.tasks[0]).unwrap());
    drop(engine);
    let mut db =
        casedesk_core::store::Db::open(&dir.join(casedesk_core::engine::DB_FILE), OpenOptions::default()).unwrap();
    maybe_without_change_capture(&dir.join(casedesk_core::engine::DB_FILE));
    let conn = db.connection().as_sqlite_mut().unwrap();
    let start = Instant::now();
    for i in 0..n {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
        let number: i64 = tx
            .prepare_cached("INSERT INTO reference_sequences (prefix, next) VALUES ('RAW', 2) ON CONFLICT(prefix) DO UPDATE SET next = next + 1 RETURNING next - 1")
            .unwrap()
            .query_row([], |r| r.get(0))
            .unwrap();
        let (case, task) = (Uuid::now_v7(), Uuid::now_v7());
        let now = i as i64;
        tx.prepare_cached("INSERT INTO cases (id, reference, case_type, type_version, status, status_category, stage, priority, owner, customer_id, intent, subject, description, fields, created_at, updated_at) VALUES (?1, ?2, 'technical', 1, 'new', 'open', 'diagnose', 3, 'alex', ?3, 'connectivity', ?4, 'Customer reports drops between 19:00 and 22:00.', '{\"device\":\"Router\",\"serial_number\":\"RT7781234\",\"contact_phone\":\"+49301234567\"}', ?5, ?5)")
            .unwrap()
            .execute(rusqlite::params![case, format!("RAW-{number:06}"), customer, format!("Internet drops every evening #{i}"), now])
            .unwrap();
        tx.prepare_cached("INSERT INTO tasks (id, case_id, stage, step, name, kind, state, queue, priority, escalation_level, form_values, created_at, updated_at) VALUES (?1, ?2, 'diagnose', 'triage', 'Diagnose the fault', 'generic', 'queued', 'Employees_group_A', 3, 0, '{}', ?3, ?3)")
            .unwrap()
            .execute(rusqlite::params![task, case, now])
            .unwrap();
        let mut event = tx.prepare_cached("INSERT INTO events (case_id, task_id, actor, at, kind, before, after) VALUES (?1, ?2, 'alex', ?3, ?4, 'null', ?5)").unwrap();
        event.execute(rusqlite::params![case, Option::<Uuid>::None, now, "case_created", case_json]).unwrap();
        let seq = tx.last_insert_rowid();
        event.execute(rusqlite::params![case, task, now, "task_created", task_json]).unwrap();
        drop(event);
        tx.prepare_cached("INSERT INTO outbox (event_seq, topic, created_at) VALUES (?1, 'notify', ?2)")
            .unwrap()
            .execute(rusqlite::params![seq, now])
            .unwrap();
        tx.commit().unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// A plan of two steps that hand the work back and forth, to grow a long case.
const PING_PONG: &str = r#"
id = "ping_pong"
name = "Ping pong"
reference_prefix = "PP"
[sla]
duration = 30
unit = "days"
time = "calendar"
[statuses]
initial = "open"
on_complete = "done"
[[statuses.status]]
id = "open"
label = "Open"
category = "open"
[[statuses.status]]
id = "done"
label = "Done"
category = "closed"
[[stages]]
id = "work"
name = "Work"
[[stages.steps]]
id = "ping"
name = "Ping"
kind = "generic"
queue = "Employees_group_A"
[[stages.steps.outcomes]]
code = "on"
label = "On"
then = "goto"
step = "pong"
[[stages.steps]]
id = "pong"
name = "Pong"
kind = "generic"
queue = "Employees_group_A"
[[stages.steps.outcomes]]
code = "back"
label = "Back"
then = "goto"
step = "ping"
"#;

/// A case with 50 tasks and 200 events: 49 hand-overs, then notes.
fn big_case(engine: &Engine, customer: Uuid) -> Uuid {
    let alex = Actor::new("alex", &[Role::Agent]);
    let sam = Actor::new("sam", &[Role::Supervisor, Role::Agent]);
    engine
        .execute(&Actor::system(), Command::PublishCaseType { file_name: "pp.toml".into(), source: PING_PONG.into() })
        .unwrap();
    let command = Command::CreateCase {
        case_type: "ping_pong".into(),
        intent: None,
        customer_id: Some(customer),
        subject: "A long case".into(),
        description: String::new(),
        fields: Map::new(),
        priority: None,
        interaction_id: None,
        contact: None,
        external_id: None,
    };
    let case: Uuid = engine.execute(&alex, command).unwrap().created_id.unwrap().parse().unwrap();
    for _ in 0..49 {
        let task = engine.read(|db| db.tasks_of_case(case)).unwrap().into_iter().find(|t| t.state.is_open()).unwrap();
        engine.execute(&sam, Command::AssignTask { task_id: task.id, assignee: "alex".into() }).unwrap();
        let outcome = if task.step == "ping" { "on" } else { "back" };
        engine
            .execute(
                &alex,
                Command::CompleteTask {
                    task_id: task.id,
                    outcome: outcome.into(),
                    form_values: Map::new(),
                    reason: None,
                },
            )
            .unwrap();
    }
    let events = engine.read(|db| db.events_of_case(case)).unwrap().len();
    for i in events..200 {
        engine.execute(&alex, Command::AddNote { case_id: case, body: format!("Follow-up call {i}") }).unwrap();
    }
    case
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).min(sorted.len()) - 1]
}

fn main() {
    let total: usize = std::env::var("BENCH_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    println!("casedesk store benchmark ({} cases in the big database)", total);
    println!("settings: WAL, synchronous=NORMAL (a commit survives a process crash), one transaction per command,");
    println!("          WAL checkpoints mostly in a background thread (the writer's at 4,096 pages), for both");

    let n = 20_000;
    let raw = raw_reference(&base, n);
    let by_hand = same_rows_by_hand(&base.join("by-hand"), n);
    // The same rows as the hand-made SQL: no notification rules.
    let engine = fresh_engine(&base.join("rate"));
    for rule in engine.notification_rules().unwrap() {
        engine.execute(&Actor::system(), Command::RemoveNotificationRule { id: rule.id }).unwrap();
    }
    maybe_without_change_capture(&base.join("rate").join(casedesk_core::engine::DB_FILE));
    let customer = add_customer(&engine);
    let create = create_rate(&engine, customer, n);
    drop(engine);
    // With the demo's rules: a confirmation email to the customer is rendered and queued.
    let engine = fresh_engine(&base.join("rate-rules"));
    let customer = add_customer(&engine);
    let with_rules = create_rate(&engine, customer, n);
    println!("\n1. insert rate ({n} each, one transaction each)");
    println!("   raw SQLite, one row per transaction     : {raw:>9.0} rows/s   (the reference)");
    println!(
        "   a case's rows written by hand-made SQL  : {by_hand:>9.0} cases/s  ({:.0}% of raw)",
        100.0 * by_hand / raw
    );
    println!(
        "   create-case through the engine          : {create:>9.0} cases/s  ({:.0}% of raw, {:.0}% of by-hand)",
        100.0 * create / raw,
        100.0 * create / by_hand
    );
    println!(
        "   the same, with the demo's email rule    : {with_rules:>9.0} cases/s  ({:.0}% of raw, {:.0}% of without)",
        100.0 * with_rules / raw,
        100.0 * with_rules / create
    );
    drop(engine);
    if std::env::var_os("BENCH_ONLY_INSERT").is_some() {
        return;
    }

    let dir = base.join("big");
    let engine = fresh_engine(&dir);
    let alex = Actor::new("alex", &[Role::Agent]);
    let customer = add_customer(&engine);
    let big = big_case(&engine, customer);
    let start = Instant::now();
    let existing = engine.case_summaries(1000, 0).unwrap().len();
    for i in existing..total {
        engine.execute(&alex, new_case(Some(customer), i)).unwrap();
        if i % 200_000 == 0 && i > 0 {
            eprintln!("   … {i} cases ({:.0} s)", start.elapsed().as_secs_f64());
        }
    }
    let fill = start.elapsed();
    let detail = engine.case_detail(big).unwrap();
    assert_eq!((detail.tasks.len(), detail.history.len(), detail.customer.is_some()), (50, 200, true));

    let reads = 20_000;
    let mut times = Vec::with_capacity(reads);
    for _ in 0..reads {
        let t = Instant::now();
        let d = engine.case_detail(big).unwrap();
        times.push(t.elapsed());
        std::hint::black_box(d);
    }
    times.sort();
    println!("\n2. open a case (1 case, 50 tasks, 200 events, customer) among {total} cases, {reads} reads");
    println!(
        "   p50 {:>7.1} µs   p99 {:>7.1} µs   max {:>7.1} µs",
        percentile(&times, 0.50).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times.last().unwrap().as_secs_f64() * 1e6
    );

    engine.read(|db| Ok(db.connection_ref().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)"))).unwrap().unwrap();
    let cases = engine.read(|db| db.count(casedesk_core::store::Table::Cases)).unwrap();
    let bytes = std::fs::metadata(dir.join(casedesk_core::engine::DB_FILE)).unwrap().len();
    println!("\n3. size on disk: {bytes} bytes for {cases} cases = {:.0} bytes per case", bytes as f64 / cases as f64);
    println!("   (each case: its row, 1 task, 2 events, 1 outbox row, indexes)");
    println!(
        "\n(filling the big database took {:.0} s: {:.0} cases/s)",
        fill.as_secs_f64(),
        (total - existing) as f64 / fill.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&base);
}
