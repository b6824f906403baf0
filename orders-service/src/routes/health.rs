//! `GET /ready`: PostgreSQL and Redis reachable, or a 503 JSON body.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use sqlx::PgPool;
use web_kit::ErrorBody;

pub async fn ready(
    State(pool): State<PgPool>,
    State(redis): State<deadpool_redis::Pool>,
) -> Response {
    let database = sqlx::query("SELECT 1").execute(&pool).await.is_ok();
    let redis_ok = async {
        let mut connection = redis.get().await.ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .ok()
    }
    .await
    .is_some();
    if database && redis_ok {
        axum::Json(serde_json::json!({"status": "ready"})).into_response()
    } else {
        let missing = match (database, redis_ok) {
            (false, false) => "database and redis",
            (false, true) => "database",
            _ => "redis",
        };
        ErrorBody::new("not_ready", format!("{missing} unreachable"))
            .into_response_with(StatusCode::SERVICE_UNAVAILABLE)
    }
}
