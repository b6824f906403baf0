//! What the handlers share; each takes only the part it uses (`State<PgPool>`, ...) via `FromRef`.

use auth_kit::Verifier;
use axum::extract::FromRef;
use sqlx::PgPool;

use crate::usecases::CatalogCaches;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    pub redis: web_kit::redis_pool::RedisPool,
    pub verifier: Verifier,
    pub catalog: CatalogCaches,
}
