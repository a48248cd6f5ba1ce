//! The REST API for people and systems: sign in, read and search cases, create cases,
//! add notes, complete tasks. Every handler is a thin call into the engine, which
//! decides what is allowed and valid; the OpenAPI document is generated from here.

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::Hub;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use casedesk_core::engine::{Board, HistoricalReport, RuleTrial, TokenKind};
use casedesk_core::model::{Case, CaseDetail, CaseSummary, User};
use casedesk_core::reports::{Figure, ReportRange};
use casedesk_core::{Actor, Command, ErrorPayload};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

#[derive(OpenApi)]
#[openapi(
    info(title = "Casedesk hub API", description = "Cases, tasks and notes for people and systems. Errors are {code, message}."),
    paths(login, me, list_cases, get_case, create_case, update_case, change_status, add_note, add_interaction, complete_task, open_api_token, try_rule, report, report_cases, board,
        crate::attachments::content, crate::sync::push, crate::sync::changes, crate::sync::references, crate::sync::events,
        crate::integrations::search_customers, crate::integrations::create_customer, crate::integrations::update_customer,
        crate::integrations::import_customers, crate::integrations::list_webhooks, crate::integrations::put_webhook,
        crate::integrations::delete_webhook, crate::integrations::webhook_deliveries, crate::integrations::put_channels),
    components(schemas(ErrorPayload)),
    modifiers(&BearerAuth, &CommonResponses)
)]
pub struct ApiDoc;

/// The answers any endpoint may give, documented once for all of them.
struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
        let common = [
            ("400", "Malformed request"),
            ("413", "Body over 1 MiB (48 MiB for a push)"),
            ("415", "Not JSON"),
            ("422", "A body of the wrong shape, or a value the engine refuses"),
            ("429", "Too many requests"),
        ];
        for item in openapi.paths.paths.values_mut() {
            for op in
                [&mut item.get, &mut item.post, &mut item.patch, &mut item.put, &mut item.delete].into_iter().flatten()
            {
                for (status, description) in common {
                    op.responses.responses.entry(status.to_string()).or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(description)
                                .content(
                                    "application/json",
                                    ContentBuilder::new()
                                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorPayload")))
                                        .build(),
                                )
                                .build(),
                        )
                    });
                }
            }
        }
    }
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Runs blocking engine work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> casedesk_core::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(ApiError::from)
}

/// A page's `limit`: the default when left out, refused (422) outside 1 to `max`.
pub(crate) fn page_size(limit: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("limit: must be 1 to {max}"),
        ));
    }
    Ok(limit)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub user: String,
    pub password: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SignedIn {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// Signs in with a password; returns a session token.
#[utoipa::path(post, path = "/api/login", request_body = SignIn,
    responses((status = 200, body = SignedIn), (status = 401, body = ErrorPayload), (status = 429, body = ErrorPayload)))]
pub async fn login(
    State(hub): State<Arc<Hub>>,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<Json<SignedIn>, ApiError> {
    let Json(SignIn { user, password }) = body?;
    let engine = hub.engine.clone();
    let name = user.clone();
    if !blocking(move || engine.allow_sign_in_attempt(&name, crate::SIGN_INS_PER_MINUTE)).await? {
        return Err(Hub::too_many());
    }
    let engine = hub.engine.clone();
    let (who, hash) = blocking(move || {
        let who = engine.read(|db| db.user(&user))?;
        let hash = match &who {
            Some(u) => engine.password_hash(&u.id)?,
            None => None,
        };
        Ok((who, hash))
    })
    .await?;
    // The same answer for an unknown user and a wrong password.
    let refused = || ApiError::unauthorized("the user name or password is wrong");
    let (Some(who), Some(hash)) = (who, hash) else { return Err(refused()) };
    let ok = tokio::task::spawn_blocking(move || auth::password_matches(&password, &hash)).await.unwrap_or(false);
    if !ok {
        return Err(refused());
    }
    let token = auth::new_token();
    let expires_at = hub.engine.clock().now() + chrono::Duration::hours(auth::SESSION_HOURS);
    let (engine, token_digest, user_id) = (hub.engine.clone(), auth::digest(&token), who.id.clone());
    blocking(move || {
        engine.execute(
            &Actor::system(),
            Command::OpenAccessToken {
                user_id,
                token_digest,
                kind: TokenKind::Session,
                label: "signed in".into(),
                expires_at: Some(expires_at),
            },
        )
    })
    .await?;
    Ok(Json(SignedIn { token, expires_at, user: who }))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", security(("token" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorPayload)))]
pub async fn me(caller: Caller) -> Json<User> {
    Json(caller.user)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// How many to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<u32>,
    /// Only cases whose reference, subject, description or customer name contains this.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only the case an outside system knows by this id (at most one).
    #[param(max_length = 200)]
    pub external_id: Option<String>,
}

pub const MAX_OFFSET: u32 = 1_000_000;

/// The cases the caller may see, newest first.
#[utoipa::path(get, path = "/api/cases", params(Page), security(("token" = [])),
    responses((status = 200, body = Vec<CaseSummary>), (status = 401, body = ErrorPayload), (status = 422, body = ErrorPayload)))]
pub async fn list_cases(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<CaseSummary>>, ApiError> {
    let Query(page) = page?;
    let limit = page_size(page.limit, 50, 500)?;
    if page.offset.is_some_and(|o| o > MAX_OFFSET) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", "offset: must be 0 to 1000000"));
    }
    if page.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "q: must be at most 200 characters",
        ));
    }
    let engine = hub.engine.clone();
    if page.external_id.as_ref().is_some_and(|x| x.chars().count() > 200) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "external_id: must be at most 200 characters",
        ));
    }
    if let Some(x) = page.external_id {
        return blocking(move || engine.case_summary_by_external_id(&caller.user, &x))
            .await
            .map(|c| Json(c.into_iter().collect()));
    }
    let query = page.q.map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    blocking(move || engine.case_summaries_for(&caller.user, query.as_deref(), limit, page.offset.unwrap_or(0)))
        .await
        .map(Json)
}

/// One case with its tasks, notes, attachments, interactions, customer and history.
#[utoipa::path(get, path = "/api/cases/{reference}", params(("reference" = String, Path, description = "e.g. FIN-000001")),
    security(("token" = [])),
    responses((status = 200, body = CaseDetail), (status = 401, body = ErrorPayload), (status = 404, body = ErrorPayload)))]
pub async fn get_case(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(reference): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let engine = hub.engine.clone();
    blocking(move || engine.case_detail_for(&caller.user, &reference)).await.map(Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Start of the range (RFC 3339, inclusive).
    pub from: DateTime<Utc>,
    /// End of the range (RFC 3339, exclusive); at most 800 days after `from`.
    pub to: DateTime<Utc>,
    pub case_type: Option<String>,
    pub intent: Option<String>,
    /// A queue or team workbin.
    pub queue: Option<String>,
    /// An agent's user id.
    pub agent: Option<String>,
}

/// The historical reports for a range (supervisors and admins), computed from the event
/// log: SLA adherence, resolution times, time in status and in stage, daily volume and backlog,
/// escalations, work per agent, task aging, agents' presence; filtered by case type, intent,
/// queue (team) and agent.
#[utoipa::path(get, path = "/api/reports", params(ReportQuery), security(("token" = [])),
    responses((status = 200, body = HistoricalReport), (status = 400, body = ErrorPayload), (status = 401, body = ErrorPayload),
        (status = 403, body = ErrorPayload), (status = 422, body = ErrorPayload)))]
pub async fn report(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoricalReport>, ApiError> {
    let Query(q) = query?;
    let range = ReportRange {
        from: q.from,
        to: q.to,
        case_type: q.case_type,
        intent: q.intent,
        queue: q.queue,
        agent: q.agent,
    };
    let engine = hub.engine.clone();
    blocking(move || engine.historical_report(&caller.actor(), range)).await.map(Json)
}

/// The real-time board (supervisors and admins): open cases by type and status, tasks by
/// state, at risk and breached now, queue depth and oldest waiting, agents and their load.
#[utoipa::path(get, path = "/api/board", security(("token" = [])),
    responses((status = 200, body = Board), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload)))]
pub async fn board(State(hub): State<Arc<Hub>>, caller: Caller) -> Result<Json<Board>, ApiError> {
    let engine = hub.engine.clone();
    blocking(move || engine.board(&caller.actor())).await.map(Json)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Drill {
    pub range: ReportRange,
    pub figure: Figure,
}

/// The cases behind one figure of a report (supervisors and admins).
#[utoipa::path(post, path = "/api/reports/cases", request_body = Drill, security(("token" = [])),
    responses((status = 200, body = Vec<Case>), (status = 400, body = ErrorPayload), (status = 401, body = ErrorPayload),
        (status = 403, body = ErrorPayload), (status = 422, body = ErrorPayload)))]
pub async fn report_cases(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    body: Result<Json<Drill>, JsonRejection>,
) -> Result<Json<Vec<Case>>, ApiError> {
    let Json(drill) = body?;
    let engine = hub.engine.clone();
    blocking(move || engine.report_cases(&caller.actor(), drill.range, &drill.figure)).await.map(Json)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleToTry {
    /// One business rule, written as in a case-type file's `[[rules]]` (TOML).
    #[schema(min_length = 1)]
    pub rule: String,
    /// Whether it is meant for the workspace's rules (every case type) rather than the
    /// case's type.
    #[serde(default)]
    pub workspace: bool,
}

/// A dry run (admins): what the rule would do to this case, changing nothing. A rule
/// that would be refused when saved is refused here, with its line.
#[utoipa::path(post, path = "/api/cases/{reference}/rule-trial", request_body = RuleToTry,
    params(("reference" = String, Path, description = "e.g. FIN-000001")), security(("token" = [])),
    responses((status = 200, body = RuleTrial), (status = 400, body = ErrorPayload), (status = 401, body = ErrorPayload),
        (status = 403, body = ErrorPayload), (status = 404, body = ErrorPayload), (status = 422, body = ErrorPayload)))]
pub async fn try_rule(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(reference): Path<String>,
    body: Result<Json<RuleToTry>, JsonRejection>,
) -> Result<Json<RuleTrial>, ApiError> {
    let Json(trial) = body?;
    let engine = hub.engine.clone();
    blocking(move || {
        let case = engine.visible_case(&caller.user, &reference)?;
        engine.try_rule(&caller.actor(), &case.reference, &trial.rule, trial.workspace)
    })
    .await
    .map(Json)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub case_type: String,
    #[serde(default)]
    pub intent: Option<String>,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    #[schema(min_length = 1)]
    pub subject: String,
    #[serde(default)]
    pub description: String,
    /// The case type's form fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    #[serde(default)]
    pub priority: Option<u8>,
    /// The case's id in the calling system (a CRM); unique.
    #[serde(default)]
    pub external_id: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Created {
    pub id: String,
    pub reference: Option<String>,
}

/// Creates a case; its first tasks start at once.
#[utoipa::path(post, path = "/api/cases", request_body = NewCase, security(("token" = [])),
    responses((status = 201, body = Created), (status = 400, body = ErrorPayload), (status = 401, body = ErrorPayload),
        (status = 403, body = ErrorPayload), (status = 422, body = ErrorPayload)))]
pub async fn create_case(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    body: Result<Json<NewCase>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let Json(n) = body?;
    let engine = hub.engine.clone();
    let done = blocking(move || {
        engine.execute(
            &caller.actor(),
            Command::CreateCase {
                case_type: n.case_type,
                intent: n.intent,
                customer_id: n.customer_id,
                subject: n.subject,
                description: n.description,
                fields: n.fields,
                priority: n.priority,
                interaction_id: None,
                contact: None,
                external_id: n.external_id,
            },
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: done.created_id.unwrap_or_default(), reference: done.reference })))
}

// Text lengths are the engine's rule (it trims before it counts), so the schema states
// only that text may not be empty.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    #[schema(min_length = 1)]
    pub body: String,
}

/// Adds a note to a case the caller may see.
#[utoipa::path(post, path = "/api/cases/{reference}/notes", request_body = NewNote,
    params(("reference" = String, Path, description = "e.g. FIN-000001")), security(("token" = [])),
    responses((status = 201, body = Created), (status = 400, body = ErrorPayload), (status = 401, body = ErrorPayload),
        (status = 403, body = ErrorPayload), (status = 404, body = ErrorPayload), (status = 422, body = ErrorPayload)))]
pub async fn add_note(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(reference): Path<String>,
    body: Result<Json<NewNote>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let Json(note) = body?;
    let engine = hub.engine.clone();
    let done = blocking(move || {
        let case = engine.visible_case(&caller.user, &reference)?;
        engine.execute(&caller.actor(), Command::AddNote { case_id: case.id, body: note.body })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: done.created_id.unwrap_or_default(), reference: None })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    /// One of the step's outcome codes.
    pub outcome: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form_values: Map<String, Value>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Completed {
    /// The kinds of the events the completion caused, in order.
    pub events: Vec<String>,
}

impl From<casedesk_core::Executed> for Completed {
    fn from(done: casedesk_core::Executed) -> Self {
        Completed { events: done.events.into_iter().map(|e| e.kind).collect() }
    }
}

/// Completes a task the caller holds, with an outcome.
#[utoipa::path(post, path = "/api/tasks/{id}/complete", request_body = Completion,
    params(("id" = Uuid, Path)), security(("token" = [])),
    responses((status = 200, body = Completed), (status = 400, body = ErrorPayload), (status = 401, body = ErrorPayload),
        (status = 403, body = ErrorPayload), (status = 404, body = ErrorPayload), (status = 409, body = ErrorPayload),
        (status = 422, body = ErrorPayload)))]
pub async fn complete_task(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<Completion>, JsonRejection>,
) -> Result<Json<Completed>, ApiError> {
    let task_id: Uuid = id
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("'{id}' is not a task id")))?;
    let Json(c) = body?;
    let engine = hub.engine.clone();
    let done = blocking(move || {
        engine.execute(
            &caller.actor(),
            Command::CompleteTask { task_id, outcome: c.outcome, form_values: c.form_values, reason: c.reason },
        )
    })
    .await?;
    Ok(Json(Completed::from(done)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldChanges {
    /// The form fields to change; the others keep their values.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// The case's id in an outside system; empty text removes it. Left out, it stays.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// Changes form fields of a case the caller may see (checked by the case type's rules),
/// and its external id if given, in one transaction.
#[utoipa::path(patch, path = "/api/cases/{reference}", request_body = FieldChanges,
    params(("reference" = String, Path, description = "e.g. FIN-000001")), security(("token" = [])),
    responses((status = 200, body = Completed), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload),
        (status = 404, body = ErrorPayload), (status = 409, body = ErrorPayload)))]
pub async fn update_case(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(reference): Path<String>,
    body: Result<Json<FieldChanges>, JsonRejection>,
) -> Result<Json<Completed>, ApiError> {
    let Json(changes) = body?;
    let engine = hub.engine.clone();
    let done = blocking(move || {
        let case = engine.visible_case(&caller.user, &reference)?;
        engine.execute(
            &caller.actor(),
            Command::UpdateCaseFields { case_id: case.id, fields: changes.fields, external_id: changes.external_id },
        )
    })
    .await?;
    Ok(Json(Completed::from(done)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// One of the case type's statuses that the current one may move to.
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Moves a case the caller may see to another status (the case type's transitions apply).
#[utoipa::path(post, path = "/api/cases/{reference}/status", request_body = StatusChange,
    params(("reference" = String, Path, description = "e.g. FIN-000001")), security(("token" = [])),
    responses((status = 200, body = Completed), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload),
        (status = 404, body = ErrorPayload), (status = 409, body = ErrorPayload)))]
pub async fn change_status(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(reference): Path<String>,
    body: Result<Json<StatusChange>, JsonRejection>,
) -> Result<Json<Completed>, ApiError> {
    let Json(change) = body?;
    let engine = hub.engine.clone();
    let done = blocking(move || {
        let case = engine.visible_case(&caller.user, &reference)?;
        engine.execute(
            &caller.actor(),
            Command::ChangeCaseStatus { case_id: case.id, status: change.status, reason: change.reason },
        )
    })
    .await?;
    Ok(Json(Completed::from(done)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    /// The user the system acts as.
    pub user_id: String,
    /// What the token is for, e.g. "CRM sync".
    #[schema(min_length = 1)]
    pub label: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    /// Shown once; only its digest is kept.
    pub token: String,
}

/// Opens an API token for a system (admins only). It does not expire.
#[utoipa::path(post, path = "/api/tokens", request_body = NewApiToken, security(("token" = [])),
    responses((status = 201, body = ApiToken), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload),
        (status = 404, body = ErrorPayload)))]
pub async fn open_api_token(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    body: Result<Json<NewApiToken>, JsonRejection>,
) -> Result<(StatusCode, Json<ApiToken>), ApiError> {
    let Json(request) = body?;
    let token = auth::new_token();
    let token_digest = auth::digest(&token);
    let engine = hub.engine.clone();
    blocking(move || {
        engine.execute(
            &caller.actor(),
            Command::OpenAccessToken {
                user_id: request.user_id,
                token_digest,
                kind: TokenKind::Api,
                label: request.label,
                expires_at: None,
            },
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(ApiToken { token })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInteraction {
    /// voice, email, chat, sms or web.
    #[schema(value_type = String)]
    pub channel: casedesk_core::model::Channel,
    /// The id the contact has in the system it came from (a call id, a message id).
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub summary: String,
}

/// Records a contact with the customer (a call, a message) and links it to a case the
/// caller may see, in one transaction.
#[utoipa::path(post, path = "/api/cases/{reference}/interactions", request_body = NewInteraction,
    params(("reference" = String, Path, description = "e.g. FIN-000001")), security(("token" = [])),
    responses((status = 201, body = Created), (status = 401, body = ErrorPayload), (status = 403, body = ErrorPayload),
        (status = 404, body = ErrorPayload)))]
pub async fn add_interaction(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(reference): Path<String>,
    body: Result<Json<NewInteraction>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let Json(contact) = body?;
    let engine = hub.engine.clone();
    let done = blocking(move || {
        let case = engine.visible_case(&caller.user, &reference)?;
        engine.execute(
            &caller.actor(),
            Command::CreateInteraction {
                channel: contact.channel,
                external_id: contact.external_id,
                customer_id: case.customer_id,
                summary: contact.summary,
                case_id: Some(case.id),
            },
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id: done.created_id.unwrap_or_default(), reference: None })))
}
