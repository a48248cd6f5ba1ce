//! `casedesk-server [--data-dir DIR] [--listen ADDR] [--demo]`
//!
//! Serves the hub over HTTP on ADDR (default 127.0.0.1:8080) from the workspace in DIR
//! (default ./casedesk-hub, a SQLite file, created if missing). TLS is the job of the
//! reverse proxy in front of it.
//! - An empty workspace with `CASEDESK_ADMIN_PASSWORD` set gets an `admin` user with it.
//! - `--demo` fills an empty workspace with the demo team and cases; each demo user's
//!   password is `CASEDESK_DEMO_PASSWORD` (required with --demo).

use casedesk_core::model::Role;
use casedesk_core::{demo, Actor, Command, Engine, SystemClock};
use casedesk_server::{auth, router, Hub};
use std::path::PathBuf;
use std::sync::Arc;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn fail(message: String) -> ! {
    eprintln!("casedesk-server: {message}");
    std::process::exit(2)
}

fn prepare(engine: &Engine) -> Result<(), String> {
    let system = Actor::system();
    let empty = engine.users().map_err(|e| e.to_string())?.is_empty();
    if std::env::args().any(|a| a == "--demo") {
        let password = std::env::var("CASEDESK_DEMO_PASSWORD")
            .map_err(|_| "--demo needs CASEDESK_DEMO_PASSWORD (the demo users' password)".to_string())?;
        if demo::seed(engine).map_err(|e| e.to_string())? {
            for (user, ..) in demo::USERS {
                auth::set_password(engine, &system, user, &password).map_err(|e| e.payload.message)?;
            }
            eprintln!("casedesk-server: demo workspace created");
        }
    } else if empty {
        if let Ok(password) = std::env::var("CASEDESK_ADMIN_PASSWORD") {
            let admin = Command::CreateUser {
                id: "admin".into(),
                name: "Administrator".into(),
                roles: vec![Role::Admin],
                teams: vec![],
            };
            engine.execute(&system, admin).map_err(|e| e.to_string())?;
            auth::set_password(engine, &system, "admin", &password).map_err(|e| e.payload.message)?;
            eprintln!("casedesk-server: user 'admin' created");
        } else {
            eprintln!("casedesk-server: the workspace has no users; set CASEDESK_ADMIN_PASSWORD to create 'admin'");
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let dir = PathBuf::from(arg("--data-dir").unwrap_or_else(|| "casedesk-hub".into()));
    let listen = arg("--listen").unwrap_or_else(|| "127.0.0.1:8080".into());
    let engine = Engine::open(&dir, Arc::new(SystemClock), Default::default())
        .unwrap_or_else(|e| fail(format!("cannot open the workspace in {}: {e}", dir.display())));
    prepare(&engine).unwrap_or_else(|e| fail(e));
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .unwrap_or_else(|e| fail(format!("cannot listen on {listen}: {e}")));
    eprintln!("casedesk-server: serving {} on http://{listen}", dir.display());
    let engine = Arc::new(engine);
    let hub = Hub::new(engine);
    casedesk_server::run_due_work_in_background(hub.clone());
    casedesk_server::deliver_in_background(hub.clone());
    let app = router(hub);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        fail(format!("stopped: {e}"));
    }
}
