//! Builds the application: binds the listener and assembles the router.

use axum::{Router, routing::get};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;

/// A built, not yet running, service.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Binds the port (0 picks a free one) and builds the router.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(("0.0.0.0", settings.port)).await?;
        let router = web_kit::http::layers(
            Router::new()
                .route("/health", get(web_kit::http::health))
                .route("/metrics", get(web_kit::observability::metrics_handler)),
            web_kit::http::HttpLimits::default(),
        );
        Ok(Self { listener, router })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map_or(0, |address| address.port())
    }

    /// Serves until `shutdown` is cancelled, then drains in-flight requests.
    pub async fn run_until(self, shutdown: CancellationToken) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    }
}
