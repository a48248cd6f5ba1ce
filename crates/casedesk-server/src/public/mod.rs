//! The hub's pages for customers, served as plain HTML forms that work without
//! JavaScript: the web form that captures a case (`form.rs`) and the status portal
//! (`portal.rs`). What a form must hold and what a customer may see are the engine's
//! rules; this module renders pages (minijinja templates in `templates/`, HTML-escaped)
//! and guards the doors: a limit of posts per client address, a size limit on bodies,
//! and a honeypot field on the web form.

// An `Err` here is the page to answer with, returned at once, never passed along.
#![allow(clippy::result_large_err)]

mod form;
mod portal;

use crate::Hub;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

/// A form with its files, or a document, may be this large (an attachment may be 25 MiB).
pub const FORM_MAX_BYTES: usize = 30 * 1024 * 1024;
/// Posts (forms, link requests, comments) per client address per minute.
pub const POSTS_PER_MINUTE: u32 = 20;
/// Sign-in links asked for one address per minute (every hub process together).
pub const LINKS_PER_MINUTE: u32 = 3;
/// How long a portal session lasts.
pub const SESSION_HOURS: i64 = 12;

/// What the public pages need beside the engine.
pub struct Pages {
    templates: minijinja::Environment<'static>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    /// Where customers reach the hub ("https://service.example.com"), for the links in
    /// emails: never taken from a request's Host header, which a client chooses.
    pub public_url: String,
    /// Whether the client's address is the last one in `X-Forwarded-For` (behind a
    /// reverse proxy that sets it), rather than the connection's.
    pub trust_forwarded_for: bool,
}

impl Pages {
    pub fn new(public_url: &str, trust_forwarded_for: bool) -> Pages {
        let mut templates = minijinja::Environment::new();
        for (name, source) in TEMPLATES {
            templates.add_template(name, source).expect("the page templates are valid");
        }
        let n = |v: u32| NonZeroU32::new(v).expect("limits are positive");
        Pages {
            templates,
            per_address: RateLimiter::keyed(Quota::per_minute(n(POSTS_PER_MINUTE))),
            public_url: public_url.trim_end_matches('/').to_string(),
            trust_forwarded_for,
        }
    }

    /// Renders a page; `status` is the answer's HTTP status.
    pub(crate) fn render(&self, status: StatusCode, name: &str, context: impl Serialize) -> Response {
        match self.templates.get_template(name).and_then(|t| t.render(context)) {
            // Pages hold a customer's data: never kept by a cache, never framed by another
            // site, no script at all, forms posted only here.
            Ok(html) => (
                status,
                [
                    (header::CACHE_CONTROL, "no-store"),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; \
                         frame-ancestors 'none'; base-uri 'none'",
                    ),
                    (header::REFERRER_POLICY, "same-origin"),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                Html(html),
            )
                .into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("the page {name} failed: {e}")).into_response(),
        }
    }

    /// A page that only says something (a refusal, a page not found).
    pub(crate) fn message(&self, status: StatusCode, title: &str, text: &str) -> Response {
        #[derive(Serialize)]
        struct Message<'a> {
            title: &'a str,
            text: &'a str,
        }
        self.render(status, "message.html", Message { title, text })
    }

    /// Counts a post from `address`; a page saying to wait when there were too many.
    pub(crate) fn limit(&self, address: IpAddr) -> Result<(), Response> {
        self.per_address.check_key(&address).map_err(|_| {
            let mut page = self.message(
                StatusCode::TOO_MANY_REQUESTS,
                "Please wait a moment",
                "We received many requests from your address in a short time. Please try again in a minute.",
            );
            page.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
            page
        })
    }

    pub(crate) fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("message.html", include_str!("templates/message.html")),
    ("form_index.html", include_str!("templates/form_index.html")),
    ("form.html", include_str!("templates/form.html")),
    ("form_sent.html", include_str!("templates/form_sent.html")),
    ("portal_start.html", include_str!("templates/portal_start.html")),
    ("portal_sign_in.html", include_str!("templates/portal_sign_in.html")),
    ("portal_cases.html", include_str!("templates/portal_cases.html")),
    ("portal_case.html", include_str!("templates/portal_case.html")),
];

/// The client's address: the connection's, or the last `X-Forwarded-For` entry when the
/// hub is told it sits behind a proxy that sets it.
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<Arc<Hub>> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, Self::Rejection> {
        if hub.pages.trust_forwarded_for {
            let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
            if let Some(ip) = forwarded.and_then(|v| v.rsplit(',').next()).and_then(|a| a.trim().parse().ok()) {
                return Ok(ClientAddress(ip));
            }
        }
        let connected = parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddress(connected.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

/// The customer pages, each with the body limit it needs; every post counts against its
/// client address's limit.
pub fn router(hub: Arc<Hub>) -> Router<Arc<Hub>> {
    let large = Router::new()
        .route("/form/{case_type}", get(form::show).post(form::submit))
        .route("/portal/cases/{reference}/documents", post(portal::add_document))
        .layer(axum::extract::DefaultBodyLimit::max(FORM_MAX_BYTES));
    Router::new()
        .route("/form", get(form::index))
        .route("/form/{case_type}/sent", get(form::sent))
        .route("/portal", get(portal::start))
        .route("/portal/link", post(portal::request_link))
        .route("/portal/sign-in", get(portal::sign_in_page).post(portal::sign_in))
        .route("/portal/sign-out", post(portal::sign_out))
        .route("/portal/cases", get(portal::cases))
        .route("/portal/cases/{reference}", get(portal::case))
        .route("/portal/cases/{reference}/comments", post(portal::add_comment))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .merge(large)
        .layer(axum::middleware::from_fn_with_state(hub, limit_posts))
}

/// A post from an address that posted too often gets the page that says to wait.
async fn limit_posts(
    axum::extract::State(hub): axum::extract::State<Arc<Hub>>,
    ClientAddress(address): ClientAddress,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.method() == axum::http::Method::POST {
        if let Err(page) = hub.pages.limit(address) {
            return page;
        }
    }
    next.run(request).await
}

/// A blocking engine call off the async threads, for a page: an engine error becomes
/// the caller's to show.
pub(crate) async fn engine_call<T: Send + 'static>(
    f: impl FnOnce() -> casedesk_core::Result<T> + Send + 'static,
) -> Result<casedesk_core::Result<T>, Response> {
    tokio::task::spawn_blocking(f).await.map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

/// A 303 to `to`, the answer to a post that worked (reloading the page then posts
/// nothing again).
pub(crate) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// Something went wrong that is not the customer's doing.
pub(crate) fn trouble(hub: &Hub, e: &casedesk_core::Error) -> Response {
    hub.pages.message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        &format!("We could not do that just now ({e}). Please try again later."),
    )
}
