//! Who is calling: passwords (argon2), session and API tokens (random, stored as
//! SHA-256 digests), and the `Caller` every protected endpoint takes.

use crate::error::ApiError;
use crate::Hub;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use casedesk_core::model::{Actor, User};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How long a session lasts after signing in.
pub const SESSION_HOURS: i64 = 12;

pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

pub fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A new token: 32 random bytes, hex. Shown once; only its digest is kept.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The signed-in caller of a request (from `Authorization: Bearer <token>`).
pub struct Caller {
    pub user: User,
    pub token_digest: String,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::new(self.user.id.clone(), &self.user.roles)
    }
}

impl FromRequestParts<Arc<Hub>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::unauthorized("sign in first: send Authorization: Bearer <token>"))?;
        let token_digest = digest(token.trim());
        hub.limit(&token_digest)?;
        let engine = hub.engine.clone();
        let d = token_digest.clone();
        let user = tokio::task::spawn_blocking(move || engine.token_user(&d))
            .await
            .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))??
            .ok_or_else(|| ApiError::unauthorized("the token is unknown or has expired; sign in again"))?;
        Ok(Caller { user, token_digest })
    }
}

/// Refuses a password too short to set.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < 10 {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "password: must be at least 10 characters",
        ));
    }
    Ok(())
}

/// Sets `user`'s password (hashed here, stored by the engine), as `actor`.
pub fn set_password(engine: &casedesk_core::Engine, actor: &Actor, user: &str, password: &str) -> Result<(), ApiError> {
    check_password(password)?;
    let hash = hash_password(password)
        .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", e))?;
    engine
        .execute(actor, casedesk_core::Command::SetPasswordHash { user_id: user.to_string(), password_hash: hash })?;
    Ok(())
}
