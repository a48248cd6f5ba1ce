//! The Casedesk hub: an HTTP server (axum) over the same engine as the desktop. Only
//! this crate knows HTTP; every rule it applies is the engine's.
//!
//! - [`api`]: the REST endpoints and the OpenAPI document generated from them.
//! - [`attachments`]: attachment content, read by whoever may see the case.
//! - [`auth`]: passwords, tokens, the signed-in `Caller`.
//! - [`error`]: `{code, message}` with the HTTP status it means.
//! - [`integrations`]: customers by external id, CSV import, webhook subscriptions.
//! - [`public`]: the customers' pages: the web form and the status portal (HTML).
//! - [`sync`]: push, pull and reference blocks for desktops, and the change stream.
//! - [`ACCESS`]: which role may call which endpoint (tested against the document).

pub mod api;
pub mod attachments;
pub mod auth;
pub mod error;
pub mod integrations;
pub mod public;
pub mod sync;

use axum::routing::{get, patch, post, put};
use axum::Router;
use casedesk_core::Engine;
use error::ApiError;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use utoipa::OpenApi;

/// Request bodies above this are refused (413) before they are read.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// A desk's push may be larger: it carries attachments made offline (base64, a third
/// over the 25 MiB an attachment may have), in batches of at most 8 MiB but one.
pub const PUSH_MAX_BYTES: usize = 48 * 1024 * 1024;

/// Requests per second per token, with a burst allowance, counted by each hub process
/// (behind a load balancer a token may get this much from each).
pub const REQUESTS_PER_SECOND: u32 = 20;
pub const BURST: u32 = 40;
/// Sign-in attempts per minute per user name, counted in the database by every hub
/// process together (`Engine::allow_sign_in_attempt`).
pub const SIGN_INS_PER_MINUTE: u32 = 10;

/// Who may call what: (method, path, roles). "anyone" needs no token; "signed_in" any
/// role. The engine still checks each action; this table is what the tests hold the
/// served API to, row by row.
pub const ACCESS: &[(&str, &str, &[&str])] = &[
    ("post", "/api/login", &["anyone"]),
    ("get", "/api/me", &["signed_in"]),
    ("get", "/api/cases", &["signed_in"]),
    ("get", "/api/cases/{reference}", &["signed_in"]),
    ("patch", "/api/cases/{reference}", &["agent", "supervisor"]),
    ("post", "/api/cases/{reference}/status", &["agent", "supervisor"]),
    ("post", "/api/cases", &["agent", "supervisor"]),
    ("post", "/api/cases/{reference}/notes", &["agent", "supervisor"]),
    ("post", "/api/cases/{reference}/interactions", &["agent", "supervisor"]),
    ("post", "/api/tasks/{id}/complete", &["agent", "supervisor"]),
    ("get", "/api/attachments/{id}", &["signed_in"]),
    ("post", "/api/tokens", &["admin"]),
    ("post", "/api/cases/{reference}/rule-trial", &["admin"]),
    ("get", "/api/reports", &["supervisor", "admin"]),
    ("get", "/api/board", &["supervisor", "admin"]),
    ("post", "/api/reports/cases", &["supervisor", "admin"]),
    ("post", "/api/sync/push", &["signed_in"]),
    ("get", "/api/sync/changes", &["signed_in"]),
    ("post", "/api/sync/references", &["agent", "supervisor"]),
    ("get", "/api/sync/events", &["signed_in"]),
    ("get", "/api/customers", &["agent", "supervisor"]),
    ("post", "/api/customers", &["agent", "supervisor"]),
    ("patch", "/api/customers/{id}", &["agent", "supervisor"]),
    ("post", "/api/customers/import", &["supervisor", "admin"]),
    ("get", "/api/webhooks", &["admin"]),
    ("put", "/api/webhooks/{id}", &["admin"]),
    ("delete", "/api/webhooks/{id}", &["admin"]),
    ("get", "/api/webhooks/deliveries", &["admin"]),
    ("put", "/api/notification-channels", &["admin"]),
    ("get", "/api/openapi.json", &["anyone"]),
];

pub struct Hub {
    pub engine: Arc<Engine>,
    /// The customers' pages and where they are served.
    pub pages: public::Pages,
    /// The engine's last change number, for the change stream.
    head: tokio::sync::watch::Sender<i64>,
    per_token: DefaultKeyedRateLimiter<String>,
}

impl Hub {
    /// Reads the change head: call it off the async runtime's threads (see `main`).
    pub fn new(engine: Arc<Engine>) -> Arc<Hub> {
        Hub::serving(engine, public::Pages::new("http://127.0.0.1:8080", false))
    }

    /// A hub whose customer pages are `pages` (their public address, their proxy).
    pub fn serving(engine: Arc<Engine>, pages: public::Pages) -> Arc<Hub> {
        let n = |v: u32| NonZeroU32::new(v).expect("limits are positive");
        let head = tokio::sync::watch::Sender::new(engine.head().unwrap_or(0));
        Arc::new(Hub {
            engine,
            pages,
            head,
            per_token: RateLimiter::keyed(Quota::per_second(n(REQUESTS_PER_SECOND)).allow_burst(n(BURST))),
        })
    }

    pub(crate) fn too_many() -> ApiError {
        ApiError::new(axum::http::StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; slow down")
    }

    pub fn limit(&self, token_digest: &str) -> Result<(), ApiError> {
        self.per_token.check_key(&token_digest.to_string()).map_err(|_| Self::too_many())
    }

    /// Tells the change stream's listeners if the engine's change number moved.
    pub fn changed(&self) {
        if let Ok(now) = self.engine.head() {
            self.head.send_if_modified(|h| std::mem::replace(h, now) != now);
        }
    }
}

/// Runs what time drives (routing, service levels, escalation, timed business rules)
/// once a second on a thread of its own: the hub decides these for the desktops
/// connected to it. Between rounds it tells the change stream what moved (the REST API
/// and the timers change rows too, not only pushes).
pub fn run_due_work_in_background(hub: Arc<Hub>) {
    std::thread::spawn(move || loop {
        for _ in 0..4 {
            std::thread::sleep(std::time::Duration::from_millis(250));
            hub.changed();
        }
        if let Err(e) = hub.engine.run_due_work() {
            eprintln!("casedesk-server: the timers failed: {e}");
        }
    });
}

/// Sends the email, SMS and webhook deliveries the notification rules wrote: desks joined
/// to the hub do not, so the hub is the sender of record.
pub fn deliver_in_background(hub: Arc<Hub>) {
    casedesk_delivery::send_in_background("casedesk-server", move |senders| {
        Some(casedesk_delivery::send_due(&hub.engine, senders))
    });
}

/// The whole HTTP surface.
pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/api/login", post(api::login))
        .route("/api/me", get(api::me))
        .route("/api/cases", get(api::list_cases).post(api::create_case))
        .route("/api/cases/{reference}", get(api::get_case).patch(api::update_case))
        .route("/api/cases/{reference}/status", post(api::change_status))
        .route("/api/tokens", post(api::open_api_token))
        .route("/api/cases/{reference}/notes", post(api::add_note))
        .route("/api/cases/{reference}/interactions", post(api::add_interaction))
        .route("/api/tasks/{id}/complete", post(api::complete_task))
        .route("/api/attachments/{id}", get(attachments::content))
        .route("/api/cases/{reference}/rule-trial", post(api::try_rule))
        .route("/api/reports", get(api::report))
        .route("/api/board", get(api::board))
        .route("/api/reports/cases", post(api::report_cases))
        .route("/api/sync/changes", get(sync::changes))
        .route("/api/sync/references", post(sync::references))
        .route("/api/sync/events", get(sync::events))
        .route("/api/customers", get(integrations::search_customers).post(integrations::create_customer))
        .route("/api/customers/{id}", patch(integrations::update_customer))
        .route("/api/webhooks", get(integrations::list_webhooks))
        .route("/api/webhooks/deliveries", get(integrations::webhook_deliveries))
        .route("/api/webhooks/{id}", put(integrations::put_webhook).delete(integrations::delete_webhook))
        .route("/api/notification-channels", put(integrations::put_channels))
        .route("/api/openapi.json", get(|| async { axum::Json(api::ApiDoc::openapi()) }))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        // A body announced too large is refused before it is read; one without a length
        // stops being read at the limit. Layers wrap the routes above them only.
        .layer(axum::middleware::from_fn_with_state(MAX_BODY_BYTES, refuse_announced_oversize))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(
            Router::new()
                .route("/api/sync/push", post(sync::push))
                .layer(axum::middleware::from_fn_with_state(PUSH_MAX_BYTES, refuse_announced_oversize))
                .layer(axum::extract::DefaultBodyLimit::max(PUSH_MAX_BYTES)),
        )
        .merge(
            Router::new()
                .route("/api/customers/import", post(integrations::import_customers))
                .layer(axum::middleware::from_fn_with_state(integrations::IMPORT_MAX_BYTES, refuse_announced_oversize))
                .layer(axum::extract::DefaultBodyLimit::max(integrations::IMPORT_MAX_BYTES)),
        )
        // The customers' pages take HTML forms (with files), with limits of their own.
        .merge(public::router(hub.clone()))
        .with_state(hub)
}

async fn refuse_announced_oversize(
    axum::extract::State(limit): axum::extract::State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, ApiError> {
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body may be at most {limit} bytes"),
        )
    };
    if announced.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    // Every body the API takes is a JSON object: serde would also read a struct from an
    // array of its fields in order, which no client means.
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| too_large())?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
            "the body must be a JSON object, not an array",
        ));
    }
    Ok(next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await)
}
