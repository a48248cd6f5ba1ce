//! Several hub processes over one database: engines with connections of their own to the
//! same workspace (a PostgreSQL database when the suite runs on one, else one SQLite
//! file), working at the same time. Writes take the workspace's lock, so no agent is
//! offered two tasks at once or given more than their capacity, no clock breaches twice,
//! a push sent to two hubs applies once, and every hub acts on clocks the others started.

mod common;

use casedesk_core::engine::PushedCommand;
use casedesk_core::hlc::HlcTime;
use casedesk_core::model::TaskState;
use casedesk_core::routing::{Presence, QueueConfig, QueueMode};
use casedesk_core::{Actor, Command, Engine};
use common::*;
use serde_json::json;

const HUBS: usize = 3;

fn push_queue(w: &World) {
    let queue =
        QueueConfig { mode: QueueMode::Push, alert_timeout_seconds: 30, ..QueueConfig::pull("Employees_group_A") };
    w.engine.execute(&admin(), Command::DefineQueue { queue }).unwrap();
}

fn ready(engine: &Engine, who: &Actor) {
    engine.execute(who, Command::SetPresence { presence: Presence::Available, secondary: None }).unwrap();
    engine.execute(who, Command::SetOnQueue { on_queue: true }).unwrap();
}

fn dana() -> Actor {
    Actor::new("dana", &[casedesk_core::Role::Agent])
}

#[test]
fn hubs_racing_for_the_same_agents_never_overload_them_nor_breach_a_clock_twice() {
    let w = world();
    push_queue(&w);
    let hubs: Vec<Engine> = (0..HUBS).map(|_| w.reopen()).collect();
    let agents = [alex(), dana()];
    for a in &agents {
        ready(&hubs[0], a);
    }
    // Each hub makes cases, and answers the offers of one agent, all at once.
    std::thread::scope(|s| {
        for (i, hub) in hubs.iter().enumerate() {
            let agent = agents.get(i).cloned();
            s.spawn(move || {
                for n in 0..12 {
                    hub.execute(&bea(), new_case(&format!("Hub {i}, case {n}"))).unwrap();
                    let Some(agent) = &agent else { continue };
                    for task in hub.read(|db| db.tasks_of_agent(&agent.user_id)).unwrap() {
                        if task.state == TaskState::Offered {
                            // Another hub may have moved it on since: a refusal is fine.
                            let _ = hub.execute(agent, Command::AcceptOffer { task_id: task.id });
                        }
                    }
                }
            });
        }
    });
    let count = |sql: &str| count(&w.engine, sql);
    assert_eq!(count("SELECT count(*) FROM cases"), (HUBS * 12) as i64);
    assert_eq!(
        count(
            "SELECT count(*) FROM (SELECT offered_to FROM tasks WHERE state = 'offered'
             GROUP BY offered_to HAVING count(*) > 1) AS twice"
        ),
        0,
        "one offer at a time per agent"
    );
    for a in &agents {
        let agent = w.engine.read(|db| db.agent(&a.user_id)).unwrap().unwrap();
        assert!(agent.total_load() <= agent.profile.capacity.total, "{} over capacity", a.user_id);
    }
    assert!(count("SELECT count(*) FROM tasks WHERE state = 'assigned'") > 0, "work was taken");

    // The clocks were started by whichever hub made the case; a day on, every hub
    // looks at once, and each clock breaches once, whichever hub saw it first.
    w.clock.advance(chrono::Duration::days(3));
    std::thread::scope(|s| {
        for hub in &hubs[1..] {
            s.spawn(move || hub.run_due_work().unwrap());
        }
    });
    let open_with_ola =
        count("SELECT count(*) FROM tasks WHERE ola_clock IS NOT NULL AND state NOT IN ('completed', 'escalated', 'cancelled')");
    assert!(open_with_ola > 0);
    assert_eq!(
        count("SELECT count(DISTINCT task_id) FROM events WHERE kind = 'task_breached'"),
        open_with_ola,
        "the hubs that made no case breached the others' clocks"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM (SELECT task_id FROM events WHERE kind = 'task_breached'
             GROUP BY task_id HAVING count(*) > 1) AS twice"
        ),
        0,
        "no clock breaches twice"
    );
}

#[test]
fn a_push_sent_to_two_hubs_at_once_applies_once() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let hubs: Vec<Engine> = (0..2).map(|_| w.reopen()).collect();
    let pushes: Vec<PushedCommand> = (1..=20)
        .map(|seq| PushedCommand {
            client_id: "desk-a".into(),
            client_seq: seq,
            command_id: uuid::Uuid::now_v7(),
            seen_cursor: 0,
            hlc: HlcTime { millis: 1_764_000_000_000 + seq, counter: 0 },
            reference: None,
            command: Command::AddNote { case_id: case, body: format!("note {seq}") },
        })
        .collect();
    let outcomes: Vec<Vec<_>> = std::thread::scope(|s| {
        let runs: Vec<_> = hubs
            .iter()
            .map(|hub| {
                let pushes = &pushes;
                s.spawn(move || pushes.iter().map(|p| hub.apply_pushed(&alex(), p.clone()).unwrap()).collect())
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (a, b) in outcomes[0].iter().zip(&outcomes[1]) {
        assert_eq!(a.push_seq, b.push_seq, "both hubs report the one record");
        assert!(a.repeated != b.repeated, "one applied it, the other found it applied");
    }
    assert_eq!(count(&w.engine, "SELECT count(*) FROM notes"), 20);
    assert_eq!(count(&w.engine, "SELECT count(*) FROM pushed_commands"), 20);
}

/// An attachment added through one hub is opened through another. On PostgreSQL the
/// second hub has a data directory of its own: the content is in the database, not in the
/// files of the hub that took it. Someone who may not see the case is not told it exists.
#[test]
fn an_attachment_added_through_one_hub_opens_through_another() {
    let w = world();
    let elsewhere = tempfile::tempdir().unwrap();
    let other = match &w.database {
        Some(db) => Engine::open_postgres(&db.url(), elsewhere.path(), w.clock.clone()).unwrap(),
        None => w.reopen(),
    };
    let case = w.create_case(&bea(), "technical", json!({ "device": "Router" })).unwrap();
    let content: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let add = Command::AddAttachment {
        case_id: case,
        file_name: "router.jpg".into(),
        content_type: "image/jpeg".into(),
        content: content.clone(),
    };
    let id: uuid::Uuid = w.engine.execute(&bea(), add).unwrap().created_id.unwrap().parse().unwrap();
    let user = |id: &str| other.users().unwrap().into_iter().find(|u| u.id == id).unwrap();
    let (attachment, held) = other.attachment_for(&user("bea"), id).unwrap();
    assert_eq!((attachment.file_name.as_str(), attachment.size), ("router.jpg", 70_000));
    assert_eq!(held.as_deref(), Some(&content[..]));
    let refused = other.attachment_for(&user("chris"), id).unwrap_err();
    assert_eq!(refused.code(), "not_found");
    // Content that is not the attachment's is refused, and what is kept stays.
    let wrong = other.keep_attachment_content(id, b"something else").unwrap_err();
    assert!(wrong.to_string().contains("is not the content of attachment"), "{wrong}");
    assert_eq!(w.engine.attachment_for(&user("bea"), id).unwrap().1.as_deref(), Some(&content[..]));
}
