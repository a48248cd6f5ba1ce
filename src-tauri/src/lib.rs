//! The desktop shell: opens the workspace, hands the engine to the window, and turns
//! IPC calls into engine calls. No domain rule lives here.

mod commands;
mod notifier;
mod sync;
mod timers;
mod workspace;

pub fn run() {
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .setup(|app| {
            let state = workspace::open(app.handle());
            if let Err(e) = &state.0 {
                eprintln!("casedesk: {} ({})", e.message, e.code);
            }
            let hub = state.desk().ok().and_then(|d| d.hub.clone());
            tauri::Manager::manage(app, state);
            timers::run_in_background(app.handle().clone());
            match hub {
                // Joined to a hub, the hub sends email, SMS and webhooks.
                Some(hub) => sync::run_in_background(app.handle().clone(), hub),
                None => timers::deliver_in_background(app.handle().clone()),
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::workspace_info,
            commands::list_case_types,
            commands::list_cases,
            commands::search_cases,
            commands::workbin,
            commands::get_case,
            commands::execute,
            commands::agent_desk,
            commands::notification_centre,
            commands::suggest_intents,
            commands::open_case_link,
            commands::historical_report,
            commands::report_cases,
            commands::board,
            commands::export_report,
            commands::check_form,
            commands::catalogue,
            commands::search_customers,
            commands::import_customers,
            commands::sync_status,
            commands::conflicts,
            commands::open_attachment,
        ]);
    if let Err(e) = app.run(tauri::generate_context!()) {
        eprintln!("casedesk: {e}");
        std::process::exit(1);
    }
}
