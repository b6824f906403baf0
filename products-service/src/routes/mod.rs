//! The HTTP API: the catalog under `/api/products`, and the health endpoints.

mod caching;
mod products;

use axum::{Router, routing::get};

use crate::state::AppState;

/// Every route of the service (the standard layers are added by the caller).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(web_kit::http::health))
        .route("/ready", get(web_kit::readiness::ready))
        .route("/metrics", get(web_kit::observability::metrics_handler))
        .route("/api/products", get(products::list).post(products::create))
        .route("/api/products/categories", get(products::categories))
        .route("/api/products/mine", get(products::mine))
        .route(
            "/api/products/{id}",
            get(products::get)
                .patch(products::update)
                .delete(products::delete),
        )
        .with_state(state)
}
