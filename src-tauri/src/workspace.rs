//! Which workspace this desk opens, and as whom.

use casedesk_core::model::WorkspaceInfo;
use casedesk_core::{demo, Actor, Engine, ErrorPayload, OpenOptions, SystemClock};
use std::path::PathBuf;
use std::sync::Arc;
use tauri::Manager;

pub struct Desk {
    pub engine: Engine,
    pub actor: Actor,
    pub info: WorkspaceInfo,
}

/// The opened workspace, or why it could not be opened: the window then says so
/// instead of the app vanishing.
pub struct DeskState(pub Result<Desk, ErrorPayload>);

impl DeskState {
    pub fn desk(&self) -> Result<&Desk, ErrorPayload> {
        self.0.as_ref().map_err(Clone::clone)
    }
}

/// The data folder: `--data-dir PATH` on the command line, else `CASEDESK_DATA_DIR`,
/// else the platform's app-data folder. The user: `--user ID`, else `CASEDESK_USER`,
/// else the demo supervisor.
pub fn open(app: &tauri::AppHandle) -> DeskState {
    DeskState(try_open(app))
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn try_open(app: &tauri::AppHandle) -> Result<Desk, ErrorPayload> {
    let failed = |message: String| ErrorPayload { code: "workspace".into(), message };
    let data_dir = match arg("--data-dir").or_else(|| std::env::var("CASEDESK_DATA_DIR").ok()) {
        Some(d) => PathBuf::from(d),
        None => app.path().app_data_dir().map_err(|e| failed(format!("no app-data folder: {e}")))?,
    };
    let engine = Engine::open(&data_dir, Arc::new(SystemClock), OpenOptions::default()).map_err(|e| e.payload())?;
    if demo::seed(&engine).map_err(|e| e.payload())? {
        eprintln!("casedesk: new workspace in {}; demo data loaded", data_dir.display());
    }
    let user_id = arg("--user").or_else(|| std::env::var("CASEDESK_USER").ok()).unwrap_or_else(|| "sam".into());
    let user = engine
        .read(|db| db.user(&user_id))
        .map_err(|e| e.payload())?
        .ok_or_else(|| failed(format!("user '{user_id}' does not exist in the workspace {}", data_dir.display())))?;
    // Notifications start from now: what happened before the desk opened is not news.
    engine.desktop_notifications(&user.id).map_err(|e| e.payload())?;
    let info = WorkspaceInfo {
        user: user.clone(),
        data_dir: data_dir.display().to_string(),
        schema_version: engine.read(|db| db.schema_version()).map_err(|e| e.payload())?,
        mode: "standalone".into(),
    };
    Ok(Desk { actor: Actor::new(user.id, &user.roles), engine, info })
}
