//! Desktop notifications: who is told what, once; delivery through the Notifier seam
//! (a recording fake here; the desktop uses the system's notification server).

mod common;

use casedesk_core::notify::{deliver, DesktopNotification, Notifier};
use casedesk_core::routing::{Presence, QueueConfig, QueueMode};
use casedesk_core::Command;
use common::*;
use serde_json::json;
use std::sync::Mutex;

#[derive(Default)]
struct Recording {
    shown: Mutex<Vec<DesktopNotification>>,
    fail: bool,
}

impl Notifier for Recording {
    fn show(&self, n: &DesktopNotification) -> Result<(), String> {
        if self.fail {
            return Err("no notification server".into());
        }
        self.shown.lock().unwrap().push(n.clone());
        Ok(())
    }
}

#[test]
fn an_offer_and_an_assignment_are_told_to_the_right_people_once() {
    let w = world();
    let queue = QueueConfig { mode: QueueMode::Push, ..QueueConfig::pull("Employees_group_A") };
    w.engine.execute(&admin(), Command::DefineQueue { queue }).unwrap();
    let alex_desk = Recording::default();
    let bea_desk = Recording::default();
    // Desks start at the present: nothing from before they first looked.
    assert_eq!(deliver(&w.engine, "alex", &alex_desk).unwrap(), 0);
    assert_eq!(deliver(&w.engine, "bea", &bea_desk).unwrap(), 0);
    w.engine.execute(&alex(), Command::SetPresence { presence: Presence::Available, secondary: None }).unwrap();
    w.engine.execute(&alex(), Command::SetOnQueue { on_queue: true }).unwrap();
    let case = w.create_case(&bea(), "technical", json!({ "device": "Router" })).unwrap();
    assert_eq!(deliver(&w.engine, "alex", &alex_desk).unwrap(), 1);
    assert_eq!(deliver(&w.engine, "bea", &bea_desk).unwrap(), 0, "the offer is alex's");
    let shown = alex_desk.shown.lock().unwrap().clone();
    assert_eq!(
        (shown[0].title.as_str(), shown[0].body.as_str()),
        ("New task offered", "Diagnose the fault — TEC-000001")
    );
    // Once only.
    assert_eq!(deliver(&w.engine, "alex", &alex_desk).unwrap(), 0);
    // A failing notification server keeps the notification for the next round.
    let task = w.open_tasks(case).remove(0);
    w.engine.execute(&alex(), Command::AcceptOffer { task_id: task.id }).unwrap();
    w.engine
        .execute(
            &sam(),
            Command::ReassignTasks {
                task_ids: vec![task.id],
                to: casedesk_core::RouteTarget::Agent { user_id: "bea".into() },
            },
        )
        .unwrap();
    let broken = Recording { fail: true, ..Default::default() };
    assert!(deliver(&w.engine, "bea", &broken).is_err());
    assert_eq!(deliver(&w.engine, "bea", &bea_desk).unwrap(), 1);
    assert_eq!(bea_desk.shown.lock().unwrap()[0].title, "Assigned to you");
}

#[test]
fn the_demo_desk_is_told_of_its_offer() {
    let dir = tempfile::tempdir().unwrap();
    let engine =
        casedesk_core::Engine::open(dir.path(), std::sync::Arc::new(casedesk_core::SystemClock), Default::default())
            .unwrap();
    casedesk_core::demo::seed(&engine).unwrap();
    let desk = Recording::default();
    assert_eq!(deliver(&engine, "alex", &desk).unwrap(), 0);
    engine.execute(&alex(), Command::SetPresence { presence: Presence::Available, secondary: None }).unwrap();
    engine.execute(&alex(), Command::SetOnQueue { on_queue: true }).unwrap();
    assert_eq!(deliver(&engine, "alex", &desk).unwrap(), 1);
    assert_eq!(desk.shown.lock().unwrap()[0].body, "Diagnose the fault — TEC-000002");
}

#[test]
fn an_escalation_tells_who_had_it_and_who_receives_it_not_everyone() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    w.engine.execute(&alex(), Command::AssignTask { task_id: task.id, assignee: "alex".into() }).unwrap();
    let desks: Vec<(&str, Recording)> =
        ["alex", "bea", "chris", "sam"].into_iter().map(|u| (u, Recording::default())).collect();
    for (u, d) in &desks {
        deliver(&w.engine, u, d).unwrap();
    }
    // The breach: at risk and breached go to alex, who holds it; the escalation to alex
    // and to the experts' queue (chris and sam are members), not to bea.
    w.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-25T15:00:00Z").unwrap().with_timezone(&chrono::Utc));
    w.engine.run_due_timers().unwrap();
    let titles = |u: &str| {
        let (_, d) = desks.iter().find(|(x, _)| *x == u).unwrap();
        deliver(&w.engine, u, d).unwrap();
        d.shown.lock().unwrap().iter().map(|n| n.title.clone()).collect::<Vec<_>>()
    };
    assert_eq!(titles("alex"), ["Task at risk", "OLA breached", "Escalated to Expert_group_X"]);
    assert_eq!(titles("chris"), ["Escalated to Expert_group_X"]);
    assert_eq!(titles("sam"), ["Escalated to Expert_group_X"]);
    assert!(titles("bea").is_empty());
}

#[test]
fn muted_kinds_and_do_not_disturb_are_respected() {
    let w = world();
    let case = w.create_case(&alex(), "technical", json!({ "device": "Router" })).unwrap();
    let task = w.open_tasks(case).remove(0);
    let desk = Recording::default();
    deliver(&w.engine, "alex", &desk).unwrap();
    let prefs = |muted: &[&str], dnd| casedesk_core::notify::NotificationPreferences {
        muted: muted.iter().map(|s| s.to_string()).collect(),
        do_not_disturb: dnd,
    };
    let e = w
        .engine
        .execute(&alex(), Command::SetNotificationPreferences { preferences: prefs(&["birthdays"], false) })
        .unwrap_err();
    assert!(e.to_string().starts_with("muted: 'birthdays' is not a notification kind"), "{e}");
    // Muted: the assignment is not shown.
    w.engine
        .execute(&alex(), Command::SetNotificationPreferences { preferences: prefs(&["task_assigned"], false) })
        .unwrap();
    w.engine.execute(&sam(), Command::AssignTask { task_id: task.id, assignee: "alex".into() }).unwrap();
    assert_eq!(deliver(&w.engine, "alex", &desk).unwrap(), 0);
    // Do not disturb: nothing; and what came meanwhile is not saved up.
    w.engine.execute(&alex(), Command::SetNotificationPreferences { preferences: prefs(&[], true) }).unwrap();
    w.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z").unwrap().with_timezone(&chrono::Utc));
    w.engine.run_due_timers().unwrap();
    assert_eq!(deliver(&w.engine, "alex", &desk).unwrap(), 0);
    w.engine.execute(&alex(), Command::SetNotificationPreferences { preferences: prefs(&[], false) }).unwrap();
    assert_eq!(deliver(&w.engine, "alex", &desk).unwrap(), 0);
    w.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-25T15:00:00Z").unwrap().with_timezone(&chrono::Utc));
    w.engine.run_due_timers().unwrap();
    deliver(&w.engine, "alex", &desk).unwrap();
    assert_eq!(
        desk.shown.lock().unwrap().iter().map(|n| n.title.as_str()).collect::<Vec<_>>(),
        ["OLA breached", "Escalated to Expert_group_X"]
    );
}
