//! `GET /ready`, the same in every service: PostgreSQL answers `SELECT 1` and Redis answers
//! `PING`, each within a bounded wait, or a 503 `not_ready` body naming what does not.

use std::time::Duration;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use sqlx::PgPool;

use crate::ErrorBody;

/// Longest wait for one dependency: a black-holed database or Redis makes `/ready` a 503 after
/// this long instead of hanging the probe.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The body of a ready `GET /ready`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Ready {
    #[schema(example = "ready")]
    pub status: &'static str,
    #[schema(example = "ok")]
    pub database: &'static str,
    #[schema(example = "ok")]
    pub redis: &'static str,
}

/// The handler: route it with `routes!(web_kit::readiness::ready)` on a router whose
/// state gives a `PgPool` and a `deadpool_redis::Pool` through `FromRef`.
///
/// 200 `{"status": "ready", "database": "ok", "redis": "ok"}`, or 503 with
/// `{"error": {"code": "not_ready", "message": "unreachable: database, redis"}}` listing only
/// what failed (each failure is logged with its cause).
#[utoipa::path(
    get,
    path = "/ready",
    tag = crate::openapi::OPERATIONS_TAG,
    operation_id = "ready",
    summary = "PostgreSQL and Redis answer (readiness)",
    responses(
        (status = 200, description = "Ready to serve.", body = Ready),
        (status = 503, description = "A dependency does not answer (`not_ready`, naming it).", body = ErrorBody),
    ),
)]
pub async fn ready(
    State(pool): State<PgPool>,
    State(redis): State<deadpool_redis::Pool>,
) -> Response {
    let database = async {
        sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(&pool)
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    };
    let redis = async {
        let mut connection = redis.get().await.map_err(|error| error.to_string())?;
        redis::cmd("PING")
            .query_async::<String>(&mut *connection)
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    };
    let (database, redis) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, database),
        tokio::time::timeout(CHECK_TIMEOUT, redis)
    );
    let mut down = Vec::new();
    for (name, outcome) in [("database", database), ("redis", redis)] {
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
        axum::Json(Ready {
            status: "ready",
            database: "ok",
            redis: "ok",
        })
        .into_response()
    } else {
        ErrorBody::new("not_ready", format!("unreachable: {}", down.join(", ")))
            .into_response_with(StatusCode::SERVICE_UNAVAILABLE)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    async fn call(redis_url: &str) -> (StatusCode, Value) {
        let pool = PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
            .await
            .unwrap();
        let redis = deadpool_redis::Config::from_url(redis_url)
            .create_pool(Some(deadpool_redis::Runtime::Tokio1))
            .unwrap();
        let response = ready(State(pool), State(redis)).await;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn ready_is_ok_when_postgres_and_redis_answer() {
        let (status, body) = call("redis://127.0.0.1:6379").await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ready");
        assert_eq!(body["database"], "ok");
        assert_eq!(body["redis"], "ok");
    }

    #[tokio::test]
    async fn ready_is_a_503_naming_only_redis_when_redis_is_unreachable() {
        let (status, body) = call("redis://127.0.0.1:1").await;

        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["code"], "not_ready");
        assert_eq!(body["error"]["message"], "unreachable: redis");
    }
}
