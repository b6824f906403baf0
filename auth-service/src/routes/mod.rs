//! The HTTP surface: `/api/auth/*`, `/health`, `/ready`, `/metrics`. Each route is declared
//! once, below, with its handler's OpenAPI description: the router and the document
//! (`GET /api/auth/openapi.json`) are built from the same list.

mod auth;

use std::sync::LazyLock;

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};
use web_kit::{Json, openapi::OPERATIONS_TAG};

use crate::state::AppState;

/// Every route with its description.
fn declared() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::logout_everywhere))
        .routes(routes!(auth::me))
        .routes(routes!(auth::demo_login))
        .routes(routes!(auth::jwks))
        .routes(routes!(openapi_json))
        .routes(routes!(web_kit::http::health))
        .routes(routes!(web_kit::readiness::ready))
        .routes(routes!(web_kit::observability::metrics_handler))
}

/// All routes, with their state.
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
        "auth-service",
        env!("CARGO_PKG_VERSION"),
        "The marketplace's accounts and sessions: sign-up, sign-in (HttpOnly cookies for the \
         browser, a bearer token for API clients), rotating refresh tokens, sign-out (here or \
         everywhere), and the public keys every service verifies access tokens with.",
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

/// `GET /api/auth/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/auth/openapi.json",
    tag = OPERATIONS_TAG,
    operation_id = "auth_openapi",
    summary = "This OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object)),
)]
async fn openapi_json() -> Json<&'static OpenApi> {
    Json(&DOCUMENT)
}
