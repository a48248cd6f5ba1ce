//! The one error type of the engine. Every error has a stable `code` (for programs)
//! and a message that names the field and the rule (for people); both cross IPC and
//! HTTP as `{code, message}`.

use serde::Serialize;
use ts_rs::TS;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A case-type file breaks a rule; `line` is 1-based.
    #[error("{file}:{line}: {rule}")]
    CaseTypeFile { file: String, line: usize, rule: String },

    /// A value given for a named field breaks that field's rule.
    #[error("{field}: {rule}")]
    InvalidField { field: String, rule: String },

    /// A status or task-state change the definition does not allow.
    #[error("{what}: cannot go from '{from}' to '{to}'{detail}")]
    InvalidTransition { what: String, from: String, to: String, detail: String },

    #[error("{what} '{id}' not found")]
    NotFound { what: &'static str, id: String },

    #[error("{actor} may not {action}: {rule}")]
    Forbidden { actor: String, action: String, rule: String },

    #[error("attachment '{name}' is {size} bytes; the limit is {limit} bytes")]
    AttachmentTooLarge { name: String, size: u64, limit: u64 },

    #[error("file name '{name}': {rule}")]
    InvalidFileName { name: String, rule: String },

    /// The state changed under the command (a task already completed, say).
    #[error("{0}")]
    Conflict(String),

    #[error("database {path} is not a usable Casedesk database: {detail}. The file was not modified")]
    DatabaseCorrupt { path: String, detail: String },

    #[error("database {path} has schema version {found}, newer than this app understands ({supported}); upgrade Casedesk. The file was not modified")]
    DatabaseTooNew { path: String, found: i64, supported: i64 },

    #[error("storage error: {0}")]
    Storage(String),

    #[error("i/o error: {0}")]
    Io(String),
}

impl Error {
    /// Stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::CaseTypeFile { .. } => "case_type_invalid",
            Error::InvalidField { .. } => "invalid_field",
            Error::InvalidTransition { .. } => "invalid_transition",
            Error::NotFound { .. } => "not_found",
            Error::Forbidden { .. } => "forbidden",
            Error::AttachmentTooLarge { .. } => "attachment_too_large",
            Error::InvalidFileName { .. } => "invalid_file_name",
            Error::Conflict(_) => "conflict",
            Error::DatabaseCorrupt { .. } => "database_corrupt",
            Error::DatabaseTooNew { .. } => "database_too_new",
            Error::Storage(_) => "storage",
            Error::Io(_) => "io",
        }
    }

    pub fn field(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Error::InvalidField { field: field.into(), rule: rule.into() }
    }

    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Error::NotFound { what, id: id.to_string() }
    }

    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload { code: self.code().to_string(), message: self.to_string() }
    }
}

/// What an error looks like on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, TS)]
#[ts(export)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorPayload {
    pub code: String,
    pub message: String,
}

impl From<crate::store::sql::SqlError> for Error {
    fn from(e: crate::store::sql::SqlError) -> Self {
        match e.kind {
            // Bad input, not a failing store: the same answer whatever the field.
            crate::store::sql::ErrorKind::BadText => Error::field("text", "must not contain NUL characters"),
            _ => Error::Storage(e.to_string()),
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Storage(format!("stored JSON is unreadable: {e}"))
    }
}
