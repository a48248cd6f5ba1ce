//! Which workspace this desk opens, and as whom.

use casedesk_core::model::WorkspaceInfo;
use casedesk_core::{demo, Actor, Engine, ErrorPayload, OpenOptions, SystemClock};
use casedesk_link::HubConnection;
use std::path::PathBuf;
use std::sync::Arc;
use tauri::Manager;
use uuid::Uuid;

pub struct Desk {
    pub engine: Engine,
    pub actor: Actor,
    pub info: WorkspaceInfo,
    /// The hub this desk follows, if it is joined to one.
    pub hub: Option<Arc<HubConnection>>,
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
/// else the demo supervisor. A hub: `--hub URL`, else `CASEDESK_HUB`, signing in with
/// `CASEDESK_PASSWORD`; the workspace is then the hub's (no demo data of its own).
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
    let user_id = arg("--user").or_else(|| std::env::var("CASEDESK_USER").ok()).unwrap_or_else(|| "sam".into());
    let hub = match arg("--hub").or_else(|| std::env::var("CASEDESK_HUB").ok()) {
        Some(url) => Some(join(&engine, &url, &user_id)?),
        None => {
            if demo::seed(&engine).map_err(|e| e.payload())? {
                eprintln!("casedesk: new workspace in {}; demo data loaded", data_dir.display());
            }
            None
        }
    };
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
        mode: if hub.is_some() { "hub".into() } else { "standalone".into() },
    };
    Ok(Desk { actor: Actor::new(user.id, &user.roles), engine, info, hub })
}

/// Joins the workspace to a hub (once; the client id is kept) and, when it holds no
/// users yet, pulls the hub's workspace before the window opens.
fn join(engine: &Engine, url: &str, user: &str) -> Result<Arc<HubConnection>, ErrorPayload> {
    let password = std::env::var("CASEDESK_PASSWORD").map_err(|_| ErrorPayload {
        code: "workspace".into(),
        message: "a desk joined to a hub signs in with CASEDESK_PASSWORD; it is not set".into(),
    })?;
    engine.join_hub(&format!("desk-{}", Uuid::new_v4())).map_err(|e| e.payload())?;
    let hub = HubConnection::new(url, user, &password);
    if engine.users().map_err(|e| e.payload())?.is_empty() {
        let runtime = tauri::async_runtime::handle().inner().clone();
        casedesk_link::round(engine, &hub, runtime).map_err(|e| e.payload())?;
    }
    Ok(hub)
}
