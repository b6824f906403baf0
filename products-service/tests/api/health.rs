//! Liveness, readiness and the JSON bodies of unknown routes.

use crate::helpers::{json_of, spawn_app};

#[tokio::test]
async fn health_and_ready_answer_when_postgres_and_redis_are_up() {
    let app = spawn_app().await;

    let (status, body) = json_of(app.get("/health").await).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = json_of(app.get("/ready").await).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));

    app.stop().await;
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;

    let (status, body) = json_of(app.get("/api/nothing-here").await).await;

    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    app.stop().await;
}
