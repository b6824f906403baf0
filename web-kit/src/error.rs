//! The one error body every service speaks:
//! `{"error": {"code": "order_not_found", "message": "...", "fields": {...}}}`.
//!
//! Each service keeps its own error enum and turns it into a response through [`ErrorBody`].

use std::{borrow::Cow, collections::BTreeMap};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;
use validator::{ValidationErrors, ValidationErrorsKind};

/// Per-field messages of a 422: `{"email": ["must be a valid address"]}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// A JSON error body, paired with its status when it becomes a response.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "validation_failed", "message": "some fields are invalid", "fields": {"price": ["must be a decimal with at most 2 places"]}}}))]
pub struct ErrorBody {
    #[schema(inline)]
    error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
struct ErrorDetail {
    /// Stable and machine-readable (`order_not_found`, `validation_failed`, ...).
    #[schema(value_type = String)]
    code: Cow<'static, str>,
    /// Safe to show a user.
    message: String,
    /// Per-field messages (a 422 `validation_failed`), named with dots and indexes
    /// (`items[2].quantity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline)]
    fields: Option<FieldErrors>,
}

impl ErrorBody {
    /// `code` is a stable, machine-readable snake_case string; `message` is safe to show a user.
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                fields: None,
            },
        }
    }

    /// Attaches per-field messages (validation failures).
    pub fn with_fields(mut self, fields: FieldErrors) -> Self {
        self.error.fields = Some(fields);
        self
    }

    /// The 422 `validation_failed` body for a failed `validator` check.
    pub fn validation(errors: &ValidationErrors) -> Self {
        Self::new("validation_failed", "some fields are invalid").with_fields(field_errors(errors))
    }

    /// The machine-readable code.
    pub fn code(&self) -> &str {
        &self.error.code
    }

    /// Pairs the body with a status.
    pub fn into_response_with(self, status: StatusCode) -> Response {
        (status, Json(self)).into_response()
    }

    /// The generic body of every 5xx: the cause is logged, never sent.
    pub fn internal() -> Self {
        Self::new(
            "internal_error",
            "something went wrong on our side; please try again",
        )
    }
}

/// Seconds a client is asked to wait (`Retry-After`) after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 2;

/// The 503 of a dependency that is down or too slow (a database pool timeout, a Redis error, a
/// request past its time limit): the JSON body and `Retry-After`, so clients back off and retry.
pub fn unavailable(code: &'static str, message: &str) -> Response {
    let mut response =
        ErrorBody::new(code, message).into_response_with(StatusCode::SERVICE_UNAVAILABLE);
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(RETRY_AFTER_SECONDS),
    );
    response
}

/// The message of a 503 `unavailable`.
pub const UNAVAILABLE_MESSAGE: &str = "the service is temporarily unavailable; please try again";

/// Whether a database error means the database is unreachable or saturated (a 503 the client may
/// retry) rather than a fault in the request or the code (a 500).
pub fn is_unavailable_sqlx(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        // A statement or lock past its deadline, too many connections, a server shutting down
        // or starting up (by SQLSTATE): all pass.
        sqlx::Error::Database(error) => matches!(
            error.code().as_deref(),
            Some("57014" | "55P03" | "25P03" | "53300" | "57P01" | "57P02" | "57P03")
        ),
        _ => false,
    }
}

/// Whether a Redis error means Redis is unreachable, slow or not serving yet (a 503).
pub fn is_unavailable_redis(error: &redis::RedisError) -> bool {
    use redis::ErrorKind;
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || matches!(
            error.kind(),
            ErrorKind::Server(
                redis::ServerErrorKind::BusyLoading
                    | redis::ServerErrorKind::TryAgain
                    | redis::ServerErrorKind::ClusterDown
                    | redis::ServerErrorKind::MasterDown
                    | redis::ServerErrorKind::ReadOnly
            )
        )
}

/// Flattens `validator`'s nested errors into `{"field": ["message", ...]}`; nested structs and
/// lists are named with dots and indexes (`items[2].quantity`).
pub fn field_errors(errors: &ValidationErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    collect(errors, "", &mut out);
    out
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut FieldErrors) {
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                let messages = out.entry(name).or_default();
                for error in list {
                    messages.push(match &error.message {
                        Some(message) => message.to_string(),
                        None => format!("is invalid ({})", error.code),
                    });
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &name, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{name}[{index}]"), out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use validator::Validate;

    #[derive(Validate)]
    struct Signup {
        #[validate(length(min = 3, message = "must be at least 3 characters"))]
        username: String,
    }

    #[test]
    fn a_validation_failure_names_each_field_with_its_message() {
        let errors = Signup {
            username: "ab".into(),
        }
        .validate()
        .unwrap_err();
        let body = serde_json::to_value(ErrorBody::validation(&errors)).unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(
            body["error"]["fields"]["username"][0],
            "must be at least 3 characters"
        );
    }

    #[test]
    fn a_pool_timeout_is_unavailable_and_a_bad_query_is_not() {
        assert!(is_unavailable_sqlx(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable_sqlx(&sqlx::Error::RowNotFound));
        let refused =
            redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_unavailable_redis(&refused));
    }

    #[tokio::test]
    async fn a_statement_past_its_deadline_is_unavailable() {
        use sqlx::Connection;
        let url = crate::testing::database_server_url();
        let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("SET statement_timeout = 10")
            .execute(&mut connection)
            .await
            .unwrap();
        let error = sqlx::query("SELECT pg_sleep(1)")
            .execute(&mut connection)
            .await
            .unwrap_err();

        assert!(is_unavailable_sqlx(&error), "{error}");
    }

    #[test]
    fn unavailable_is_a_503_with_retry_after_and_the_json_body() {
        let response = unavailable("unavailable", UNAVAILABLE_MESSAGE);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers()[axum::http::header::RETRY_AFTER],
            RETRY_AFTER_SECONDS.to_string()
        );
    }

    #[test]
    fn a_body_without_fields_omits_the_key() {
        let body = serde_json::to_value(ErrorBody::new("not_found", "no such order")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "not_found", "message": "no such order"}})
        );
    }
}
