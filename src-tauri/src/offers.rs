//! Routing that time drives: once a second, if an offer has run out or a waiting task's
//! preferred-agent window or bullseye ring has come, the engine's `RoutingTick` command
//! routes again (a read decides first, so idle seconds write nothing).

use crate::workspace::DeskState;
use casedesk_core::{Actor, Command};
use std::time::Duration;
use tauri::Manager;

pub fn expire_in_background(app: tauri::AppHandle) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let state = app.state::<DeskState>();
        let Ok(desk) = state.desk() else { return };
        let due = desk.engine.next_routing_due().ok().flatten().is_some_and(|t| t <= desk.engine.clock().now());
        if due {
            if let Err(e) = desk.engine.execute(&Actor::system(), Command::RoutingTick) {
                eprintln!("casedesk: the routing tick failed: {e}");
            }
        }
    });
}
