//! The service's one error type: 4xx variants carry a message safe to show, 5xx variants wrap
//! their cause, which is logged once here and never sent.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use web_kit::{ErrorBody, error::FieldErrors};

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("some fields are invalid")]
    Validation(FieldErrors),
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        fields: FieldErrors,
    },
    /// Unknown email and wrong password alike: no account enumeration.
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    #[error("the session cannot be refreshed; sign in again")]
    InvalidRefreshToken,
    #[error("this session was already refreshed elsewhere; sign in again")]
    RefreshTokenReused,
    #[error(transparent)]
    Auth(#[from] auth_kit::AuthError),
    #[error("too many attempts; try again later")]
    RateLimited { retry_after_seconds: u64 },
    #[error("{0}")]
    NotFound(&'static str),
    #[error("a dependency is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A taken email or username is a 409 naming the field; an unreachable database a 503.
impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::EmailTaken => Self::taken(true, false),
            DbError::UsernameTaken => Self::taken(false, true),
            error @ DbError::Unavailable(_) => Self::Unavailable(error.into()),
            error @ DbError::Query(_) => Self::Internal(error.into()),
        }
    }
}

impl ApiError {
    /// One field's problem as a 422.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), vec![message.into()]);
        Self::Validation(fields)
    }

    /// The 409 of a sign-up whose email or username (or both) another account has; the code
    /// names the email when both are.
    pub fn taken(email_taken: bool, username_taken: bool) -> Self {
        let mut fields = FieldErrors::new();
        if email_taken {
            fields.insert("email".into(), vec!["is already registered".into()]);
        }
        if username_taken {
            fields.insert("username".into(), vec!["is already taken".into()]);
        }
        let (code, message) = if email_taken {
            ("email_taken", "an account with this email already exists")
        } else {
            ("username_taken", "this username is already taken")
        };
        Self::Conflict {
            code,
            message: message.into(),
            fields,
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
            Self::Conflict { code, fields, .. } => ErrorBody::new(code, message)
                .with_fields(fields)
                .into_response_with(StatusCode::CONFLICT),
            Self::InvalidCredentials => ErrorBody::new("invalid_credentials", message)
                .into_response_with(StatusCode::UNAUTHORIZED),
            Self::InvalidRefreshToken => ErrorBody::new("invalid_refresh_token", message)
                .into_response_with(StatusCode::UNAUTHORIZED),
            Self::RefreshTokenReused => ErrorBody::new("refresh_token_reused", message)
                .into_response_with(StatusCode::UNAUTHORIZED),
            Self::Auth(error) => error.into_response(),
            Self::RateLimited {
                retry_after_seconds,
            } => {
                let mut response = ErrorBody::new("rate_limited", message)
                    .into_response_with(StatusCode::TOO_MANY_REQUESTS);
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_seconds.max(1)),
                );
                response
            }
            Self::NotFound(what) => {
                ErrorBody::new("not_found", what).into_response_with(StatusCode::NOT_FOUND)
            }
            Self::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), "dependency unavailable");
                web_kit::error::unavailable("unavailable", web_kit::error::UNAVAILABLE_MESSAGE)
            }
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                ErrorBody::internal().into_response_with(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}
