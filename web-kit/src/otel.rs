//! OpenTelemetry traces, off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set: then every span of the
//! service goes, batched, to that OTLP/HTTP endpoint (`<endpoint>/v1/traces`, protobuf), and a
//! request carrying a W3C `traceparent` header continues the caller's trace.

use std::sync::OnceLock;

use http::HeaderMap;
use opentelemetry::{
    propagation::{Extractor, TextMapPropagator},
    trace::TracerProvider as _,
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{Layer, registry::LookupSpan};

/// The setting that turns tracing on, as the OpenTelemetry SDKs name it.
pub const ENDPOINT_VAR: &str = crate::config::OTEL_EXPORTER_OTLP_ENDPOINT.name;

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// A provider exporting to `endpoint` (e.g. `http://jaeger:4318`) in batches, the spans named by
/// `service` (`service.name`).
pub fn otlp_provider(
    endpoint: &str,
    service: &'static str,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build())
}

/// The provider from the environment: `None` when `OTEL_EXPORTER_OTLP_ENDPOINT` is unset or
/// blank (tracing off), or when the exporter cannot be built (logged).
pub fn provider_from_env(service: &'static str) -> Option<SdkTracerProvider> {
    let endpoint = std::env::var(ENDPOINT_VAR).ok()?;
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return None;
    }
    match otlp_provider(endpoint, service) {
        Ok(provider) => Some(provider),
        Err(error) => {
            eprintln!("{ENDPOINT_VAR}={endpoint}: traces off, the exporter failed: {error}");
            None
        }
    }
}

/// The tracing layer that turns spans into OpenTelemetry spans of `provider`.
pub fn layer<S>(provider: &SdkTracerProvider) -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer("web-kit"))
}

/// Keeps `provider` so [`shutdown`] can flush it at exit.
pub(crate) fn keep(provider: SdkTracerProvider) {
    let _ = PROVIDER.set(provider);
}

/// Flushes and stops the exporter (the last batch would be lost otherwise): call once, as the
/// process ends. Without tracing it does nothing.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.shutdown()
    {
        tracing::warn!(%error, "traces not flushed at exit");
    }
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Makes `span` a child of the trace named by the request's `traceparent` header, if any (a
/// no-op when tracing is off or the header is missing or malformed).
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if headers.contains_key("traceparent") {
        let parent = TraceContextPropagator::new().extract(&Headers(headers));
        let _ = span.set_parent(parent);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::{Router, body::Body, extract::Request, routing::get, routing::post};
    use opentelemetry::trace::{SpanKind, TraceId};
    use opentelemetry_sdk::trace::InMemorySpanExporter;
    use tower::ServiceExt;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::http::{HttpLimits, layers};

    #[tracing::instrument]
    async fn look_up() {
        tracing::info!("looked up");
    }

    #[tokio::test]
    async fn a_request_is_a_server_span_continuing_the_callers_traceparent() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry().with(layer(&provider));
        let _guard = tracing::subscriber::set_default(subscriber);
        let router = Router::new().route(
            "/orders/{id}",
            get(|| async {
                look_up().await;
                "ok"
            }),
        );

        let response = layers(router, HttpLimits::default())
            .oneshot(
                Request::get("/orders/7")
                    .header(
                        "traceparent",
                        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    )
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        // The request's span ends with its body.
        axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        provider.force_flush().unwrap();

        let spans = exporter.get_finished_spans().unwrap();
        let server = spans
            .iter()
            .find(|span| span.name == "GET /orders/{id}")
            .unwrap_or_else(|| panic!("no server span in {spans:?}"));
        assert_eq!(server.span_kind, SpanKind::Server);
        assert_eq!(
            server.span_context.trace_id(),
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap()
        );
        assert_eq!(server.parent_span_id.to_string(), "00f067aa0ba902b7");
        let nested = spans.iter().find(|span| span.name == "look_up").unwrap();
        assert_eq!(nested.parent_span_id, server.span_context.span_id());
        assert_eq!(
            nested.span_context.trace_id(),
            server.span_context.trace_id()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_otlp_exporter_posts_the_spans_to_the_endpoint() {
        let received: Arc<Mutex<Vec<(String, usize)>>> = Arc::default();
        let collector = Router::new().route(
            "/v1/traces",
            post({
                let received = received.clone();
                move |headers: HeaderMap, body: axum::body::Bytes| async move {
                    let content_type = headers
                        .get(http::header::CONTENT_TYPE)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    received.lock().unwrap().push((content_type, body.len()));
                    ""
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, collector).await });
        let provider = otlp_provider(&endpoint, "web-kit-test").unwrap();
        let subscriber = tracing_subscriber::registry().with(layer(&provider));

        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("placing an order", order_id = 7).in_scope(|| {
                tracing::info!("placed");
            });
        });
        tokio::task::spawn_blocking(move || provider.force_flush())
            .await
            .unwrap()
            .unwrap();

        let received = received.lock().unwrap().clone();
        assert_eq!(received.len(), 1, "{received:?}");
        assert_eq!(received[0].0, "application/x-protobuf");
        assert!(received[0].1 > 0);
    }

    #[test]
    fn tracing_is_off_without_an_endpoint() {
        // The variable is unset in the test environment (CI sets no OTLP endpoint).
        if std::env::var_os(ENDPOINT_VAR).is_none() {
            assert!(provider_from_env("web-kit").is_none());
        }
    }
}
