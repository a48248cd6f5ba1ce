//! Fills a demo workspace's finance workbin with open tasks, for the desk's workbin
//! figures (`tests/desktop/workbin-figures.mjs`), and prints what reading a page of
//! 200 costs at the start, the middle and the end of it.
//!   cargo run --release -p casedesk-core --example seed_workbin -- <data-dir> [tasks]

use casedesk_core::model::Role;
use casedesk_core::{demo, Actor, Command, Engine, OpenOptions, SystemClock};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

const QUEUE: &str = "Finances_group_B";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: seed_workbin <data-dir> [tasks]")?;
    let wanted: u32 = args.next().map(|n| n.parse()).transpose()?.unwrap_or(100_000);
    let engine = Engine::open(std::path::Path::new(&dir), Arc::new(SystemClock), OpenOptions::default())?;
    demo::seed(&engine)?;
    let sam = engine.users()?.into_iter().find(|u| u.id == "sam").ok_or("the demo has sam")?;
    let open = engine.workbin(&sam, QUEUE, 0, 1)?.total;
    let alex = Actor::new("alex", &[Role::Agent]);
    let started = Instant::now();
    for i in open..wanted {
        engine.execute(
            &alex,
            Command::CreateCase {
                case_type: "finance".into(),
                intent: None,
                customer_id: None,
                subject: format!("Charged twice, statement {i}"),
                description: String::new(),
                fields: json!({ "invoice_number": format!("INV-{:06}", i % 1_000_000) }).as_object().unwrap().clone(),
                priority: Some(1 + (i % 5) as u8),
                interaction_id: None,
                contact: None,
                external_id: None,
            },
        )?;
    }
    if wanted > open {
        println!("seeded {} cases in {:.1} s", wanted - open, started.elapsed().as_secs_f64());
    }
    let total = engine.workbin(&sam, QUEUE, 0, 1)?.total;
    println!("{QUEUE}: {total} open tasks");
    for offset in [0, total / 2, total.saturating_sub(200)] {
        let mut times = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let page = engine.workbin(&sam, QUEUE, offset, 200)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(!page.tasks.is_empty());
        }
        times.sort_by(f64::total_cmp);
        println!("page of 200 at offset {offset}: median {:.2} ms, max {:.2} ms", times[10], times[19]);
    }
    Ok(())
}
