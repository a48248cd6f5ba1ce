//! Errors as the API answers them: `{code, message}` (the engine's payload) with the
//! HTTP status the code means.

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use casedesk_core::ErrorPayload;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub payload: ErrorPayload,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, payload: ErrorPayload { code: code.into(), message: message.into() } }
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<casedesk_core::Error> for ApiError {
    fn from(e: casedesk_core::Error) -> Self {
        let payload = e.payload();
        let status = match payload.code.as_str() {
            "invalid_field" | "case_type_invalid" | "invalid_file_name" => StatusCode::UNPROCESSABLE_ENTITY,
            "not_found" => StatusCode::NOT_FOUND,
            "forbidden" => StatusCode::FORBIDDEN,
            "conflict" | "invalid_transition" => StatusCode::CONFLICT,
            "attachment_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError { status, payload }
    }
}

/// Malformed JSON, a wrong type, a missing field, a body too large: the client's
/// mistake, said in its words.
impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "bad_request" };
        ApiError::new(status, code, r.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.payload)).into_response()
    }
}
