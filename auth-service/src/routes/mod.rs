//! The HTTP surface: `/api/auth/*`, `/health`, `/ready`, `/metrics`.

mod auth;

use axum::{
    Router,
    routing::{get, post},
};

use crate::state::AppState;

/// All routes, with their state.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/auth/signup", post(auth::signup))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/refresh", post(auth::refresh))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/logout-everywhere", post(auth::logout_everywhere))
        .route("/api/auth/me", get(auth::me))
        .route("/api/auth/demo-login", post(auth::demo_login))
        .route("/api/auth/jwks", get(auth::jwks))
        .route("/health", get(web_kit::http::health))
        .route("/ready", get(web_kit::readiness::ready))
        .route("/metrics", get(web_kit::observability::metrics_handler))
        .with_state(state)
}
