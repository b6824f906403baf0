//! The HTTP API: the catalog under `/api/products`, and the health endpoints. Each route is
//! declared once, below, with its handler's OpenAPI description: the router and the document
//! (`GET /api/products/openapi.json`) are built from the same list.

mod caching;
mod products;

use std::sync::LazyLock;

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};
use web_kit::{Json, openapi::OPERATIONS_TAG};

use crate::state::AppState;

/// Every route with its description (the standard layers are added by the caller).
fn declared() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(web_kit::http::health))
        .routes(routes!(web_kit::readiness::ready))
        .routes(routes!(web_kit::observability::metrics_handler))
        .routes(routes!(openapi_json))
        .routes(routes!(products::list, products::create))
        .routes(routes!(products::categories))
        .routes(routes!(products::mine))
        .routes(routes!(products::get, products::update, products::delete))
}

/// Every route of the service (the standard layers are added by the caller).
pub fn router(state: AppState) -> Router {
    declared().split_for_parts().0.with_state(state)
}

/// The routes without their state, for tests that compare them with the document.
pub fn stateless_router() -> Router<AppState> {
    declared().split_for_parts().0
}

static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(|| {
    web_kit::openapi::finish(
        declared().split_for_parts().1,
        crate::SERVICE_NAME,
        env!("CARGO_PKG_VERSION"),
        "The marketplace's catalog: public listings with search, filters and pages; sellers \
         create, change and delete their own listings (administrators any), with optimistic \
         concurrency through `ETag` / `If-Match`.",
    )
});

/// The service's OpenAPI 3.1 document.
pub fn openapi() -> OpenApi {
    DOCUMENT.clone()
}

/// Every operation (method and path) the service serves, from the same declarations as the
/// router.
pub fn operations() -> Vec<web_kit::openapi::Operation> {
    web_kit::openapi::document_operations(&DOCUMENT)
}

/// `GET /api/products/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/products/openapi.json",
    tag = OPERATIONS_TAG,
    operation_id = "products_openapi",
    summary = "This OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object)),
)]
async fn openapi_json() -> Json<&'static OpenApi> {
    Json(&DOCUMENT)
}
