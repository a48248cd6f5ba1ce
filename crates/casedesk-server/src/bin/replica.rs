//! `casedesk-replica --hub URL[,URL…] --user ID --data-dir DIR [--make N] [--seed S]`
//!
//! A desk without a window (password in `CASEDESK_PASSWORD`), for tests on real processes:
//! it joins the hub, makes commands (new cases, notes, taking waiting tasks) until it has
//! made N in all, counting across restarts, syncing every few, then syncs until nothing
//! waits and prints `converged`. It may be killed at any point and started again. Given
//! the URLs of several hub processes over one database, it syncs with each in turn, round
//! by round, as a desk behind a load balancer would.

use casedesk_core::model::Role;
use casedesk_core::{Actor, Command, Engine, OpenOptions, SystemClock};
use casedesk_link::{round, HubConnection};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn fail(message: String) -> ! {
    eprintln!("casedesk-replica: {message}");
    std::process::exit(2)
}

fn made(engine: &Engine) -> i64 {
    let sql = "SELECT count(*) FROM pending_commands";
    engine.read(|db| Ok(db.connection_ref().query_row(sql, [], |r| r.get(0))?)).unwrap_or(0)
}

fn command(rng: &mut rand::rngs::StdRng, engine: &Engine, user: &str, n: i64) -> Option<Command> {
    let cases = engine.case_summaries(50, 0).ok()?;
    if cases.is_empty() || rng.random_bool(0.25) {
        return Some(Command::CreateCase {
            case_type: "technical".into(),
            intent: None,
            customer_id: None,
            subject: format!("Made on a replica, #{n}"),
            description: String::new(),
            fields: serde_json::from_value(serde_json::json!({ "device": "Router" })).ok()?,
            priority: None,
            interaction_id: None,
            contact: None,
            external_id: None,
        });
    }
    let case = &cases[rng.random_range(0..cases.len())];
    if rng.random_bool(0.2) {
        // Take a waiting task, as an agent does from a workbin; two desks may race for it.
        let tasks = engine.read(|db| db.tasks_of_case(case.id)).ok()?;
        let task = tasks.iter().find(|t| t.state.is_open() && t.assignee.is_none())?;
        return Some(Command::AssignTask { task_id: task.id, assignee: user.into() });
    }
    Some(Command::AddNote { case_id: case.id, body: format!("note #{n}") })
}

fn main() {
    let need = |name: &str| arg(name).unwrap_or_else(|| fail(format!("{name} is required")));
    let (url, user, dir) = (need("--hub"), need("--user"), PathBuf::from(need("--data-dir")));
    let target: i64 = arg("--make").and_then(|v| v.parse().ok()).unwrap_or(0);
    let seed: u64 = arg("--seed").and_then(|v| v.parse().ok()).unwrap_or(1);
    let password = std::env::var("CASEDESK_PASSWORD").unwrap_or_else(|_| fail("CASEDESK_PASSWORD is not set".into()));
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| fail(e.to_string()));
    let engine =
        Engine::open(&dir, Arc::new(SystemClock), OpenOptions::default()).unwrap_or_else(|e| fail(e.to_string()));
    engine.join_hub(&format!("replica-{}", uuid::Uuid::new_v4())).unwrap_or_else(|e| fail(e.to_string()));
    let hubs: Vec<_> = url.split(',').map(|u| HubConnection::new(u, &user, &password)).collect();
    let turn = std::cell::Cell::new(0usize);
    let next_round = || {
        let hub = &hubs[turn.get() % hubs.len()];
        turn.set(turn.get() + 1);
        round(&engine, hub, runtime.handle().clone())
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    let settle = |until_empty: bool| loop {
        let ok = next_round().is_ok();
        let waiting = engine.read(|db| casedesk_core::store::sync::waiting(db.connection_ref())).unwrap_or(1);
        if ok && (!until_empty || waiting == 0) {
            return;
        }
        if Instant::now() > deadline {
            fail("the hub could not be reached in time".into());
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    if engine.users().map(|u| u.is_empty()).unwrap_or(true) {
        settle(false);
    }
    let actor = Actor::new(user.clone(), &[Role::Agent]);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ made(&engine) as u64);
    while made(&engine) < target {
        let n = made(&engine) + 1;
        if let Some(c) = command(&mut rng, &engine, &user, n) {
            let taking = matches!(c, Command::AssignTask { .. });
            match engine.submit(&actor, c) {
                // This desk's view may already say no (not in the agent's workbins).
                Err(_) if taking => {}
                Err(e) => fail(format!("a command was refused here: {e}")),
                Ok(_) => {}
            }
        }
        // A round every few commands, as a person's desk would: not one per keystroke.
        if n % 4 == 0 {
            if let Err(e) = next_round() {
                eprintln!("casedesk-replica: {e}");
            }
        }
    }
    settle(true);
    println!("converged");
}
