use auth_service::{
    config::{AppEnv, Settings},
    startup::Application,
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/health")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn ready_answers_ok_when_the_database_and_redis_answer() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/ready")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(body["redis"], "ok");
}

#[tokio::test]
async fn ready_answers_503_json_when_the_database_is_unreachable() {
    let mut app = spawn_app().await;
    drop(app.db.take());

    let response = app.client.get(app.url("/ready")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("database")
    );
}

#[tokio::test]
async fn metrics_are_served() {
    let app = spawn_app().await;
    app.client.get(app.url("/health")).send().await.unwrap();

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/api/auth/nope"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "not_found");
}

#[tokio::test]
async fn production_refuses_to_start_without_a_signing_key() {
    let mut settings = Settings::new("postgres://postgres@127.0.0.1:5432/postgres");
    settings.port = 0;
    settings.app_env = AppEnv::Production;

    let error = Application::build(settings).await.err().unwrap();

    assert!(error.to_string().contains("JWT_PRIVATE_KEY"), "{error:#}");
}

#[tokio::test]
async fn an_unreachable_database_stops_the_start_naming_database_url() {
    let mut settings = Settings::new("postgres://postgres@127.0.0.1:1/nothing");
    settings.port = 0;

    let error = Application::build(settings).await.err().unwrap();

    assert!(error.to_string().contains("DATABASE_URL"), "{error:#}");
}

#[tokio::test]
async fn without_redis_ready_and_login_answer_503_instead_of_skipping_the_limits() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.redis_url = "redis://127.0.0.1:1".into();
    })
    .await;

    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    let login = app.login("alice@example.com", "correct horse").await;

    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("redis"));
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(login).await, "unavailable");
}
