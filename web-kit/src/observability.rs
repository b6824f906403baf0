//! Prometheus metrics: one process-wide recorder, an HTTP middleware counting requests and their
//! latency per route, and the `GET /metrics` handler. stream-lib records its own counters
//! (processed, retried, dead-lettered, pending, lag) through the same `metrics` facade.

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the global Prometheus recorder on first use and returns its handle (`None` when
/// another recorder was installed first).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => Some(handle),
            Err(error) => {
                tracing::warn!(%error, "metrics recorder not installed");
                None
            }
        })
        .as_ref()
}

/// `GET /metrics` in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = crate::openapi::OPERATIONS_TAG,
    operation_id = "metrics",
    summary = "Prometheus metrics",
    responses((status = 200, description = "The Prometheus text format.", body = String, content_type = "text/plain")),
)]
pub async fn metrics_handler() -> Response {
    match prometheus() {
        Some(handle) => handle.render().into_response(),
        None => String::new().into_response(),
    }
}

/// Counts every request (`http_requests_total`) and times it (`http_request_duration_seconds`),
/// labelled by route template, method and status.
pub async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
