//! `GET /ready`: PostgreSQL and Redis both answer, or a 503 JSON body naming what does not.

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
    let cache = match redis.get().await {
        Ok(mut connection) => redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .is_ok(),
        Err(_) => false,
    };
    if database && cache {
        axum::Json(serde_json::json!({"status": "ready"})).into_response()
    } else {
        let mut down = Vec::new();
        if !database {
            down.push("database");
        }
        if !cache {
            down.push("redis");
        }
        ErrorBody::new("not_ready", format!("unreachable: {}", down.join(", ")))
            .into_response_with(StatusCode::SERVICE_UNAVAILABLE)
    }
}
