//! The service's one error type and its mapping to the shared JSON error body.

use std::collections::BTreeMap;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use web_kit::ErrorBody;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no such order")]
    OrderNotFound,
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    /// 422 with per-field messages.
    #[error("some fields are invalid")]
    Validation(BTreeMap<String, Vec<String>>),
    /// 422 with a specific code (and per-field messages when they help).
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        fields: Option<BTreeMap<String, Vec<String>>>,
    },
    /// 409: the order's status does not allow this now.
    #[error("{0}")]
    Conflict(String),
    #[error("the card was declined")]
    PaymentDeclined,
    /// 409: the buyer already holds as many open orders as allowed.
    #[error(
        "you already have {0} orders waiting for payment or the inventory; pay or cancel one first"
    )]
    TooManyOpenOrders(u32),
    /// 429: too many requests of this kind from this user; try again after `retry_after`.
    #[error("too many orders placed in a short time; try again later")]
    RateLimited { retry_after: std::time::Duration },
    /// 429: this user has as many event streams open as allowed.
    #[error("too many live order views are open; close some and try again")]
    TooManyStreams,
    #[error("a dependency is unavailable")]
    Unavailable,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    RedisPool(#[from] deadpool_redis::PoolError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl ApiError {
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            code,
            message: message.into(),
            fields: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        match self {
            Self::OrderNotFound => {
                ErrorBody::new("order_not_found", message).into_response_with(StatusCode::NOT_FOUND)
            }
            Self::NotFound(_) => {
                ErrorBody::new("not_found", message).into_response_with(StatusCode::NOT_FOUND)
            }
            Self::Forbidden(_) => {
                ErrorBody::new("forbidden", message).into_response_with(StatusCode::FORBIDDEN)
            }
            Self::Validation(fields) => ErrorBody::new("validation_failed", message)
                .with_fields(fields)
                .into_response_with(StatusCode::UNPROCESSABLE_ENTITY),
            Self::Unprocessable { code, fields, .. } => {
                let body = ErrorBody::new(code, message);
                let body = match fields {
                    Some(fields) => body.with_fields(fields),
                    None => body,
                };
                body.into_response_with(StatusCode::UNPROCESSABLE_ENTITY)
            }
            Self::Conflict(_) => {
                ErrorBody::new("invalid_state", message).into_response_with(StatusCode::CONFLICT)
            }
            Self::PaymentDeclined => ErrorBody::new("payment_declined", message)
                .into_response_with(StatusCode::PAYMENT_REQUIRED),
            Self::TooManyOpenOrders(_) => ErrorBody::new("too_many_open_orders", message)
                .into_response_with(StatusCode::CONFLICT),
            Self::RateLimited { retry_after } => {
                let mut response = ErrorBody::new("rate_limited", message)
                    .into_response_with(StatusCode::TOO_MANY_REQUESTS);
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    retry_after.as_secs().max(1).into(),
                );
                response
            }
            Self::TooManyStreams => {
                let mut response = ErrorBody::new("too_many_streams", message)
                    .into_response_with(StatusCode::TOO_MANY_REQUESTS);
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, 5.into());
                response
            }
            Self::Unavailable => unavailable(),
            Self::Database(ref error) if web_kit::error::is_unavailable_sqlx(error) => {
                tracing::error!(error = %error, "database unavailable");
                unavailable()
            }
            Self::Database(ref error) => {
                tracing::error!(error = %error, "database error");
                internal()
            }
            Self::Redis(ref error) if web_kit::error::is_unavailable_redis(error) => {
                tracing::error!(error = %error, "redis unavailable");
                unavailable()
            }
            Self::Redis(ref error) => {
                tracing::error!(error = %error, "redis error");
                internal()
            }
            // The pool gives out no connection: Redis is down, slow or saturated.
            Self::RedisPool(ref error) => {
                tracing::error!(error = %error, "redis pool error");
                unavailable()
            }
            Self::Other(ref error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                internal()
            }
        }
    }
}

fn unavailable() -> Response {
    web_kit::error::unavailable("unavailable", web_kit::error::UNAVAILABLE_MESSAGE)
}

fn internal() -> Response {
    ErrorBody::internal().into_response_with(StatusCode::INTERNAL_SERVER_ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_redis_or_database_is_a_503_with_retry_after() {
        let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for error in [
            ApiError::Redis(redis::RedisError::from(refused())),
            ApiError::RedisPool(deadpool_redis::PoolError::Backend(redis::RedisError::from(
                refused(),
            ))),
            ApiError::Database(sqlx::Error::PoolTimedOut),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(
                response
                    .headers()
                    .contains_key(axum::http::header::RETRY_AFTER)
            );
        }
    }

    #[test]
    fn a_bug_is_still_a_500() {
        let response = ApiError::Database(sqlx::Error::RowNotFound).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
