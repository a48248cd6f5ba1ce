//! What time drives (`Engine::run_due_work`: routing, service levels, escalation, timed
//! business rules), checked once a second, and desktop notifications.

use crate::notifier::SystemNotifier;
use crate::workspace::DeskState;
use casedesk_core::notify;
use std::time::Duration;
use tauri::Manager;

pub fn run_in_background(app: tauri::AppHandle) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let state = app.state::<DeskState>();
        let Ok(desk) = state.desk() else { return };
        if let Err(e) = desk.engine.run_due_work() {
            eprintln!("casedesk: the timers failed: {e}");
        }
        // What is new for the signed-in user goes to the desktop's notification server.
        if let Err(e) = notify::deliver(&desk.engine, &desk.actor.user_id, &SystemNotifier) {
            eprintln!("casedesk: {e}");
        }
    });
}

/// Sends the email, SMS and webhook deliveries the notification rules wrote, on a thread
/// of its own so a slow mail server never holds up the timers. Standalone, this desk is
/// the sender.
pub fn deliver_in_background(app: tauri::AppHandle) {
    casedesk_delivery::send_in_background("casedesk", move |senders| {
        let state = app.state::<DeskState>();
        let desk = state.desk().ok()?;
        Some(casedesk_delivery::send_due(&desk.engine, senders))
    });
}
