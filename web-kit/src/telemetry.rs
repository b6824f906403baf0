//! Process set-up for logs, metrics and traces: pretty logs on a terminal, JSON lines in
//! containers, the Prometheus recorder and the build's identity, OpenTelemetry spans when
//! configured ([`crate::otel`]), all installed before anything else runs.

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::{
    EnvFilter, Layer, fmt, layer::SubscriberExt, registry::LookupSpan, util::SubscriberInitExt,
};

use crate::build_info::BuildInfo;

/// Installs, once per process: the global subscriber, the Prometheus recorder (so counters from
/// the first second are kept for the first scrape) with `build_info`, and records `build` for
/// `GET /health`; with `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans exported over OTLP (flush them
/// with [`shutdown`] at exit). `RUST_LOG` overrides the default filter; `LOG_FORMAT` (`json` or `pretty`)
/// overrides the choice made from whether stdout is a terminal.
///
/// Calling it again (as tests that start many apps do) is harmless.
pub fn init(build: BuildInfo) {
    crate::build_info::set(build);
    let default_filter = format!(
        "info,{}=debug,stream_lib=info,tower_http=info,sqlx=warn",
        build.service.replace('-', "_")
    );
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = match std::env::var(crate::config::LOG_FORMAT.name).as_deref() {
        Ok("json") => true,
        Ok("pretty") => false,
        _ => !std::io::stdout().is_terminal(),
    };
    let provider = crate::otel::provider_from_env(build.service);
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(provider.as_ref().map(crate::otel::layer));
    if let Some(provider) = provider {
        crate::otel::keep(provider);
    }
    let result = if json {
        registry.with(json_layer(std::io::stdout)).try_init()
    } else {
        registry.with(fmt::layer().with_target(true)).try_init()
    };
    // Already installed (a second app in the same test process): keep the first one.
    let _ = result;
    if crate::observability::install().is_some() {
        crate::observability::record_build_info(build);
    }
}

/// Flushes what is still buffered (the last batch of spans): call as the process ends.
pub fn shutdown() {
    crate::otel::shutdown();
}

/// The JSON log format of every service, writing to `writer`: one object per line with the
/// event's fields flattened, the current span and the list of every enclosing span (so the
/// request's `request_id` is on each line logged while handling it).
pub fn json_layer<S, W>(writer: W) -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> fmt::MakeWriter<'writer> + Send + Sync + 'static,
{
    fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(writer)
}

/// For tests: logs only when `RUST_LOG` is set, through the test harness's capture, so a passing
/// test prints nothing and a failing one shows its logs.
pub fn init_for_tests() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}
