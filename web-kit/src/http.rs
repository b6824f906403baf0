//! The standard HTTP stack of every service: request ids set at the edge and returned to the
//! caller, a tracing span per request (an OpenTelemetry server span continuing the caller's
//! `traceparent` when traces are on), credentials redacted from logs, a body-size limit, a
//! timeout, panics turned into JSON 500s, JSON bodies for axum's bare 404 and 405, and cookie
//! requests from another site refused ([`crate::same_site`]).

use std::{any::Any, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    sensitive_headers::SetSensitiveRequestHeadersLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::error::ErrorBody;

/// The header that carries the request id in and out of every service.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Limits of the standard stack.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest accepted request body; larger ones get a 413 JSON body.
    pub body_bytes: usize,
    /// Longest time a handler may take to produce its response head (event streams are not cut:
    /// their body streams after the head).
    pub timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            body_bytes: 64 * 1024,
            timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Clone, Copy)]
struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Wraps a service's router in the standard stack. Call it last, on the complete router.
pub fn layers(router: Router, limits: HttpLimits) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    router
        .fallback(not_found)
        .layer(middleware::from_fn(json_for_bare_errors))
        .layer(middleware::from_fn(crate::same_site::same_site_only))
        .layer(middleware::from_fn(crate::observability::track_http))
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(middleware::from_fn_with_state(limits.timeout, time_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get(REQUEST_ID_HEADER)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or("");
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or(request.uri().path(), MatchedPath::as_str);
                    let span = tracing::info_span!(
                        "http",
                        method = %request.method(),
                        route = %route,
                        request_id = %request_id,
                        otel.name = %format_args!("{} {route}", request.method()),
                        otel.kind = "server",
                    );
                    crate::otel::continue_trace(&span, request.headers());
                    span
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuidV7))
        .layer(middleware::from_fn(drop_malformed_request_id))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
}

/// Whether a caller's request id is kept: 1 to 128 of `A-Z a-z 0-9 . _ : -` (what nginx in front
/// accepts too); anything else is replaced by a fresh id, so a log line cannot be flooded or
/// forged through it.
fn acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=128).contains(&bytes.len())
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._:-".contains(byte))
}

async fn drop_malformed_request_id(mut request: Request, next: Next) -> Response {
    if let Some(value) = request.headers().get(REQUEST_ID_HEADER)
        && !acceptable_request_id(value)
    {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    next.run(request).await
}

/// A handler that has not produced its response head within the limit is abandoned: a 503
/// `timeout` with the JSON body and `Retry-After`.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis() as u64, "request timed out");
            crate::error::unavailable("timeout", "the request took too long; please try again")
        }
    }
}

async fn not_found() -> Response {
    ErrorBody::new("not_found", "no such route").into_response_with(StatusCode::NOT_FOUND)
}

/// axum answers an unknown method (405) with an empty body; give it the JSON body too.
async fn json_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        let (mut parts, _) = response.into_parts();
        let body = ErrorBody::new("method_not_allowed", "this route does not take that method")
            .into_response_with(StatusCode::METHOD_NOT_ALLOWED);
        let (body_parts, body) = body.into_parts();
        parts.headers.extend(body_parts.headers);
        return Response::from_parts(parts, body);
    }
    response
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    ErrorBody::internal()
        .into_response_with(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

/// The body of `GET /health`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Which build answers: service, version and commit.
    #[serde(flatten)]
    pub build: crate::build_info::BuildInfo,
}

/// `GET /health`: the process is up and serving, and which build it is. Cheap on purpose (no
/// dependency is asked): readiness is [`crate::readiness::ready`].
#[utoipa::path(
    get,
    path = "/health",
    tag = crate::openapi::OPERATIONS_TAG,
    operation_id = "health",
    summary = "The process is up (liveness) and its build",
    responses((status = 200, description = "Serving.", body = Health)),
)]
pub async fn health() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok",
        build: crate::build_info::current(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::routing::get;
    use tower::ServiceExt;
    use tracing_subscriber::{EnvFilter, layer::SubscriberExt};

    use super::*;

    /// Log lines written by the JSON layer, kept in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<serde_json::Value> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect()
        }
    }

    /// The request id recorded in any span enclosing a JSON log line.
    fn request_id_of(line: &serde_json::Value) -> Option<String> {
        line["spans"]
            .as_array()?
            .iter()
            .find_map(|span| span["request_id"].as_str().map(str::to_owned))
    }

    #[tracing::instrument]
    async fn look_up(order_id: u32) {
        tracing::debug!("looked up in a nested span");
    }

    #[tokio::test]
    async fn every_log_line_of_a_request_carries_its_request_id_which_is_returned() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new("debug"))
            .with(crate::telemetry::json_layer({
                let captured = captured.clone();
                move || captured.clone()
            }));
        let _guard = tracing::subscriber::set_default(subscriber);
        let router = Router::new().route(
            "/orders/{id}",
            get(|| async {
                tracing::info!("placing");
                look_up(7).await;
                "ok"
            }),
        );
        let app = layers(router, HttpLimits::default());

        let from_caller = app
            .clone()
            .oneshot(
                Request::get("/orders/1")
                    .header(REQUEST_ID_HEADER, "caller-chosen-id")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let generated = app
            .oneshot(Request::get("/orders/2").body(Body::empty()).unwrap())
            .await
            .unwrap();

        assert_eq!(from_caller.headers()[REQUEST_ID_HEADER], "caller-chosen-id");
        let generated = generated.headers()[REQUEST_ID_HEADER]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
        let lines = captured.lines();
        for id in ["caller-chosen-id", generated.as_str()] {
            let messages: Vec<&str> = lines
                .iter()
                .filter(|line| request_id_of(line).as_deref() == Some(id))
                .filter_map(|line| line["message"].as_str())
                .collect();
            assert!(messages.contains(&"placing"), "{id}: {messages:?}");
            assert!(
                messages.contains(&"looked up in a nested span"),
                "{id}: {messages:?}"
            );
            assert!(
                messages.contains(&"finished processing request"),
                "{id}: {messages:?}"
            );
        }
        let without: Vec<_> = lines
            .iter()
            .filter(|line| request_id_of(line).is_none())
            .collect();
        assert!(
            without.is_empty(),
            "lines without a request id: {without:?}"
        );
    }

    #[tokio::test]
    async fn a_malformed_request_id_is_replaced_by_a_fresh_one() {
        let app = layers(
            Router::new().route("/health", get(health)),
            HttpLimits::default(),
        );
        for malformed in ["has spaces", &"x".repeat(129), "quote\"d"] {
            let response = app
                .clone()
                .oneshot(
                    Request::get("/health")
                        .header(REQUEST_ID_HEADER, malformed)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();

            let returned = response.headers()[REQUEST_ID_HEADER].to_str().unwrap();
            assert!(
                uuid::Uuid::parse_str(returned).is_ok(),
                "{malformed}: {returned}"
            );
        }
    }

    #[tokio::test]
    async fn health_names_the_build() {
        let response = layers(
            Router::new().route("/health", get(health)),
            HttpLimits::default(),
        )
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();

        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["status"], "ok");
        let build = crate::build_info::current();
        assert_eq!(body["service"], build.service);
        assert_eq!(body["version"], build.version);
        assert_eq!(body["commit"], build.commit);
    }

    #[tokio::test]
    async fn a_request_past_the_time_limit_gets_a_json_503_with_retry_after() {
        let router = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
        let limits = HttpLimits {
            timeout: Duration::from_millis(50),
            ..HttpLimits::default()
        };
        let response = layers(router, limits)
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();

        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "timeout");
    }
}
