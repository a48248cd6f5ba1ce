//! Timer service benchmark (a bench binary that prints its figures):
//!   cargo bench -p casedesk-core --bench timers      (BENCH_OPEN=1000000 cases by default)
//!
//! A workspace with BENCH_OPEN open Technical cases, each with its SLA and its triage
//! task's OLA running (2 × BENCH_OPEN clocks): the memory of the timer queue, the time
//! to reload it after a restart, the cost of the once-a-second check while idle, and the
//! rate at which breaches are processed (recorded, and the task escalated).

use casedesk_core::{demo, Actor, Command, Engine, ManualClock, OpenOptions, Role};
use chrono::{Duration, TimeZone, Utc};
use std::sync::Arc;
use std::time::Instant;

#[path = "support/heap.rs"]
mod heap;

fn main() {
    let open: usize = std::env::var("BENCH_OPEN").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-timers");
    let _ = std::fs::remove_dir_all(&dir);
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()));
    let engine = Engine::open(&dir, clock.clone(), OpenOptions::default()).unwrap();
    demo::seed(&engine).unwrap();
    let alex = Actor::new("alex", &[Role::Agent]);
    let start = Instant::now();
    for i in 0..open {
        let command = Command::CreateCase {
            case_type: "technical".into(),
            intent: None,
            customer_id: None,
            subject: format!("case {i}"),
            description: String::new(),
            fields: serde_json::from_str(r#"{"device":"Router"}"#).unwrap(),
            priority: None,
            interaction_id: None,
            contact: None,
            external_id: None,
        };
        engine.execute(&alex, command).unwrap();
        // Spread the cases over two weeks of office time.
        if i % 1000 == 999 {
            clock.advance(Duration::minutes(10));
        }
    }
    eprintln!("(set-up: {open} open cases in {:.0} s)", start.elapsed().as_secs_f64());
    drop(engine);

    let before = heap::live();
    let t = Instant::now();
    let engine = Engine::open(&dir, clock.clone(), OpenOptions::default()).unwrap();
    let reload = t.elapsed();
    let bytes = heap::live() - before;
    println!("timer service with {open} open cases ({} timers: case SLAs and task OLAs)", engine.timer_queue_len());
    println!("  reload after a restart (open the engine, rebuild the queue): {:.2} s", reload.as_secs_f64());
    println!(
        "  memory of the timer queue (heap growth of the reopened engine): {:.1} MiB",
        bytes as f64 / (1 << 20) as f64
    );

    // Idle: the shell asks twice a second-tick; nothing is due.
    let n = 100_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(engine.next_timer());
    }
    let per_check = t.elapsed().as_secs_f64() / n as f64;
    let t = Instant::now();
    for _ in 0..1000 {
        std::hint::black_box(engine.next_routing_due().unwrap());
    }
    let per_routing_check = t.elapsed().as_secs_f64() / 1000.0;
    println!(
        "  idle: the once-a-second check costs {:.2} µs (timers) + {:.1} µs (routing) = {:.4} % of one core",
        per_check * 1e6,
        per_routing_check * 1e6,
        (per_check + per_routing_check) * 100.0
    );

    // Breaches: jump past every deadline and process 20,000 clocks.
    clock.advance(Duration::days(60));
    let target = 20_000.min(engine.timer_queue_len());
    let t = Instant::now();
    let mut done = 0;
    while done < target {
        let due = engine.timer_queue_len();
        let n = engine.run_due_timers_limited(casedesk_core::engine::TIMER_BATCH).unwrap();
        if n == 0 || due == 0 {
            break;
        }
        done += n;
    }
    let secs = t.elapsed().as_secs_f64();
    println!("  breach processing: {done} clocks past due in {secs:.2} s = {:.0} clocks/s", done as f64 / secs);
    println!("    (each: at risk and breach recorded once, events written; tasks escalated with a new task)");
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
}
