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

#[tokio::test]
async fn ready_is_a_503_naming_redis_when_redis_is_unreachable() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.redis_url = "redis://127.0.0.1:1".to_owned();
    })
    .await;

    let (status, body) = json_of(app.get("/ready").await).await;

    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "not_ready");
    assert!(body["error"]["message"].as_str().unwrap().contains("redis"));
    let (status, _) = json_of(app.get("/health").await).await;
    assert_eq!(status, 200, "the process itself is up");
    app.stop().await;
}
