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
use validator::{ValidationErrors, ValidationErrorsKind};

/// Per-field messages of a 422: `{"email": ["must be a valid address"]}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// A JSON error body, paired with its status when it becomes a response.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize)]
struct ErrorDetail {
    code: Cow<'static, str>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
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
    fn a_body_without_fields_omits_the_key() {
        let body = serde_json::to_value(ErrorBody::new("not_found", "no such order")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "not_found", "message": "no such order"}})
        );
    }
}
