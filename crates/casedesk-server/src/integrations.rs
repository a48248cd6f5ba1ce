//! The REST endpoints outside systems (a CRM, an ERP) keep in sync with: customers by
//! their external ids, a CSV import of customers, and webhook subscriptions with their
//! delivery log. Thin calls into the engine, as in `api.rs`.

use crate::api::{blocking, page_size, Created};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::Hub;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use casedesk_core::engine::ImportReport;
use casedesk_core::model::Customer;
use casedesk_core::notify::{Channel, NotificationRule, NotifyEvent};
use casedesk_core::{Command, ErrorPayload};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A CSV import's body may be this large.
pub const IMPORT_MAX_BYTES: usize = 8 * 1024 * 1024;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerQuery {
    /// A name (prefix or word), an email, a phone number or an external id.
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    /// At most this many (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Customers matching a name, email, phone or external id (agents and supervisors).
#[utoipa::path(get, path = "/api/customers", params(CustomerQuery), security(("token" = [])),
    responses((status = 200, body = Vec<Customer>), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload)))]
pub async fn search_customers(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    query: Result<Query<CustomerQuery>, QueryRejection>,
) -> Result<Json<Vec<Customer>>, ApiError> {
    let Query(q) = query?;
    let limit = page_size(q.limit, 20, 100)?;
    if !(1..=200).contains(&q.q.chars().count()) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", "q: must be 1 to 200 characters"));
    }
    let engine = hub.engine.clone();
    blocking(move || engine.search_customers(&caller.actor(), &q.q, limit)).await.map(Json)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    #[schema(min_length = 1)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The customer's id in the calling system; unique.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The profile's extra fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub extra: Map<String, Value>,
}

/// Creates a customer (agents and supervisors).
#[utoipa::path(post, path = "/api/customers", request_body = NewCustomer, security(("token" = [])),
    responses((status = 201, body = Created), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload)))]
pub async fn create_customer(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    body: Result<Json<NewCustomer>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let Json(c) = body?;
    let engine = hub.engine.clone();
    let command = Command::CreateCustomer {
        name: c.name,
        email: c.email,
        phone: c.phone,
        external_id: c.external_id,
        extra: c.extra,
    };
    let done = blocking(move || engine.execute(&caller.actor(), command)).await?;
    Ok((StatusCode::CREATED, Json(Created { id: done.created_id.unwrap_or_default(), reference: None })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerChanges {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    /// Replaces the extra fields when given.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub extra: Option<Map<String, Value>>,
}

/// Changes a customer's profile: what is given changes, the rest stays (agents and
/// supervisors).
#[utoipa::path(patch, path = "/api/customers/{id}", request_body = CustomerChanges, params(("id" = Uuid, Path)),
    security(("token" = [])),
    responses((status = 200, body = Created), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload),
        (status = 404, body = ErrorPayload)))]
pub async fn update_customer(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<CustomerChanges>, JsonRejection>,
) -> Result<Json<Created>, ApiError> {
    let customer_id: Uuid = id
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("'{id}' is not a customer id")))?;
    let Json(c) = body?;
    let engine = hub.engine.clone();
    let command = Command::UpdateCustomer {
        customer_id,
        name: c.name,
        email: c.email,
        phone: c.phone,
        external_id: c.external_id,
        extra: c.extra,
    };
    blocking(move || engine.execute(&caller.actor(), command)).await?;
    Ok(Json(Created { id: customer_id.to_string(), reference: None }))
}

/// Imports customers from CSV (`text/csv`, at most 8 MiB; supervisors and admins). The
/// header names the columns: `name`, `email`, `phone`, `external_id` and the profile's
/// extra fields. A row whose external id is known updates that customer; others create
/// one. Rows that break a rule are left out and listed with their line; the rest are
/// imported. A header with an unknown column imports nothing (422).
#[utoipa::path(post, path = "/api/customers/import", request_body(content = String, content_type = "text/csv"),
    security(("token" = [])),
    responses((status = 200, body = ImportReport), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload)))]
pub async fn import_customers(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let csv = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", "csv: must be UTF-8 text"))?;
    let engine = hub.engine.clone();
    blocking(move || engine.import_customers(&caller.actor(), csv)).await.map(Json)
}

/// A webhook subscription: one event kind, posted to a URL, for one case type or all.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// created, updated, closed, assignment_changed, escalated, task_completed, …
    pub event: NotifyEvent,
    /// http:// or https://; its query is hidden when listed.
    pub url: String,
    #[serde(default)]
    pub case_type: Option<String>,
    /// A template sent as `message` beside the case (see the notification guide).
    #[serde(default)]
    pub message: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookEntry {
    pub id: String,
    #[serde(flatten)]
    pub webhook: Webhook,
}

/// The webhook subscriptions (admins).
#[utoipa::path(get, path = "/api/webhooks", security(("token" = [])),
    responses((status = 200, body = Vec<WebhookEntry>), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload)))]
pub async fn list_webhooks(State(hub): State<Arc<Hub>>, caller: Caller) -> Result<Json<Vec<WebhookEntry>>, ApiError> {
    let engine = hub.engine.clone();
    let rules = blocking(move || engine.webhook_rules(&caller.actor())).await?;
    Ok(Json(
        rules
            .into_iter()
            .map(|r| WebhookEntry {
                id: r.id,
                webhook: Webhook {
                    event: r.event,
                    url: r.webhook_url.unwrap_or_default(),
                    case_type: r.case_type,
                    message: r.body,
                    enabled: r.enabled,
                },
            })
            .collect(),
    ))
}

/// Adds or replaces a webhook subscription (admins); signed with the workspace's
/// webhook secret, retried with backoff.
#[utoipa::path(put, path = "/api/webhooks/{id}", request_body = Webhook,
    params(("id" = String, Path, description = "1 to 64 of a-z, 0-9, '-' and '_'")), security(("token" = [])),
    responses((status = 200, body = Created), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload),
        (status = 422, body = ErrorPayload)))]
pub async fn put_webhook(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<Webhook>, JsonRejection>,
) -> Result<Json<Created>, ApiError> {
    let Json(w) = body?;
    let rule = NotificationRule {
        id: id.clone(),
        case_type: w.case_type,
        event: w.event,
        channel: Channel::Webhook,
        recipients: vec![],
        webhook_url: Some(w.url),
        subject: String::new(),
        body: w.message,
        enabled: w.enabled,
    };
    let engine = hub.engine.clone();
    blocking(move || engine.execute(&caller.actor(), Command::DefineNotificationRule { rule })).await?;
    Ok(Json(Created { id, reference: None }))
}

/// Removes a webhook subscription (admins).
#[utoipa::path(delete, path = "/api/webhooks/{id}", params(("id" = String, Path)), security(("token" = [])),
    responses((status = 204), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload),
        (status = 404, body = ErrorPayload)))]
pub async fn delete_webhook(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let engine = hub.engine.clone();
    blocking(move || {
        let actor = caller.actor();
        if !engine.webhook_rules(&actor)?.iter().any(|r| r.id == id) {
            return Err(casedesk_core::Error::not_found("webhook", id));
        }
        engine.execute(&actor, Command::RemoveNotificationRule { id })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// pending, sending, sent or dead.
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// One webhook delivery as the log keeps it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook: String,
    pub event_seq: i64,
    pub url: String,
    /// pending, sending, sent or dead.
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
}

/// The latest webhook deliveries, newest first (admins): what was sent, retried or
/// given up, with the last error.
#[utoipa::path(get, path = "/api/webhooks/deliveries", params(DeliveryQuery), security(("token" = [])),
    responses((status = 200, body = Vec<WebhookDelivery>), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload)))]
pub async fn webhook_deliveries(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    query: Result<Query<DeliveryQuery>, QueryRejection>,
) -> Result<Json<Vec<WebhookDelivery>>, ApiError> {
    let Query(q) = query?;
    let limit = page_size(q.limit, 50, 500)?;
    let engine = hub.engine.clone();
    let log = blocking(move || engine.webhook_deliveries(&caller.actor(), q.status.as_deref(), limit)).await?;
    Ok(Json(
        log.into_iter()
            .map(|e| WebhookDelivery {
                id: e.delivery.id,
                webhook: e.delivery.rule_id,
                event_seq: e.delivery.event_seq,
                url: casedesk_core::notify::delivery::without_query(&e.delivery.recipient),
                status: e.status,
                attempts: e.delivery.attempts,
                last_error: e.last_error,
                created_at: e.created_at,
                sent_at: e.sent_at,
                next_attempt_at: e.next_attempt_at,
            })
            .collect(),
    ))
}

/// Sets the SMTP server, SMS gateway and webhook secret (admins), as the desktop's
/// notification screen does. The event log keeps them with their secrets hidden.
#[utoipa::path(put, path = "/api/notification-channels", request_body(content = Object, description = "see the notification guide"),
    security(("token" = [])),
    responses((status = 204), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload),
        (status = 422, body = ErrorPayload)))]
pub async fn put_channels(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    body: Result<Json<casedesk_core::notify::ChannelSettings>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(settings) = body?;
    let engine = hub.engine.clone();
    blocking(move || engine.execute(&caller.actor(), Command::ConfigureNotificationChannels { settings })).await?;
    Ok(StatusCode::NO_CONTENT)
}
