//! Tracing subscriber set-up: pretty logs on a terminal, JSON lines in containers.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

/// Installs the global subscriber once. `RUST_LOG` overrides the default filter; `LOG_FORMAT`
/// (`json` or `pretty`) overrides the choice made from whether stdout is a terminal.
///
/// Calling it again (as tests that start many apps do) is harmless.
pub fn init(service: &str) {
    let default_filter = format!(
        "info,{}=debug,stream_lib=info,tower_http=info,sqlx=warn",
        service.replace('-', "_")
    );
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("pretty") => false,
        _ => !std::io::stdout().is_terminal(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init()
    } else {
        registry.with(fmt::layer().with_target(true)).try_init()
    };
    // Already installed (a second app in the same test process): keep the first one.
    let _ = result;
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
