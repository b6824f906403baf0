//! Extractors that wrap axum's own so that every rejection (malformed JSON, a missing field, a
//! bad path id, a bad query string, an oversized body) answers with the JSON error body.

use axum::{
    extract::{
        FromRequest, FromRequestParts, Request,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::ErrorBody;

/// A rejected request: a 4xx with the JSON error body.
#[derive(Debug)]
pub struct Rejection {
    status: StatusCode,
    body: ErrorBody,
}

impl Rejection {
    /// The status the rejection answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.body.into_response_with(self.status)
    }
}

impl From<JsonRejection> for Rejection {
    fn from(rejection: JsonRejection) -> Self {
        let (status, code) = match &rejection {
            JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            _ => (rejection.status(), "bad_request"),
        };
        Self {
            status,
            body: ErrorBody::new(code, without_values(&rejection.body_text())),
        }
    }
}

/// serde's messages quote the value they refused (``card_number: invalid type: integer
/// `4242424242424242`, expected a string``): a card number or password sent with the wrong type
/// would come back in the error body, and in any log of it. Keeps the kind of value and the field
/// names, drops the values.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    loop {
        let next = ["invalid type: ", "invalid value: ", "unknown variant "]
            .iter()
            .filter_map(|marker| rest.find(marker).map(|at| (at, at + marker.len())))
            .min();
        let Some((_, after)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        // The refused value runs to `, expected` (serde's wording); keep its kind only.
        let end = rest.find(", expected").unwrap_or(rest.len());
        let kind = rest[..end]
            .split(['`', '"'])
            .next()
            .unwrap_or_default()
            .trim_end();
        out.push_str(if kind.is_empty() { "a value" } else { kind });
        rest = &rest[end..];
    }
}

impl From<PathRejection> for Rejection {
    fn from(rejection: PathRejection) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: ErrorBody::new("invalid_path", rejection.body_text()),
        }
    }
}

impl From<QueryRejection> for Rejection {
    fn from(rejection: QueryRejection) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: ErrorBody::new("invalid_query", rejection.body_text()),
        }
    }
}

/// `axum::Json` whose rejections are JSON error bodies. Also a response type.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(Rejection))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path` whose rejection is a 400 `invalid_path` body (a malformed UUID, say).
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Rejection))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` whose rejection is a 400 `invalid_query` body.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Rejection))]
pub struct Query<T>(pub T);

/// A JSON body that is deserialised, then checked with its `validator` rules: a failure is a 422
/// `validation_failed` body naming each field.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidJson<T>(pub T);

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        value.validate().map_err(|errors| Rejection {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: ErrorBody::validation(&errors),
        })?;
        Ok(Self(value))
    }
}

/// The request id (`x-request-id`), set at the edge by [`crate::http::layers`]; carried into every
/// event as its `correlation_id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get(crate::http::REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        Ok(Self(id))
    }
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn refused_values_are_left_out_of_the_message_and_field_names_kept() {
        for (message, expected) in [
            (
                "card_number: invalid type: integer `4242424242424242`, expected a string at line 1 column 31",
                "card_number: invalid type: integer, expected a string at line 1 column 31",
            ),
            (
                "password: invalid value: string \"hunter2\", expected x",
                "password: invalid value: string, expected x",
            ),
            (
                "status: unknown variant `s3cret`, expected one of `PENDING`, `PAID`",
                "status: unknown variant a value, expected one of `PENDING`, `PAID`",
            ),
            (
                "invalid type: floating point `1.5`, expected i64",
                "invalid type: floating point, expected i64",
            ),
            ("missing field `cvc`", "missing field `cvc`"),
            (
                "unknown field `amount`, expected one of `card_number`, `expiry`, `cvc`",
                "unknown field `amount`, expected one of `card_number`, `expiry`, `cvc`",
            ),
        ] {
            assert_eq!(without_values(message), expected);
        }
    }
}
