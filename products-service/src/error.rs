//! The service's one error type and its mapping to the shared JSON error body.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use web_kit::{ErrorBody, error::FieldErrors};

/// Everything a request can fail with. 4xx variants carry a message safe to show; the 5xx
/// variant wraps the cause, which is logged once here and never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("some fields are invalid")]
    Validation(FieldErrors),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("no such product")]
    NotFound,
    #[error("only the seller or an administrator may change this listing")]
    Forbidden,
    #[error("the listing changed since you read it (now version {current}); reload and retry")]
    VersionConflict { current: i64 },
    /// The database is unreachable or saturated: a 503 the client may retry.
    #[error("a dependency is unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    #[error("unexpected error: {0:#}")]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    /// A 422 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), vec![message.into()]);
        Self::Validation(fields)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if web_kit::error::is_unavailable_sqlx(&error) {
            Self::Unavailable(error.into())
        } else {
            Self::Unexpected(error.into())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        match self {
            Self::Validation(fields) => ErrorBody::new("validation_failed", message)
                .with_fields(fields)
                .into_response_with(StatusCode::UNPROCESSABLE_ENTITY),
            Self::BadRequest { code, .. } => {
                ErrorBody::new(code, message).into_response_with(StatusCode::BAD_REQUEST)
            }
            Self::NotFound => ErrorBody::new("product_not_found", message)
                .into_response_with(StatusCode::NOT_FOUND),
            Self::Forbidden => {
                ErrorBody::new("forbidden", message).into_response_with(StatusCode::FORBIDDEN)
            }
            Self::VersionConflict { .. } => ErrorBody::new("version_conflict", message)
                .into_response_with(StatusCode::PRECONDITION_FAILED),
            Self::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), "dependency unavailable");
                web_kit::error::unavailable("unavailable", web_kit::error::UNAVAILABLE_MESSAGE)
            }
            Self::Unexpected(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                ErrorBody::internal().into_response_with(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}
