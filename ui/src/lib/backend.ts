// The one module that talks to the Rust side. Types come from the engine (ts-rs).
import { invoke } from "@tauri-apps/api/core";
import type { AgentDesk } from "../bindings/AgentDesk";
import type { Board } from "../bindings/Board";
import type { Case } from "../bindings/Case";
import type { FieldDef } from "../bindings/FieldDef";
import type { FieldProblem } from "../bindings/FieldProblem";
import type { ImportReport } from "../bindings/ImportReport";
import type { Figure } from "../bindings/Figure";
import type { HistoricalReport } from "../bindings/HistoricalReport";
import type { ReportRange } from "../bindings/ReportRange";
import type { Catalogue } from "../bindings/Catalogue";
import type { CaseDetail } from "../bindings/CaseDetail";
import type { CaseSummary } from "../bindings/CaseSummary";
import type { CaseTypeDef } from "../bindings/CaseTypeDef";
import type { Command } from "../bindings/Command";
import type { Customer } from "../bindings/Customer";
import type { ErrorPayload } from "../bindings/ErrorPayload";
import type { Executed } from "../bindings/Executed";
import type { IntentSuggestions } from "../bindings/IntentSuggestions";
import type { NotificationCentre } from "../bindings/NotificationCentre";
import type { WorkbinPage } from "../bindings/WorkbinPage";
import type { WorkspaceInfo } from "../bindings/WorkspaceInfo";
import type { SyncStatus } from "../bindings/SyncStatus";
import type { ConflictRecord } from "../bindings/ConflictRecord";

/** An engine error as it crosses IPC: a stable code and a message naming field and rule. */
export class BackendError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    const p = e as Partial<ErrorPayload>;
    if (p && typeof p.code === "string") throw new BackendError(p.code, p.message ?? p.code);
    throw new BackendError("ipc", String(e));
  }
}

export const backend = {
  workspaceInfo: () => call<WorkspaceInfo>("workspace_info"),
  caseTypes: () => call<CaseTypeDef[]>("list_case_types"),
  cases: (limit = 200, offset = 0) => call<CaseSummary[]>("list_cases", { limit, offset }),
  workbin: (queue: string, offset: number, limit: number) => call<WorkbinPage>("workbin", { queue, offset, limit }),
  searchCases: (query: string, limit: number) => call<CaseSummary[]>("search_cases", { query, limit }),
  caseDetail: (id: string) => call<CaseDetail>("get_case", { id }),
  execute: (command: Command) => call<Executed>("execute", { command }),
  agentDesk: () => call<AgentDesk>("agent_desk"),
  notificationCentre: () => call<NotificationCentre>("notification_centre"),
  suggestIntents: (text: string) => call<IntentSuggestions>("suggest_intents", { text }),
  openCaseLink: (id: string, index: number) => call<void>("open_case_link", { id, index }),
  /** Opens an attachment with the system's program (fetched from the hub if this desk lacks it); returns the file opened. */
  openAttachment: (id: string) => call<string>("open_attachment", { id }),
  report: (range: ReportRange) => call<HistoricalReport>("historical_report", { range }),
  board: () => call<Board>("board"),
  reportCases: (range: ReportRange, figure: Figure) => call<Case[]>("report_cases", { range, figure }),
  checkForm: (fields: FieldDef[], values: Record<string, unknown>) => call<FieldProblem[]>("check_form", { fields, values }),
  searchCustomers: (query: string, limit = 8) => call<Customer[]>("search_customers", { query, limit }),
  /** Customers from CSV (a header row names the columns); what was made, changed and left out. */
  importCustomers: (csv: string) => call<ImportReport>("import_customers", { csv }),
  catalogue: () => call<Catalogue>("catalogue"),
  exportReport: (range: ReportRange) => call<string>("export_report", { range }),
  syncStatus: () => call<SyncStatus>("sync_status"),
  conflicts: () => call<ConflictRecord[]>("conflicts"),
};
