//! Prometheus metrics: one process-wide recorder installed at start (so nothing counted before
//! the first scrape is lost), latencies as histograms with fixed buckets (they aggregate across
//! replicas, summaries do not), an HTTP middleware counting requests and their latency per route,
//! the `build_info` gauge, database pool usage and the `GET /metrics` handler. stream-lib records
//! its own metrics (processed, retried, dead-lettered, pending, lag) through the same facade.

use std::{sync::OnceLock, time::Duration, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

use crate::build_info::BuildInfo;

/// Bucket bounds (seconds) of every `*_seconds` histogram: a request or an event handled here
/// takes from about a millisecond (a cached read) to the 30 s request time limit, so the buckets
/// are dense where the latency objectives sit (5 ms to 1 s) and sparse beyond.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histograms are folded into their buckets between scrapes, so an unscraped process
/// does not keep every sample.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// How often [`watch_pool`] samples a pool.
const POOL_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

fn builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
        .expect("the bucket list is not empty")
}

/// Installs the global Prometheus recorder (once; later calls return the same handle) and
/// starts its upkeep thread. `None` when another recorder was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| match builder().install_recorder() {
            Ok(handle) => {
                let upkeep = handle.clone();
                let spawned = std::thread::Builder::new()
                    .name("metrics-upkeep".to_owned())
                    .spawn(move || {
                        loop {
                            std::thread::sleep(UPKEEP_INTERVAL);
                            upkeep.run_upkeep();
                        }
                    });
                if let Err(error) = spawned {
                    tracing::warn!(%error, "metrics upkeep thread not started");
                }
                Some(handle)
            }
            Err(error) => {
                tracing::warn!(%error, "metrics recorder not installed");
                None
            }
        })
        .as_ref()
}

/// The recorder's handle. A service installs it at start ([`crate::telemetry::init`]); tests that
/// build an app in-process without it get it installed here, on first use.
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    install()
}

/// Sets `build_info{service, version, commit} 1`, the usual way to join a build to any series.
pub fn record_build_info(info: BuildInfo) {
    metrics::gauge!(
        "build_info",
        "service" => info.service,
        "version" => info.version,
        "commit" => info.commit,
    )
    .set(1.0);
}

/// Samples `pool` every few seconds into `db_pool_connections{state="idle"|"in_use"}` and
/// `db_pool_max_connections`, until the pool is closed (or the runtime ends).
pub fn watch_pool(pool: &PgPool) {
    let pool = pool.clone();
    tokio::spawn(async move {
        let max = f64::from(pool.options().get_max_connections());
        let mut tick = tokio::time::interval(POOL_SAMPLE_INTERVAL);
        while !pool.is_closed() {
            tick.tick().await;
            let size = pool.size() as usize;
            let idle = pool.num_idle().min(size);
            metrics::gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
            metrics::gauge!("db_pool_connections", "state" => "in_use").set((size - idle) as f64);
            metrics::gauge!("db_pool_max_connections").set(max);
        }
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_render_as_histograms_with_the_chosen_buckets() {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            metrics::histogram!("http_request_duration_seconds", "route" => "/x").record(0.003);
        });

        let text = handle.render();

        assert!(
            text.contains("# TYPE http_request_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains(r#"http_request_duration_seconds_bucket{route="/x",le="0.005"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"http_request_duration_seconds_bucket{route="/x",le="0.0025"} 0"#),
            "{text}"
        );
        assert!(!text.contains("quantile="), "{text}");
    }

    #[test]
    fn build_info_is_a_gauge_of_one_labelled_with_the_build() {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            record_build_info(BuildInfo {
                service: "orders-service",
                version: "1.2.3",
                commit: "abc123",
            });
        });

        assert!(
            handle.render().contains(
                r#"build_info{service="orders-service",version="1.2.3",commit="abc123"} 1"#
            ),
            "{}",
            handle.render()
        );
    }
}
