//! A desk's link to its hub over HTTP (reqwest on tokio): signing in, the
//! `casedesk_core::engine::HubLink` calls for one sync round, and the hub's change
//! stream. What the rules are is the engine's; this crate only carries bytes. The desktop
//! shell runs the loop; `casedesk-replica` (in casedesk-server) is a desk without a
//! window, for tests.

use casedesk_core::engine::{sync_once, ChangePage, HubLink, PushOutcome, PushedCommand, ReferenceBlock};
use casedesk_core::{Engine, Error, ErrorPayload};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a loop waits for a reason to sync before it tries anyway.
pub const POLL: Duration = Duration::from_secs(5);

/// How long to wait when the hub says to slow down, and how many times before giving up
/// the round (the next round starts where this one stopped).
const SLOW_DOWN: Duration = Duration::from_millis(500);
const MAX_SLOW_DOWNS: u32 = 20;

/// The hub this desk follows, as whom, and how the last round went.
pub struct HubConnection {
    pub url: String,
    user: String,
    password: String,
    token: Mutex<Option<String>>,
    pub online: AtomicBool,
    pub problem: Mutex<Option<String>>,
    /// Woken by a command made here and by the change stream.
    pub wake: tokio::sync::Notify,
    pub(crate) http: reqwest::Client,
}

fn unreachable(e: impl std::fmt::Display) -> Error {
    Error::Io(format!("the hub cannot be reached: {e}"))
}

impl HubConnection {
    pub fn new(url: &str, user: &str, password: &str) -> Arc<HubConnection> {
        Arc::new(HubConnection {
            url: url.trim_end_matches('/').to_string(),
            user: user.into(),
            password: password.into(),
            token: Mutex::new(None),
            online: AtomicBool::new(false),
            problem: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .build()
                .expect("an HTTP client without TLS settings builds"),
        })
    }

    async fn token(&self, fresh: bool) -> casedesk_core::Result<String> {
        if !fresh {
            if let Some(t) = self.token.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                return Ok(t);
            }
        }
        let signed: Value = self
            .answer(
                self.http
                    .post(format!("{}/api/login", self.url))
                    .json(&json!({ "user": self.user, "password": self.password })),
            )
            .await?;
        let token = signed["token"].as_str().unwrap_or_default().to_string();
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
        Ok(token)
    }

    /// Sends a request and reads its JSON, turning the hub's `{code, message}` into an error.
    async fn answer<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> casedesk_core::Result<T> {
        let response = request.timeout(Duration::from_secs(60)).send().await.map_err(unreachable)?;
        let status = response.status();
        if status.is_success() {
            return response.json().await.map_err(unreachable);
        }
        Err(self.refusal(response).await)
    }

    /// What a hub's answer other than success means.
    async fn refusal(&self, response: reqwest::Response) -> Error {
        let status = response.status();
        // The hub failing is not a refusal: the round stops and the next one tries again.
        if status.is_server_error() {
            return Error::Io(format!("the hub failed (it answered {status}); the next round tries again"));
        }
        let refusal: ErrorPayload = response
            .json()
            .await
            .unwrap_or_else(|_| ErrorPayload { code: "hub".into(), message: format!("the hub answered {status}") });
        match status {
            reqwest::StatusCode::UNAUTHORIZED => {
                Error::Forbidden { actor: self.user.clone(), action: "sync with the hub".into(), rule: refusal.message }
            }
            _ => Error::Conflict(format!("the hub refused: {} ({})", refusal.message, refusal.code)),
        }
    }

    /// The content of an attachment this desk pulled the row of (signing in again once if
    /// the token expired).
    pub async fn attachment_content(&self, id: uuid::Uuid) -> casedesk_core::Result<Vec<u8>> {
        let mut fresh = false;
        loop {
            let token = self.token(fresh).await?;
            let request = self.http.get(format!("{}/api/attachments/{id}", self.url)).bearer_auth(token);
            let response = request.timeout(Duration::from_secs(300)).send().await.map_err(unreachable)?;
            if response.status().is_success() {
                return Ok(response.bytes().await.map_err(unreachable)?.to_vec());
            }
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Err(Error::not_found("attachment on the hub", id));
            }
            match self.refusal(response).await {
                Error::Forbidden { .. } if !fresh => fresh = true,
                other => return Err(other),
            }
        }
    }

    /// A signed-in call; a token that expired is renewed once.
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> casedesk_core::Result<T> {
        let mut fresh = false;
        let mut slowed = 0;
        loop {
            let token = self.token(fresh).await?;
            let mut request = self.http.request(method.clone(), format!("{}{path}", self.url)).bearer_auth(token);
            if let Some(b) = &body {
                request = request.json(b);
            }
            match self.answer(request).await {
                Err(Error::Forbidden { .. }) if !fresh => fresh = true,
                // The hub limits requests per token: wait for the allowance to refill.
                Err(Error::Conflict(m)) if m.ends_with("(rate_limited)") && slowed < MAX_SLOW_DOWNS => {
                    slowed += 1;
                    tokio::time::sleep(SLOW_DOWN).await;
                }
                other => return other,
            }
        }
    }
}

/// [`HubLink`] over HTTP, for one round on a blocking thread.
struct Http<'a> {
    hub: &'a HubConnection,
    client_id: String,
    runtime: tokio::runtime::Handle,
}

impl HubLink for Http<'_> {
    fn push(&self, batch: &[PushedCommand]) -> casedesk_core::Result<Vec<PushOutcome>> {
        let body = json!({ "commands": batch });
        self.runtime.block_on(self.hub.call(reqwest::Method::POST, "/api/sync/push", Some(body)))
    }
    fn pull(&self, cursor: i64, limit: i64) -> casedesk_core::Result<ChangePage> {
        let path = format!("/api/sync/changes?cursor={cursor}&limit={limit}");
        self.runtime.block_on(self.hub.call(reqwest::Method::GET, &path, None))
    }
    fn reserve(&self, prefix: &str, size: i64, held: Option<i64>) -> casedesk_core::Result<ReferenceBlock> {
        let body = json!({ "client_id": self.client_id, "prefix": prefix, "size": size, "first": held });
        self.runtime.block_on(self.hub.call(reqwest::Method::POST, "/api/sync/references", Some(body)))
    }
    fn user(&self) -> &str {
        &self.hub.user
    }
}

/// One round, from a thread that may block; records online/offline and the problem.
pub fn round(engine: &Engine, hub: &HubConnection, runtime: tokio::runtime::Handle) -> casedesk_core::Result<()> {
    let client_id = engine.client_id()?.unwrap_or_default();
    let result = sync_once(engine, &Http { hub, client_id, runtime }).map(|_| ());
    hub.online.store(!matches!(result, Err(Error::Io(_))), Ordering::Relaxed);
    *hub.problem.lock().unwrap_or_else(|p| p.into_inner()) = result.as_ref().err().map(|e| e.to_string());
    result
}

/// Follows the hub's server-sent events and wakes the loop on each `changed`.
pub async fn listen(hub: Arc<HubConnection>) {
    loop {
        if let Ok(token) = hub.token(false).await {
            let stream = hub.http.get(format!("{}/api/sync/events", hub.url)).bearer_auth(token).send().await;
            if let Ok(mut response) = stream {
                if response.status().is_success() {
                    let mut pending = String::new();
                    while let Ok(Some(chunk)) = response.chunk().await {
                        pending.push_str(&String::from_utf8_lossy(&chunk));
                        while let Some(end) = pending.find('\n') {
                            let line: String = pending.drain(..=end).collect();
                            if line.trim_end() == "event: changed" {
                                hub.wake.notify_one();
                            }
                        }
                    }
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}
