//! Reports at scale (a bench binary that prints its figures):
//!   CASES=100000 cargo bench -p casedesk-core --bench reports
//! Writes CASES cases through the engine over a year (each opened, worked and closed by
//! status changes, so each has its events), then times the historical report for the
//! year and the real-time board.

use casedesk_core::reports::tally::Tally;
use casedesk_core::reports::{ReportRange, Selection};
use casedesk_core::store;
use casedesk_core::{Actor, Clock, Command, Engine, ManualClock};
use chrono::{Duration, TimeZone, Utc};
use std::sync::Arc;
use std::time::Instant;

const TYPE: &str = r#"
id = "svc"
name = "Service"
reference_prefix = "SVC"
sla = { duration = 2, unit = "days", time = "calendar" }
[statuses]
initial = "new"
on_complete = "done"
status = [
  { id = "new", label = "New", category = "open", next = ["working", "done"] },
  { id = "working", label = "Working", category = "in_progress", next = ["waiting", "done"] },
  { id = "waiting", label = "Waiting", category = "waiting", next = ["working", "done"] },
  { id = "done", label = "Done", category = "closed" },
]
[[stages]]
id = "work"
name = "Work"
[[stages.steps]]
id = "handle"
name = "Handle"
kind = "generic"
queue = "Service_queue"
ola = { duration = 1, unit = "days", time = "calendar" }
outcomes = [{ code = "done", label = "Done", then = "next" }]
"#;

fn new_case(subject: String) -> Command {
    Command::CreateCase {
        case_type: "svc".into(),
        intent: None,
        customer_id: None,
        subject,
        description: String::new(),
        fields: Default::default(),
        priority: None,
        interaction_id: None,
        contact: None,
        external_id: None,
    }
}

fn main() {
    let n: usize = std::env::var("CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 8, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::open(dir.path(), clock.clone(), Default::default()).unwrap();
    let system = Actor::system();
    engine.execute(&system, Command::PublishCaseType { file_name: "svc.toml".into(), source: TYPE.into() }).unwrap();
    println!("casedesk reports benchmark: {n} closed cases over a year");
    let step = Duration::milliseconds(365 * 24 * 3_600_000 / n as i64);
    let t = Instant::now();
    for i in 0..n {
        clock.set(start + step * i as i32);
        let r = engine.execute(&system, new_case(format!("Case {i}"))).unwrap();
        let id = r.created_id.unwrap().parse().unwrap();
        for status in ["working", "waiting", "working", "done"] {
            engine
                .execute(&system, Command::ChangeCaseStatus { case_id: id, status: status.into(), reason: None })
                .unwrap();
        }
    }
    let events: i64 =
        engine.read(|db| Ok(db.connection_ref().query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)).unwrap();
    println!("\nwritten in {:.0} s: {events} events", t.elapsed().as_secs_f64());
    clock.set(start + Duration::days(366));
    let range = ReportRange::between(start, start + Duration::days(365));
    // The first report folds every case into its stored life; later ones read those.
    for round in 1..=4 {
        let t = Instant::now();
        let r = engine.historical_report(&system, range.clone()).unwrap();
        let what = if round == 1 { "first report (stores every case's life)" } else { "historical report" };
        println!(
            "{what} for the year, round {round}: {:.0} ms ({} closed, {} days)",
            t.elapsed().as_secs_f64() * 1e3,
            r.sla.cases_closed,
            r.volume.len()
        );
    }
    // Where a report's time goes: reading the stored lives, decoding them, the figures.
    let t = Instant::now();
    let batches = engine
        .read(|db| {
            let mut all = vec![];
            store::reports::life_batches(db.connection_ref(), &range, |b| {
                all.push(b);
                true
            })?;
            Ok(all)
        })
        .unwrap();
    println!("  reading the stored lives: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let stays: usize = batches.iter().flat_map(|b| b.lives()).map(|l| l.unwrap().stays.len()).sum();
    println!("  decoding them ({stays} stays): {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    let lives: Vec<_> = batches.iter().flat_map(|b| b.lives()).map(Result::unwrap).collect();
    let names = engine.read(|db| store::reports::names(db.connection_ref())).unwrap();
    let t = Instant::now();
    let mut tally = Tally::new(Selection::new(&range, &names, clock.now()));
    for l in &lives {
        tally.add(l);
    }
    let _ = tally.finish();
    println!("  the figures from lives in memory: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    // After one more case is written, a report catches up with it alone.
    engine.execute(&system, new_case("One more".into())).unwrap();
    let t = Instant::now();
    engine.historical_report(&system, range.clone()).unwrap();
    println!("historical report after one new case: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    let size: i64 = engine
        .read(|db| {
            let sql = "SELECT sum(length(life)) FROM report_lives";
            Ok(db.connection_ref().query_row(sql, [], |r| r.get(0))?)
        })
        .unwrap();
    println!("stored lives: {:.1} MiB ({:.0} bytes a case)", size as f64 / 1048576.0, size as f64 / n as f64);
    // The board after an event: a new case is written, then the board read.
    for round in 1..=3 {
        engine.execute(&system, new_case(format!("New {round}"))).unwrap();
        let t = Instant::now();
        let b = engine.board(&system).unwrap();
        println!(
            "board after an event, round {round}: {:.2} ms ({} open cases)",
            t.elapsed().as_secs_f64() * 1e3,
            b.cases.iter().map(|c| c.count).sum::<u32>()
        );
    }
}
