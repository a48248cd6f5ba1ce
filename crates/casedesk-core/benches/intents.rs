//! Intent suggestion (a bench binary that prints its figures):
//!   cargo bench -p casedesk-core --bench intents
//! 1. Accuracy on the generated labelled set (2,500 descriptions, ten intents, the last
//!    fifth held out), next to always guessing the most common intent.
//! 2. Retraining: learning 100,000 cases from nothing.
//! 3. Suggestion latency with that model: p50 / p99 / max over 2,000 descriptions, and
//!    for a pasted 100 KB text.
//! 4. The same through the engine on the demo workspace (the model's catch-up read of
//!    the event log included).

#[path = "support/intents.rs"]
mod generated;

use casedesk_core::intent::{Classifier, IntentKey};
use std::time::Instant;

fn key(s: &generated::Sample) -> IntentKey {
    IntentKey { case_type: s.case_type.into(), intent: s.intent.into() }
}

fn main() {
    let set = generated::generate(2_500, 42);
    let (train, test) = set.split_at(2_000);
    let a = generated::evaluate(train, test);
    println!("casedesk intent suggestion benchmark");
    println!("\n1. accuracy, {} held out of {}", test.len(), set.len());
    println!(
        "   top-1 {:.1}%   top-3 {:.1}%   always '{}': {:.1}%",
        100.0 * a.top1,
        100.0 * a.top3,
        a.most_common_intent,
        100.0 * a.most_common
    );

    let big = generated::generate(100_000, 7);
    let start = Instant::now();
    let mut model = Classifier::new();
    for s in &big {
        model.learn(&key(s), &s.text);
    }
    let learn = start.elapsed();
    println!("\n2. retraining from nothing");
    println!(
        "   100,000 cases learnt in {:.2} s ({:.0} cases/s)",
        learn.as_secs_f64(),
        big.len() as f64 / learn.as_secs_f64()
    );

    let probes = generated::generate(2_000, 99);
    let mut times: Vec<f64> = probes
        .iter()
        .map(|s| {
            let t = Instant::now();
            std::hint::black_box(model.rank(&s.text));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let huge = "I want my money back because the router arrived broken. ".repeat(100_000 / 56);
    let t = Instant::now();
    std::hint::black_box(model.rank(&huge));
    let huge_ms = t.elapsed().as_secs_f64() * 1e3;
    println!("\n3. suggestion latency, model of 100,000 cases (target under 5 ms)");
    println!(
        "   p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms   a 100 KB text {:.3} ms",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1],
        huge_ms
    );

    let dir = tempfile::tempdir().unwrap();
    let engine =
        casedesk_core::Engine::open(dir.path(), std::sync::Arc::new(casedesk_core::SystemClock), Default::default())
            .unwrap();
    casedesk_core::demo::seed(&engine).unwrap();
    engine.suggest_intents("warm up").unwrap();
    let mut times: Vec<f64> = probes
        .iter()
        .map(|s| {
            let t = Instant::now();
            std::hint::black_box(engine.suggest_intents(&s.text).unwrap());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("\n4. through the engine (demo workspace, a SQLite read to catch up included)");
    println!(
        "   p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );
}
