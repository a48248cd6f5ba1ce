//! Attachment content for people and desks: a desk lists the attachments it pulled and
//! fetches the content of one when it is opened. Who may read it is the engine's rule
//! (whoever may see the case).

use crate::api::blocking;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::Hub;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use casedesk_core::ErrorPayload;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use std::sync::Arc;
use uuid::Uuid;

/// The content of an attachment, as it was added, under its own content type.
#[utoipa::path(get, path = "/api/attachments/{id}", params(("id" = Uuid, Path)), security(("token" = [])),
    responses((status = 200, description = "The content", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, body = ErrorPayload), (status = 401, body = ErrorPayload), (status = 404, body = ErrorPayload)))]
pub async fn content(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: Uuid = id.parse().map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("'{id}' is not an attachment id"))
    })?;
    let engine = hub.engine.clone();
    let (attachment, content) = blocking(move || engine.attachment_for(&caller.user, id)).await?;
    let content =
        content.ok_or_else(|| ApiError::not_found(format!("attachment {id}: its content is not held here")))?;
    let headers = [
        (header::CONTENT_TYPE, attachment.content_type.clone()),
        (header::CONTENT_DISPOSITION, disposition(&attachment.file_name)),
        // Shown as what it says it is, never sniffed into something the browser runs.
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
    ];
    Ok((headers, content).into_response())
}

/// `attachment` with the file name, plain for old clients and exact in UTF-8 (RFC 6266).
fn disposition(file_name: &str) -> String {
    let plain: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '\\' && c != '"' || c == ' ' { c } else { '_' })
        .collect();
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{}", utf8_percent_encode(file_name, NON_ALPHANUMERIC))
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_are_given_plain_and_exact() {
        assert_eq!(
            super::disposition("Rechnung März \"final\".pdf"),
            "attachment; filename=\"Rechnung M_rz _final_.pdf\"; filename*=UTF-8''Rechnung%20M%C3%A4rz%20%22final%22%2Epdf"
        );
    }
}
