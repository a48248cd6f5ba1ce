//! `casedesk-server [--data-dir DIR] [--database postgres://…] [--listen ADDR] [--public-url URL]
//! [--trust-forwarded-for] [--demo]`
//!
//! Serves the hub over HTTP on ADDR (default 127.0.0.1:8080) from the workspace in DIR
//! (default ./casedesk-hub, a SQLite file, created if missing), or in the PostgreSQL
//! database `--database` names (DIR then holds only the attachments). TLS is the job of
//! the reverse proxy in front of it.
//! - `--public-url` is where customers reach the web form and portal (the links in their
//!   emails; default `http://ADDR`); `--trust-forwarded-for` takes a customer's address
//!   from the proxy's `X-Forwarded-For` for the per-address limits.
//! - An empty workspace with `CASEDESK_ADMIN_PASSWORD` set gets an `admin` user with it.
//! - `--demo` fills an empty workspace with the demo team and cases; each demo user's
//!   password is `CASEDESK_DEMO_PASSWORD` (required with --demo).

use casedesk_core::model::Role;
use casedesk_core::{demo, Actor, Command, Engine, SystemClock};
use casedesk_server::{auth, router, Hub};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn fail(message: String) -> ! {
    eprintln!("casedesk-server: {message}");
    std::process::exit(2)
}

/// Makes the demo or the first admin, if asked and not made yet. Hubs started together
/// over one workspace take turns, so it is made once.
fn prepare(engine: &Engine) -> Result<(), String> {
    engine.setting_up(|| Ok(set_up(engine))).map_err(|e| e.to_string())?
}

fn set_up(engine: &Engine) -> Result<(), String> {
    let system = Actor::system();
    let empty = engine.users().map_err(|e| e.to_string())?.is_empty();
    if std::env::args().any(|a| a == "--demo") {
        let password = std::env::var("CASEDESK_DEMO_PASSWORD")
            .map_err(|_| "--demo needs CASEDESK_DEMO_PASSWORD (the demo users' password)".to_string())?;
        // Checked before the demo is written, so a refused password leaves the workspace as it was.
        auth::check_password(&password).map_err(|e| format!("CASEDESK_DEMO_PASSWORD: {}", e.payload.message))?;
        if demo::seed(engine).map_err(|e| e.to_string())? {
            for (user, ..) in demo::USERS {
                auth::set_password(engine, &system, user, &password).map_err(|e| e.payload.message)?;
            }
            eprintln!("casedesk-server: demo workspace created");
        }
    } else if empty {
        if let Ok(password) = std::env::var("CASEDESK_ADMIN_PASSWORD") {
            auth::check_password(&password).map_err(|e| format!("CASEDESK_ADMIN_PASSWORD: {}", e.payload.message))?;
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

/// Opens the workspace: on PostgreSQL when `--database` names a database, else in the
/// SQLite file of `dir`. Returns it with how it is shown.
fn open(dir: &Path) -> (Engine, String) {
    let clock = Arc::new(SystemClock);
    match arg("--database") {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let engine = Engine::open_postgres(&url, dir, clock)
                .unwrap_or_else(|e| fail(format!("cannot open the workspace: {e}")));
            (engine, "the PostgreSQL database".into())
        }
        Some(other) => fail(format!("--database must be a postgres:// URL, not '{other}'")),
        None => {
            let engine = Engine::open(dir, clock, Default::default())
                .unwrap_or_else(|e| fail(format!("cannot open the workspace in {}: {e}", dir.display())));
            (engine, dir.display().to_string())
        }
    }
}

fn main() {
    let dir = PathBuf::from(arg("--data-dir").unwrap_or_else(|| "casedesk-hub".into()));
    let listen = arg("--listen").unwrap_or_else(|| "127.0.0.1:8080".into());
    // The engine is opened and the hub made before the async runtime starts: the
    // PostgreSQL driver blocks, and must never be called on the runtime's threads.
    let (engine, shown) = open(&dir);
    prepare(&engine).unwrap_or_else(|e| fail(e));
    let public_url = arg("--public-url").unwrap_or_else(|| format!("http://{listen}"));
    if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
        fail(format!("--public-url must be an http:// or https:// address, not '{public_url}'"));
    }
    let trust = std::env::args().any(|a| a == "--trust-forwarded-for");
    let hub = Hub::serving(Arc::new(engine), casedesk_server::public::Pages::new(&public_url, trust));
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| fail(format!("cannot start: {e}")));
    runtime.block_on(serve(hub, listen, shown));
}

async fn serve(hub: Arc<Hub>, listen: String, shown: String) {
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .unwrap_or_else(|e| fail(format!("cannot listen on {listen}: {e}")));
    eprintln!("casedesk-server: serving {shown} on http://{listen}");
    casedesk_server::run_due_work_in_background(hub.clone());
    casedesk_server::deliver_in_background(hub.clone());
    let app = router(hub);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    // Each connection's address, for the customer pages' per-address limits.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        fail(format!("stopped: {e}"));
    }
}
