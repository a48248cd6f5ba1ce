//! Offers run out: once a second, if an open offer is past its deadline, the engine's
//! `ExpireOffers` command re-routes it (a read decides, so idle seconds write nothing).

use crate::workspace::DeskState;
use casedesk_core::{Actor, Command};
use std::time::Duration;
use tauri::Manager;

pub fn expire_in_background(app: tauri::AppHandle) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let state = app.state::<DeskState>();
        let Ok(desk) = state.desk() else { return };
        let due = desk.engine.next_offer_expiry().ok().flatten().is_some_and(|t| t <= desk.engine.clock().now());
        if due {
            if let Err(e) = desk.engine.execute(&Actor::system(), Command::ExpireOffers) {
                eprintln!("casedesk: expiring offers failed: {e}");
            }
        }
    });
}
