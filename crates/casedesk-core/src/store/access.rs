//! Storage of sign-in: password hashes and access tokens (as digests).

use super::sql::{params, Conn, OptionalExtension};
use super::tx::Tx;
use crate::clock::to_millis;
use crate::error::Result;
use crate::model::User;
use chrono::{DateTime, Utc};

pub fn password_hash(conn: &Conn, user_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT password_hash FROM credentials WHERE user_id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?)
}

/// The user a token digest belongs to, if the token exists and has not expired.
pub fn token_user(conn: &Conn, digest: &str, now: DateTime<Utc>) -> Result<Option<User>> {
    Ok(conn
        .prepare_cached(
            "SELECT u.id, u.name, u.roles, u.teams, u.email, u.phone FROM access_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_digest = ?1 AND (t.expires_at IS NULL OR t.expires_at > ?2)",
        )?
        .query_row(params![digest, to_millis(now)], super::rows::user_from_row)
        .optional()?)
}

impl Tx<'_> {
    /// Records a sign-in attempt for `name_key` at `now` unless `limit` were made since
    /// `since`; says whether it was recorded. Attempts before `since` are dropped.
    pub fn record_sign_in_attempt(
        &self,
        name_key: &str,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<bool> {
        self.prepare_cached("DELETE FROM sign_in_attempts WHERE at < ?1")?.execute([to_millis(since)])?;
        let made: i64 = self
            .prepare_cached("SELECT count(*) FROM sign_in_attempts WHERE name_key = ?1")?
            .query_row([name_key], |r| r.get(0))?;
        if made >= i64::from(limit) {
            return Ok(false);
        }
        self.prepare_cached("INSERT INTO sign_in_attempts (name_key, at) VALUES (?1, ?2)")?
            .execute(params![name_key, to_millis(now)])?;
        Ok(true)
    }

    pub fn put_password_hash(&self, user_id: &str, hash: &str, at: DateTime<Utc>) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO credentials (user_id, password_hash, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(user_id) DO UPDATE SET password_hash = ?2, updated_at = ?3",
        )?
        .execute(params![user_id, hash, to_millis(at)])?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn insert_access_token(
        &self,
        digest: &str,
        user_id: &str,
        kind: &str,
        label: &str,
        at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO access_tokens (token_digest, user_id, kind, label, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![digest, user_id, kind, label, to_millis(at), expires_at.map(to_millis)])?;
        Ok(())
    }

    /// Removes the user's expired sessions (kept tidy as new ones open).
    pub fn drop_expired_sessions(&self, user_id: &str, now: DateTime<Utc>) -> Result<()> {
        self.prepare_cached(
            "DELETE FROM access_tokens WHERE user_id = ?1 AND expires_at IS NOT NULL AND expires_at <= ?2",
        )?
        .execute(params![user_id, to_millis(now)])?;
        Ok(())
    }
}
