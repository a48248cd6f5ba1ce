//! Signing in to the hub, as the engine keeps it: password hashes and access tokens.
//! Hashing and checking passwords is the hub's (argon2, outside any transaction); the
//! engine stores the hash and token digests, and never writes either to the event log.

use super::permissions::{require, Action};
use super::{Ctx, Engine};
use crate::error::{Error, Result};
use crate::model::User;
use crate::store::access as store;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TokenKind {
    /// Opened by signing in; expires.
    Session,
    /// For a system (a CRM, an integration); an admin opens it; does not expire.
    Api,
}

pub fn set_password_hash(ctx: &mut Ctx, user_id: &str, password_hash: &str) -> Result<()> {
    if ctx.actor.user_id != user_id {
        require(ctx.actor, Action::Configure)?;
    }
    ctx.tx.user(user_id)?.ok_or_else(|| Error::not_found("user", user_id))?;
    if !password_hash.starts_with("$argon2") {
        return Err(Error::field("password_hash", "must be an argon2 hash in PHC form ($argon2id$…)"));
    }
    ctx.tx.put_password_hash(user_id, password_hash, ctx.now)?;
    ctx.emit("password_set", None, None, json!(null), json!({ "user_id": user_id }))
}

pub fn open_access_token(
    ctx: &mut Ctx,
    user_id: &str,
    token_digest: &str,
    kind: TokenKind,
    label: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<()> {
    match kind {
        // Only the hub, having checked the password, opens a session.
        TokenKind::Session if ctx.actor.user_id != "system" => {
            return Err(Error::Forbidden {
                actor: ctx.actor.user_id.clone(),
                action: "open a session".into(),
                rule: "sessions are opened by signing in".into(),
            })
        }
        TokenKind::Api => require(ctx.actor, Action::Configure)?,
        TokenKind::Session => {}
    }
    ctx.tx.user(user_id)?.ok_or_else(|| Error::not_found("user", user_id))?;
    if token_digest.len() != 64 || !token_digest.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::field("token_digest", "must be the hex SHA-256 of the token"));
    }
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(Error::field("label", "must be 1 to 100 characters"));
    }
    if kind == TokenKind::Session && expires_at.is_none_or(|e| e <= ctx.now) {
        return Err(Error::field("expires_at", "a session must expire in the future"));
    }
    ctx.tx.drop_expired_sessions(user_id, ctx.now)?;
    ctx.tx.insert_access_token(token_digest, user_id, kind_str(kind), label, ctx.now, expires_at)?;
    ctx.emit(
        "access_token_opened",
        None,
        None,
        json!(null),
        json!({ "user_id": user_id, "kind": kind, "label": label, "expires_at": expires_at }),
    )
}

fn kind_str(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Session => "session",
        TokenKind::Api => "api",
    }
}

impl Engine {
    /// The stored password hash of a user, for the hub to check a password against.
    pub fn password_hash(&self, user_id: &str) -> Result<Option<String>> {
        self.read(|db| store::password_hash(db.connection_ref(), user_id))
    }

    /// Counts a sign-in attempt for the user name as typed, and says whether it may go
    /// on: at most `per_minute` attempts per name in any minute, counted in the database
    /// so that every hub process over the workspace shares the count.
    pub fn allow_sign_in_attempt(&self, name: &str, per_minute: u32) -> Result<bool> {
        if name.contains('\0') {
            return Err(Error::field("user", "must not contain NUL characters"));
        }
        let now = self.clock.now();
        let key = name.trim().to_lowercase();
        self.write(|tx| tx.record_sign_in_attempt(&key, now - chrono::Duration::minutes(1), now, per_minute))
    }

    /// Who a token (by its digest) signs in, if it is valid now.
    pub fn token_user(&self, token_digest: &str) -> Result<Option<User>> {
        let now = self.clock.now();
        self.read(|db| store::token_user(db.connection_ref(), token_digest, now))
    }
}
