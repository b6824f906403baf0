//! HTTP routes: orders, payment, the live event stream, the admin stream API, readiness. Each
//! route is declared once, in [`declared`], with its handler's OpenAPI description.

pub mod admin;
pub mod events;
pub mod orders;
pub mod payment;

pub use events::{STREAMS_PER_USER, StreamSlots};

use std::sync::LazyLock;

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};
use web_kit::{Json, openapi::OPERATIONS_TAG};

use crate::state::AppState;

/// Every route with its description. The router and the document
/// (`GET /api/orders/openapi.json`) are built from this one list.
fn declared() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(web_kit::http::health))
        .routes(routes!(web_kit::readiness::ready))
        .routes(routes!(web_kit::observability::metrics_handler))
        .routes(routes!(openapi_json))
        .routes(routes!(orders::place, orders::list))
        .routes(routes!(orders::show))
        .routes(routes!(orders::cancel))
        .routes(routes!(payment::pay))
        .routes(routes!(events::stream))
        .routes(routes!(admin::streams))
        .routes(routes!(admin::dead_letters))
        .routes(routes!(admin::replay))
}

/// Every route, before the standard layers.
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
        "The marketplace's orders: place (idempotently), list, show, cancel and pay for orders, \
         follow an order's status live (Server-Sent Events), and, for administrators, the \
         health of the event streams and their dead letters.",
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

/// `GET /api/orders/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/orders/openapi.json",
    tag = OPERATIONS_TAG,
    operation_id = "orders_openapi",
    summary = "This OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object)),
)]
async fn openapi_json() -> Json<&'static OpenApi> {
    Json(&DOCUMENT)
}
