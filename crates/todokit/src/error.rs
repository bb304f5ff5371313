//! One error type for the HTTP layer, rendered everywhere as
//! `{"error":{"code":"…","message":"…"}}` with the matching status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::persistence::StorageError;

/// An error that reaches a client. Internal details are logged, never sent.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    Validation { field: Option<&'static str>, message: String },
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_secs: u64 },
    /// A quota: the body also says the limit and when it resets.
    #[error("{message}")]
    QuotaExceeded { message: String, retry_after_secs: u64, limit: u32, resets_at: jiff::Timestamp },
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Set on the response of an [`AppError::Unavailable`], so the HTTP layer can
/// notice that the database went away (see [`crate::persistence::DbHealth`]).
#[derive(Debug, Clone, Copy)]
pub struct DatabaseUnavailable;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resets_at: Option<jiff::Timestamp>,
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest { code: "bad_request", message: message.into() }
    }

    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation { field: Some(field), message: message.into() }
    }

    pub fn task_not_found() -> Self {
        Self::NotFound("Task not found".into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } | Self::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Validation { .. } => "validation_failed",
            Self::TooManyRequests { .. } | Self::QuotaExceeded { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                "Internal server error".to_string()
            }
            other => other.to_string(),
        };
        let (field, retry_after) = match &self {
            Self::Validation { field, .. } => (*field, None),
            Self::TooManyRequests { retry_after_secs, .. } | Self::QuotaExceeded { retry_after_secs, .. } => {
                (None, Some(*retry_after_secs))
            }
            _ => (None, None),
        };
        let (limit, resets_at) = match &self {
            Self::QuotaExceeded { limit, resets_at, .. } => (Some(*limit), Some(*resets_at)),
            _ => (None, None),
        };
        let body = ErrorBody {
            error: ErrorDetail { code: self.code(), message, field, retry_after, limit, resets_at },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if matches!(self, Self::Unavailable(_)) {
            response.extensions_mut().insert(DatabaseUnavailable);
        }
        response
    }
}

impl From<StorageError> for AppError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Conflict(message) => Self::Conflict(message),
            StorageError::Unavailable(message) => Self::Unavailable(message),
            StorageError::Other(err) => Self::Internal(err),
            StorageError::Invalid(err) => err.into(),
        }
    }
}

impl From<todokit_domain::DomainError> for AppError {
    fn from(err: todokit_domain::DomainError) -> Self {
        Self::Validation { field: Some(err.field()), message: err.to_string() }
    }
}

pub type AppResult<T> = Result<T, AppError>;
