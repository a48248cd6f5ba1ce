//! IPC commands: one line each, errors as `{code, message}`.

use crate::workspace::Desk;
use casedesk_core::casetype::CaseTypeDef;
use casedesk_core::model::{CaseDetail, CaseSummary, WorkspaceInfo};
use casedesk_core::{Command, ErrorPayload, Executed};
use tauri::State;
use uuid::Uuid;

type Reply<T> = Result<T, ErrorPayload>;

#[tauri::command(async)]
pub fn workspace_info(desk: State<Desk>) -> WorkspaceInfo {
    desk.info.clone()
}

#[tauri::command(async)]
pub fn list_case_types(desk: State<Desk>) -> Reply<Vec<CaseTypeDef>> {
    desk.engine.case_types().map_err(|e| e.payload())
}

#[tauri::command(async)]
pub fn list_cases(desk: State<Desk>, limit: u32, offset: u32) -> Reply<Vec<CaseSummary>> {
    desk.engine.case_summaries(limit, offset).map_err(|e| e.payload())
}

#[tauri::command(async)]
pub fn get_case(desk: State<Desk>, id: Uuid) -> Reply<CaseDetail> {
    desk.engine.case_detail(id).map_err(|e| e.payload())
}

#[tauri::command(async)]
pub fn execute(desk: State<Desk>, command: Command) -> Reply<Executed> {
    desk.engine.execute(&desk.actor, command).map_err(|e| e.payload())
}
