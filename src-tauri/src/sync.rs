//! The sync loop of a desk joined to a hub, on tokio: a round runs after each command
//! made here, whenever the hub's change stream says there is something to pull, and
//! every few seconds otherwise (the polling fallback, and how a desk that was offline
//! notices the hub is back). The link itself is `casedesk-link`.

use crate::workspace::DeskState;
use casedesk_link::{listen, round, HubConnection, POLL};
use std::sync::Arc;
use tauri::Manager;

/// Starts the loop and the change-stream listener.
pub fn run_in_background(app: tauri::AppHandle, hub: Arc<HubConnection>) {
    tauri::async_runtime::spawn(listen(hub.clone()));
    tauri::async_runtime::spawn(async move {
        loop {
            let (app2, hub2) = (app.clone(), hub.clone());
            let runtime = tokio::runtime::Handle::current();
            let _ = tauri::async_runtime::spawn_blocking(move || {
                let state = app2.state::<DeskState>();
                if let Ok(desk) = state.desk() {
                    if let Err(e) = round(&desk.engine, &hub2, runtime) {
                        eprintln!("casedesk: sync: {e}");
                    }
                }
            })
            .await;
            let _ = tokio::time::timeout(POLL, hub.wake.notified()).await;
        }
    });
}
