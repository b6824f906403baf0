//! `GET /ready`, the same in every service: PostgreSQL answers `SELECT 1` and Redis answers
//! `PING` (on a cluster, every master does), each within a bounded wait, and every registered background task is running
//! ([`crate::background`]); or a 503 `not_ready` body naming what is not.

use std::{collections::BTreeMap, time::Duration};

use axum::{
    Extension,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use sqlx::PgPool;

use crate::{
    ErrorBody,
    background::{Background, TaskState},
    redis_pool::RedisPool,
};

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
    /// Each registered background task (all running, or the probe fails).
    pub tasks: BTreeMap<String, TaskState>,
}

/// The handler: route it with `routes!(web_kit::readiness::ready)` on a router whose
/// state gives a `PgPool` and a [`RedisPool`] through `FromRef`; with an
/// `axum::Extension(Background)` layer, the background tasks registered there count too.
///
/// 200 `{"status": "ready", "database": "ok", "redis": "ok", "tasks": {...}}`, or 503 with
/// `{"error": {"code": "not_ready", "message": "unreachable: database, redis; paused: relay
/// (redis unavailable)"}}` listing only what failed (each dependency failure is logged with its
/// cause). Liveness (`/health`) asks nothing of them.
#[utoipa::path(
    get,
    path = "/ready",
    tag = crate::openapi::OPERATIONS_TAG,
    operation_id = "ready",
    summary = "PostgreSQL and Redis answer, background tasks run (readiness)",
    responses(
        (status = 200, description = "Ready to serve.", body = Ready),
        (status = 503, description = "A dependency does not answer or a background task is stopped or paused (`not_ready`, naming it).", body = ErrorBody),
    ),
)]
pub async fn ready(
    State(pool): State<PgPool>,
    State(redis): State<RedisPool>,
    background: Option<Extension<Background>>,
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
            .query_async::<String>(&mut connection)
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
    let tasks = background.map(|Extension(background)| background.snapshot());
    verdict(&down, tasks.unwrap_or_default())
}

fn verdict(down: &[&str], tasks: BTreeMap<String, TaskState>) -> Response {
    let mut problems = Vec::new();
    if !down.is_empty() {
        problems.push(format!("unreachable: {}", down.join(", ")));
    }
    for wanted in ["stopped", "paused"] {
        let named: Vec<String> = tasks
            .iter()
            .filter(|(_, state)| state.name() == wanted)
            .map(|(name, state)| match state {
                TaskState::Paused { reason } | TaskState::Stopped { reason } => {
                    format!("{name} ({reason})")
                }
                TaskState::Running => name.clone(),
            })
            .collect();
        if !named.is_empty() {
            problems.push(format!("{wanted}: {}", named.join(", ")));
        }
    }
    if problems.is_empty() {
        axum::Json(Ready {
            status: "ready",
            database: "ok",
            redis: "ok",
            tasks,
        })
        .into_response()
    } else {
        ErrorBody::new("not_ready", problems.join("; "))
            .into_response_with(StatusCode::SERVICE_UNAVAILABLE)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    async fn call(redis_url: &str) -> (StatusCode, Value) {
        call_with(redis_url, None).await
    }

    async fn call_with(redis_url: &str, background: Option<Background>) -> (StatusCode, Value) {
        call_on(
            crate::redis_pool::create(redis_url, &[], None).unwrap(),
            background,
        )
        .await
    }

    async fn call_on(redis: RedisPool, background: Option<Background>) -> (StatusCode, Value) {
        let pool = PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
            .await
            .unwrap();
        let response = ready(State(pool), State(redis), background.map(Extension)).await;
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

    #[tokio::test]
    async fn ready_lists_the_running_background_tasks() {
        let background = Background::new();
        let _consumer = background.register("consumer inventory_stream/orders-service");

        let (status, body) = call_with("redis://127.0.0.1:6379", Some(background)).await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["tasks"]["consumer inventory_stream/orders-service"]["state"],
            "running"
        );
    }

    #[tokio::test]
    async fn ready_is_a_503_naming_a_paused_and_a_stopped_task_with_their_reasons() {
        let background = Background::new();
        let consumer = background.register("consumer inventory_stream/orders-service");
        let relay = background.register("outbox relay");
        let _sweeper = background.register("sweeper");
        consumer.paused("redis unavailable");
        drop(relay);

        let (status, body) = call_with("redis://127.0.0.1:6379", Some(background)).await;

        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["code"], "not_ready");
        assert_eq!(
            body["error"]["message"],
            "stopped: outbox relay (exited); paused: consumer inventory_stream/orders-service (redis unavailable)"
        );
    }

    #[tokio::test]
    async fn ready_recovers_when_a_paused_task_runs_again() {
        let background = Background::new();
        let consumer = background.register("consumer");
        consumer.paused("redis unavailable");
        consumer.running();

        let (status, _) = call_with("redis://127.0.0.1:6379", Some(background)).await;

        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn an_unreachable_dependency_and_a_stopped_task_are_both_named() {
        let background = Background::new();
        background.register("relay").stopped("shutdown");

        let (status, body) = call_with("redis://127.0.0.1:1", Some(background)).await;

        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body["error"]["message"],
            "unreachable: redis; stopped: relay (shutdown)"
        );
    }

    #[tokio::test]
    async fn ready_is_ok_on_a_cluster_and_a_503_naming_redis_when_no_cluster_node_answers() {
        let cluster = crate::testing::RedisCluster::start().await;
        let on_cluster = crate::redis_pool::create("", &cluster.urls(), None).unwrap();
        let (status, body) = call_on(on_cluster, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["redis"], "ok");

        let nowhere = crate::redis_pool::create("", &["redis://127.0.0.1:1".to_owned()], None);
        let (status, body) = call_on(nowhere.unwrap(), None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["message"], "unreachable: redis");
    }
}
