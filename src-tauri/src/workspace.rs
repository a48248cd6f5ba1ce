//! Which workspace this desk opens, and as whom.

use casedesk_core::model::WorkspaceInfo;
use casedesk_core::{demo, Actor, Engine, OpenOptions, SystemClock};
use std::path::PathBuf;
use std::sync::Arc;
use tauri::Manager;

pub struct Desk {
    pub engine: Engine,
    pub actor: Actor,
    pub info: WorkspaceInfo,
}

/// `CASEDESK_DATA_DIR` overrides the platform's app-data folder (tests, several
/// profiles); `CASEDESK_USER` picks the signed-in user (default: the demo supervisor).
pub fn open(app: &tauri::AppHandle) -> Result<Desk, Box<dyn std::error::Error>> {
    let data_dir = match std::env::var_os("CASEDESK_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => app.path().app_data_dir()?,
    };
    let engine = Engine::open(&data_dir, Arc::new(SystemClock), OpenOptions::default())?;
    if demo::seed(&engine)? {
        eprintln!("casedesk: new workspace in {}; demo data loaded", data_dir.display());
    }
    let user_id = std::env::var("CASEDESK_USER").unwrap_or_else(|_| "sam".into());
    let user = engine
        .read(|db| db.user(&user_id))?
        .ok_or_else(|| format!("user '{user_id}' (CASEDESK_USER) does not exist in {}", data_dir.display()))?;
    let info = WorkspaceInfo {
        user: user.clone(),
        data_dir: data_dir.display().to_string(),
        schema_version: engine.read(|db| db.schema_version())?,
        mode: "standalone".into(),
    };
    Ok(Desk { actor: Actor::new(user.id, &user.roles), engine, info })
}
