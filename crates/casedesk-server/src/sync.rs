//! The sync endpoints desktops use: push commands made there, pull changed rows after a
//! cursor, reserve reference numbers for cases made offline, and a stream that says when
//! there is something to pull (desktops that cannot keep it open poll instead). The
//! protocol's rules are the engine's (`engine::sync`, `engine::replica`).

use crate::api::blocking;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::Hub;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use casedesk_core::engine::{ChangePage, PushOutcome, PushedCommand, ReferenceBlock};
use casedesk_core::ErrorPayload;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use tokio_stream::{Stream, StreamExt};
use utoipa::{IntoParams, ToSchema};

/// The most commands one push carries.
pub const MAX_PUSH: usize = 200;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Push {
    /// In the order they were made on the desktop.
    #[schema(max_items = 200)]
    pub commands: Vec<PushedCommand>,
}

/// Applies commands made on a desktop, each once, in the hub's order of record. One that
/// cannot apply is consumed as a conflict; a repeat gets the recorded outcome.
#[utoipa::path(post, path = "/api/sync/push", request_body = Push, security(("token" = [])),
    responses((status = 200, body = [PushOutcome]), (status = 401, body = ErrorPayload), (status = 422, body = ErrorPayload)))]
pub async fn push(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    body: Result<Json<Push>, JsonRejection>,
) -> Result<Json<Vec<PushOutcome>>, ApiError> {
    let Json(push) = body?;
    if push.commands.len() > MAX_PUSH {
        return Err(casedesk_core::Error::field("commands", format!("a push carries at most {MAX_PUSH}")).into());
    }
    let actor = caller.actor();
    // Reading the new head waits for the store like any engine call: off the async threads.
    let outcomes = blocking(move || {
        let outcomes = push.commands.into_iter().map(|p| hub.engine.apply_pushed(&actor, p)).collect();
        hub.changed();
        outcomes
    })
    .await?;
    Ok(Json(outcomes))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Pull {
    /// The cursor of the last page pulled (0 for the first).
    #[param(minimum = 0)]
    pub cursor: i64,
    /// At most this many rows (default 2000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<i64>,
}

/// The rows changed after a cursor, with tombstones for deleted ones, in pages.
#[utoipa::path(get, path = "/api/sync/changes", params(Pull), security(("token" = [])),
    responses((status = 200, body = ChangePage), (status = 400, body = ErrorPayload), (status = 401, body = ErrorPayload)))]
pub async fn changes(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    query: Result<Query<Pull>, QueryRejection>,
) -> Result<Json<ChangePage>, ApiError> {
    let Query(pull) = query?;
    let engine = hub.engine.clone();
    let actor = caller.actor();
    Ok(Json(blocking(move || engine.changes_after(&actor, pull.cursor, pull.limit.unwrap_or(2_000))).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reserve {
    #[schema(min_length = 1, max_length = 100)]
    pub client_id: String,
    /// A case type's reference prefix, e.g. TEC.
    #[schema(min_length = 2, max_length = 6)]
    pub prefix: String,
    #[schema(minimum = 1, maximum = 100000)]
    pub size: i64,
    /// The first number of a block this desk already holds, to record it again on a hub
    /// restored from a backup older than the block (none to reserve a new block).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub first: Option<i64>,
}

/// Reserves reference numbers for a desktop's cases made offline, or records again a block
/// the desktop already holds (`first`; 409 if this hub gave any of those numbers to another).
#[utoipa::path(post, path = "/api/sync/references", request_body = Reserve, security(("token" = [])),
    responses((status = 200, body = ReferenceBlock), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload),
        (status = 409, body = ErrorPayload), (status = 422, body = ErrorPayload)))]
pub async fn references(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    body: Result<Json<Reserve>, JsonRejection>,
) -> Result<Json<ReferenceBlock>, ApiError> {
    let Json(r) = body?;
    let engine = hub.engine.clone();
    let actor = caller.actor();
    Ok(Json(blocking(move || engine.reserve_for_client(&actor, &r.client_id, &r.prefix, r.size, r.first)).await?))
}

/// Server-sent events: `changed` with the hub's change number, now and whenever it moves.
#[utoipa::path(get, path = "/api/sync/events", security(("token" = [])),
    responses((status = 200, description = "An event stream (text/event-stream)"), (status = 401, body = ErrorPayload)))]
pub async fn events(
    State(hub): State<Arc<Hub>>,
    _caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let heads = tokio_stream::wrappers::WatchStream::new(hub.head.subscribe());
    Sse::new(heads.map(|head| Ok(Event::default().event("changed").data(head.to_string()))))
        .keep_alive(KeepAlive::default())
}
