//! `GET /ready`: the database and Redis answer (503 JSON naming what does not).

use std::time::Duration;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use sqlx::PgPool;
use web_kit::ErrorBody;

const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn ready(
    State(pool): State<PgPool>,
    State(redis): State<deadpool_redis::Pool>,
) -> Response {
    let database = async {
        sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(&pool)
            .await
            .map_err(|error| error.to_string())
    };
    let redis = async {
        let mut connection = redis.get().await.map_err(|error| error.to_string())?;
        redis::cmd("PING")
            .query_async::<String>(&mut *connection)
            .await
            .map_err(|error| error.to_string())
    };
    let (database, redis) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, database),
        tokio::time::timeout(CHECK_TIMEOUT, redis)
    );
    let mut down = Vec::new();
    for (name, outcome) in [
        ("database", database.map(|r| r.map(|_| ()))),
        ("redis", redis.map(|r| r.map(|_| ()))),
    ] {
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(dependency = name, %error, "not ready");
                down.push(name);
            }
            Err(_) => {
                tracing::warn!(dependency = name, "not ready: timed out");
                down.push(name);
            }
        }
    }
    if down.is_empty() {
        axum::Json(serde_json::json!({"status": "ready", "database": "ok", "redis": "ok"}))
            .into_response()
    } else {
        ErrorBody::new("not_ready", format!("unreachable: {}", down.join(", ")))
            .into_response_with(StatusCode::SERVICE_UNAVAILABLE)
    }
}
