//! The customer status portal: sign in with a link sent by email (asked for by address,
//! used once), then see one's own cases and add comments and documents. The session is
//! a random cookie whose digest the engine keeps; a case that is not the customer's is
//! "not found", exactly as one that does not exist.

use super::{engine_call, see_other, trouble, SESSION_HOURS};
use crate::auth;
use crate::Hub;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use casedesk_core::engine::permissions::{customer_actor, WEB_ACTOR};
use casedesk_core::model::Customer;
use casedesk_core::{Actor, Command, Error};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

const COOKIE: &str = "casedesk_portal";

fn web() -> Actor {
    Actor::new(WEB_ACTOR, &[])
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE).and_then(|rest| rest.strip_prefix('=')))
        .map(str::to_string)
        .filter(|t| !t.is_empty())
}

/// The signed-in customer, or the answer that sends them to sign in.
async fn signed_in(hub: &Arc<Hub>, headers: &HeaderMap) -> Result<Customer, Response> {
    let Some(token) = session_token(headers) else { return Err(see_other("/portal")) };
    let engine = hub.engine.clone();
    match engine_call(move || engine.portal_customer(&auth::digest(&token))).await? {
        Ok(Some(customer)) => Ok(customer),
        Ok(None) => Err(see_other("/portal")),
        Err(e) => Err(trouble(hub, &e)),
    }
}

fn cookie(hub: &Hub, value: &str, max_age: i64) -> String {
    let secure = if hub.pages.secure_cookies() { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/portal; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// Where a customer starts: asks for a sign-in link (or goes to their cases, if signed in).
pub async fn start(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> Response {
    if signed_in(&hub, &headers).await.is_ok() {
        return see_other("/portal/cases");
    }
    hub.pages.render(StatusCode::OK, "portal_start.html", json!({}))
}

#[derive(Deserialize)]
pub struct LinkRequest {
    #[serde(default)]
    email: String,
}

pub async fn request_link(State(hub): State<Arc<Hub>>, form: Result<Form<LinkRequest>, FormRejection>) -> Response {
    let email = form.map(|Form(f)| f.email.trim().to_string()).unwrap_or_default();
    let (engine, asked, url) = (hub.engine.clone(), email.clone(), hub.pages.public_url.clone());
    let outcome = engine_call(move || {
        // Each address gets a few links a minute, counted by every hub process together.
        if !engine.allow_sign_in_attempt(&format!("portal:{}", asked.to_lowercase()), super::LINKS_PER_MINUTE)? {
            return Ok(false);
        }
        engine.execute(&web(), Command::RequestPortalLink { email: asked, portal_url: url })?;
        Ok(true)
    })
    .await;
    match outcome {
        // The same answer whether or not the address is known.
        Ok(Ok(true)) => hub.pages.render(StatusCode::OK, "portal_start.html", json!({ "sent": email })),
        Ok(Ok(false)) => hub.pages.message(
            StatusCode::TOO_MANY_REQUESTS,
            "Please wait a moment",
            "Several sign-in links were sent to this address just now. Use the newest, or ask again in a minute.",
        ),
        Ok(Err(Error::InvalidField { rule, .. })) => hub.pages.render(
            StatusCode::UNPROCESSABLE_ENTITY,
            "portal_start.html",
            json!({ "email": email, "error": rule }),
        ),
        Ok(Err(e)) => trouble(&hub, &e),
        Err(page) => page,
    }
}

#[derive(Deserialize)]
pub struct Token {
    #[serde(default)]
    token: String,
}

/// The page a link opens: a button that signs in. Following the link alone does not use
/// it (mail scanners follow links too).
pub async fn sign_in_page(
    State(hub): State<Arc<Hub>>,
    query: Result<Query<Token>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let token = query.map(|Query(t)| t.token).unwrap_or_default();
    hub.pages.render(StatusCode::OK, "portal_sign_in.html", json!({ "token": token }))
}

pub async fn sign_in(State(hub): State<Arc<Hub>>, form: Result<Form<Token>, FormRejection>) -> Response {
    let link_token = form.map(|Form(t)| t.token).unwrap_or_default();
    let session = auth::new_token();
    let (engine, session_digest) = (hub.engine.clone(), auth::digest(&session));
    let outcome = engine_call(move || {
        let expires_at = engine.clock().now() + chrono::Duration::hours(SESSION_HOURS);
        engine.execute(&web(), Command::OpenPortalSession { link_token, session_digest, expires_at })
    })
    .await;
    match outcome {
        Ok(Ok(_)) => {
            let mut answer = see_other("/portal/cases");
            let value = cookie(&hub, &session, SESSION_HOURS * 3600);
            answer.headers_mut().insert(header::SET_COOKIE, value.parse().expect("a cookie is a header value"));
            answer
        }
        Ok(Err(Error::InvalidField { rule, .. })) => {
            hub.pages.render(StatusCode::BAD_REQUEST, "portal_start.html", json!({ "error": rule }))
        }
        Ok(Err(e)) => trouble(&hub, &e),
        Err(page) => page,
    }
}

pub async fn sign_out(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        let engine = hub.engine.clone();
        let closed = engine_call(move || {
            engine.execute(&web(), Command::ClosePortalSession { session_digest: auth::digest(&token) })
        })
        .await;
        if let Ok(Err(e)) = closed {
            return trouble(&hub, &e);
        }
    }
    let mut answer = see_other("/portal");
    answer.headers_mut().insert(header::SET_COOKIE, cookie(&hub, "", 0).parse().expect("a cookie is a header value"));
    answer
}

pub async fn cases(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> Response {
    let customer = match signed_in(&hub, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let engine = hub.engine.clone();
    match engine_call(move || engine.portal_cases(customer.id)).await {
        Ok(Ok(cases)) => {
            hub.pages.render(StatusCode::OK, "portal_cases.html", json!({ "customer": customer.name, "cases": cases }))
        }
        Ok(Err(e)) => trouble(&hub, &e),
        Err(page) => page,
    }
}

fn not_found(hub: &Hub) -> Response {
    hub.pages.message(
        StatusCode::NOT_FOUND,
        "No such case",
        "We found no case of yours with this reference. Your cases are listed under My requests.",
    )
}

async fn case_page(
    hub: &Arc<Hub>,
    customer: Customer,
    reference: String,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let engine = hub.engine.clone();
    match engine_call(move || engine.portal_case(customer.id, &reference)).await {
        Ok(Ok(case)) => hub.pages.render(status, "portal_case.html", json!({ "case": case, "error": error })),
        Ok(Err(Error::NotFound { .. })) => not_found(hub),
        Ok(Err(e)) => trouble(hub, &e),
        Err(page) => page,
    }
}

pub async fn case(State(hub): State<Arc<Hub>>, headers: HeaderMap, Path(reference): Path<String>) -> Response {
    match signed_in(&hub, &headers).await {
        Ok(customer) => case_page(&hub, customer, reference, StatusCode::OK, None).await,
        Err(page) => page,
    }
}

/// Runs a customer's command on one of their cases; back to the case page when it
/// worked, or the page with the engine's words when it did not.
async fn on_own_case(
    hub: &Arc<Hub>,
    customer: Customer,
    reference: String,
    make: impl FnOnce(uuid::Uuid) -> Command + Send + 'static,
) -> Response {
    let (engine, id, wanted) = (hub.engine.clone(), customer.id, reference.clone());
    let outcome = engine_call(move || {
        let case_id = engine.portal_case_id(id, &wanted)?;
        engine.execute(&customer_actor(id), make(case_id))
    })
    .await;
    match outcome {
        Ok(Ok(_)) => see_other(&format!("/portal/cases/{reference}")),
        Ok(Err(Error::NotFound { .. })) => not_found(hub),
        Ok(Err(
            e @ (Error::InvalidField { .. } | Error::InvalidFileName { .. } | Error::AttachmentTooLarge { .. }),
        )) => case_page(hub, customer, reference, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string())).await,
        Ok(Err(Error::Conflict(message))) => {
            case_page(hub, customer, reference, StatusCode::CONFLICT, Some(message)).await
        }
        Ok(Err(e)) => trouble(hub, &e),
        Err(page) => page,
    }
}

#[derive(Deserialize)]
pub struct Comment {
    #[serde(default)]
    body: String,
}

pub async fn add_comment(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    form: Result<Form<Comment>, FormRejection>,
) -> Response {
    let customer = match signed_in(&hub, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let body = form.map(|Form(c)| c.body).unwrap_or_default();
    on_own_case(&hub, customer, reference, move |case_id| Command::AddCustomerComment { case_id, body }).await
}

pub async fn add_document(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    multipart: Multipart,
) -> Response {
    let customer = match signed_in(&hub, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let file = match super::form::read_multipart(multipart).await {
        Ok((_, files)) => files.into_iter().next(),
        Err((status, text)) => return hub.pages.message(status, "The document could not be read", &text),
    };
    let Some(file) = file else {
        return case_page(
            &hub,
            customer,
            reference,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Choose a file first.".into()),
        )
        .await;
    };
    on_own_case(&hub, customer, reference, move |case_id| Command::AddCustomerDocument {
        case_id,
        file_name: file.file_name,
        content_type: file.content_type,
        content: file.content,
    })
    .await
    .into_response()
}
