//! IPC commands: one line each, errors as `{code, message}`.

use crate::workspace::DeskState;
use casedesk_core::casetype::CaseTypeDef;
use casedesk_core::engine::{
    Board, Catalogue, ConflictRecord, HistoricalReport, ImportReport, NotificationCentre, SyncStatus,
};
use casedesk_core::intent::IntentSuggestions;
use casedesk_core::model::{AgentDesk, Case, CaseDetail, CaseSummary, WorkbinPage, WorkspaceInfo};
use casedesk_core::reports::{Figure, ReportRange};
use casedesk_core::{Command, Error, ErrorPayload, Executed};
use tauri::State;
use uuid::Uuid;

type Reply<T> = Result<T, ErrorPayload>;

#[tauri::command(async)]
pub fn workspace_info(state: State<DeskState>) -> Reply<WorkspaceInfo> {
    Ok(state.desk()?.info.clone())
}

#[tauri::command(async)]
pub fn list_case_types(state: State<DeskState>) -> Reply<Vec<CaseTypeDef>> {
    state.desk()?.engine.case_types().map_err(|e| e.payload())
}

#[tauri::command(async)]
pub fn list_cases(state: State<DeskState>, limit: u32, offset: u32) -> Reply<Vec<CaseSummary>> {
    state.desk()?.engine.case_summaries(limit, offset).map_err(|e| e.payload())
}

/// Cases the signed-in person may see whose reference, subject, description or customer
/// name contains `query`, newest first.
#[tauri::command(async)]
pub fn search_cases(state: State<DeskState>, query: String, limit: u32) -> Reply<Vec<CaseSummary>> {
    let desk = state.desk()?;
    desk.engine.case_summaries_for(&desk.info.user, Some(&query), limit, 0).map_err(|e| e.payload())
}

/// A page of a team workbin's open work, as the signed-in person may see it.
#[tauri::command(async)]
pub fn workbin(state: State<DeskState>, queue: String, offset: u32, limit: u32) -> Reply<WorkbinPage> {
    let desk = state.desk()?;
    desk.engine.workbin(&desk.info.user, &queue, offset, limit).map_err(|e| e.payload())
}

#[tauri::command(async)]
pub fn get_case(state: State<DeskState>, id: Uuid) -> Reply<CaseDetail> {
    state.desk()?.engine.case_detail(id).map_err(|e| e.payload())
}

#[tauri::command(async)]
pub fn execute(state: State<DeskState>, command: Command) -> Reply<Executed> {
    let desk = state.desk()?;
    let done = desk.engine.submit(&desk.actor, command).map_err(|e| e.payload())?;
    if let Some(hub) = &desk.hub {
        hub.wake.notify_one();
    }
    Ok(done)
}

/// Customers from CSV (supervisors and admins), run as any command (a desk joined to a
/// hub pushes it); the answer says what the import did here.
#[tauri::command(async)]
pub fn import_customers(state: State<DeskState>, csv: String) -> Reply<ImportReport> {
    execute(state, Command::ImportCustomers { csv }).map(ImportReport::of)
}

/// Conflicts the signed-in person may see (their own; a supervisor's teams').
#[tauri::command(async)]
pub fn conflicts(state: State<DeskState>) -> Reply<Vec<ConflictRecord>> {
    let desk = state.desk()?;
    desk.engine.conflicts(&desk.info.user, 100).map_err(|e| e.payload())
}

/// What the toolbar shows of sync: online, changes waiting, last sync, conflicts.
#[tauri::command(async)]
pub fn sync_status(state: State<DeskState>) -> Reply<SyncStatus> {
    let desk = state.desk()?;
    let mut status = desk.engine.sync_status(&desk.info.user).map_err(|e| e.payload())?;
    if let Some(hub) = &desk.hub {
        status.online = hub.online.load(std::sync::atomic::Ordering::Relaxed);
        status.problem = hub.problem.lock().unwrap_or_else(|p| p.into_inner()).clone();
    }
    Ok(status)
}

#[tauri::command(async)]
pub fn agent_desk(state: State<DeskState>) -> Reply<AgentDesk> {
    let desk = state.desk()?;
    desk.engine.agent_desk(&desk.actor.user_id).map_err(|e| e.payload())
}

#[tauri::command(async)]
pub fn notification_centre(state: State<DeskState>) -> Reply<NotificationCentre> {
    let desk = state.desk()?;
    desk.engine.notification_centre(&desk.actor).map_err(|e| e.payload())
}

/// Opens one of the case's links in the system browser. The engine fills the link in
/// from the case type, so the page cannot open an address of its own.
#[tauri::command(async)]
pub fn open_case_link(app: tauri::AppHandle, state: State<DeskState>, id: Uuid, index: usize) -> Reply<()> {
    use tauri_plugin_opener::OpenerExt;
    let detail = state.desk()?.engine.case_detail(id).map_err(|e| e.payload())?;
    let link = detail.links.get(index).ok_or_else(|| Error::not_found("link", index).payload())?;
    app.opener()
        .open_url(&link.url, None::<&str>)
        .map_err(|e| ErrorPayload { code: "open_failed".into(), message: format!("{}: {e}", link.url) })
}

#[tauri::command(async)]
pub fn historical_report(state: State<DeskState>, range: ReportRange) -> Reply<HistoricalReport> {
    let desk = state.desk()?;
    desk.engine.historical_report(&desk.actor, range).map_err(|e| e.payload())
}

#[tauri::command(async)]
pub fn board(state: State<DeskState>) -> Reply<Board> {
    let desk = state.desk()?;
    desk.engine.board(&desk.actor).map_err(|e| e.payload())
}

#[tauri::command(async)]
pub fn report_cases(state: State<DeskState>, range: ReportRange, figure: Figure) -> Reply<Vec<Case>> {
    let desk = state.desk()?;
    desk.engine.report_cases(&desk.actor, range, &figure).map_err(|e| e.payload())
}

/// Writes every report of the range as CSV files into a folder under the user's
/// downloads (the app's data folder if there is none); returns the folder.
#[tauri::command(async)]
pub fn export_report(app: tauri::AppHandle, state: State<DeskState>, range: ReportRange) -> Reply<String> {
    use tauri::Manager;
    let desk = state.desk()?;
    let report = desk.engine.historical_report(&desk.actor, range).map_err(|e| e.payload())?;
    let files = casedesk_core::reports::csv_export::files(&report).map_err(|e| e.payload())?;
    let base = app.path().download_dir().unwrap_or_else(|_| desk.engine.data_dir().to_path_buf());
    let folder = base.join(format!(
        "casedesk-report-{}-{}",
        report.range.from.format("%Y%m%d"),
        report.range.to.format("%Y%m%d")
    ));
    let io = |e: std::io::Error| Error::Io(format!("{}: {e}", folder.display())).payload();
    std::fs::create_dir_all(&folder).map_err(io)?;
    for (name, text) in files {
        std::fs::write(folder.join(name), text).map_err(io)?;
    }
    Ok(folder.display().to_string())
}

#[tauri::command(async)]
pub fn suggest_intents(state: State<DeskState>, text: String) -> Reply<IntentSuggestions> {
    state.desk()?.engine.suggest_intents(&text).map_err(|e| e.payload())
}

/// Every field of a form that breaks its rule, while the person types: the engine's own
/// field rules, so the page never decides what is valid.
#[tauri::command(async)]
pub fn check_form(
    fields: Vec<casedesk_core::fields::FieldDef>,
    values: serde_json::Map<String, serde_json::Value>,
) -> Vec<casedesk_core::fields::FieldProblem> {
    casedesk_core::fields::problems(&fields, &values)
}

/// The workspace's configuration (supervisors and admins), for the admin sheet.
#[tauri::command(async)]
pub fn catalogue(state: State<DeskState>) -> Reply<Catalogue> {
    let desk = state.desk()?;
    desk.engine.catalogue(&desk.actor).map_err(|e| e.payload())
}

/// Customers whose name, email, phone or external id matches `query`, for a new case.
#[tauri::command(async)]
pub fn search_customers(
    state: State<DeskState>,
    query: String,
    limit: u32,
) -> Reply<Vec<casedesk_core::model::Customer>> {
    let desk = state.desk()?;
    desk.engine.search_customers(&desk.actor, &query, limit).map_err(|e| e.payload())
}

/// Opens an attachment with the system's program for its type. A desk joined to a hub
/// fetches content it does not hold (attached on another desk) and keeps it, checked
/// against the attachment's SHA-256. What is opened is a copy under the app's cache
/// folder, named as attached; its path is returned.
#[tauri::command]
pub async fn open_attachment(app: tauri::AppHandle, id: Uuid) -> Reply<String> {
    use tauri::Manager;
    use tauri_plugin_opener::OpenerExt;
    let (attachment, held, hub) = on_desk(app.clone(), move |desk| {
        let (attachment, held) = desk.engine.attachment_for(&desk.info.user, id).map_err(|e| e.payload())?;
        Ok((attachment, held, desk.hub.clone()))
    })
    .await?;
    let content = match (held, hub) {
        (Some(content), _) => content,
        (None, Some(hub)) => {
            let content = hub.attachment_content(id).await.map_err(|e| e.payload())?;
            let kept = content.clone();
            on_desk(app.clone(), move |desk| desk.engine.keep_attachment_content(id, &kept).map_err(|e| e.payload()))
                .await?;
            content
        }
        (None, None) => return Err(Error::not_found("attachment content", id).payload()),
    };
    let folder = app
        .path()
        .app_cache_dir()
        .map_err(|e| Error::Io(e.to_string()).payload())?
        .join("attachments")
        .join(id.to_string());
    let path = folder.join(&attachment.file_name);
    let io = |e: std::io::Error| Error::Io(format!("{}: {e}", path.display())).payload();
    std::fs::create_dir_all(&folder).map_err(io)?;
    std::fs::write(&path, &content).map_err(io)?;
    let shown = path.display().to_string();
    app.opener()
        .open_path(&shown, None::<&str>)
        .map_err(|e| ErrorPayload { code: "open_failed".into(), message: format!("{shown}: {e}") })?;
    Ok(shown)
}

/// Runs `f` on the desk from a thread that may block (the engine's calls do), for the
/// async commands that also wait on the hub.
async fn on_desk<T: Send + 'static>(
    app: tauri::AppHandle,
    f: impl FnOnce(&crate::workspace::Desk) -> Reply<T> + Send + 'static,
) -> Reply<T> {
    use tauri::Manager;
    tauri::async_runtime::spawn_blocking(move || f(app.state::<DeskState>().desk()?))
        .await
        .map_err(|e| Error::Io(e.to_string()).payload())?
}
