//! HTTP routes: orders, payment, the live event stream, the admin stream API, readiness.

pub mod admin;
pub mod events;
pub mod orders;
pub mod payment;

pub use events::{STREAMS_PER_USER, StreamSlots};

use axum::{
    Router,
    routing::{get, post},
};

use crate::state::AppState;

/// Every route, before the standard layers.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(web_kit::http::health))
        .route("/ready", get(web_kit::readiness::ready))
        .route("/metrics", get(web_kit::observability::metrics_handler))
        .route("/api/orders", post(orders::place).get(orders::list))
        .route("/api/orders/{id}", get(orders::show))
        .route("/api/orders/{id}/cancel", post(orders::cancel))
        .route("/api/orders/{id}/pay", post(payment::pay))
        .route("/api/orders/{id}/events", get(events::stream))
        .route("/api/admin/streams", get(admin::streams))
        .route("/api/admin/dead-letters", get(admin::dead_letters))
        .route("/api/admin/dead-letters/{id}/replay", post(admin::replay))
        .with_state(state)
}
