//! Malformed, unknown-field and oversized bodies get JSON 4xx bodies.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/auth/signup"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "malformed_json");
}

#[tokio::test]
async fn unknown_and_missing_fields_are_a_422() {
    let app = spawn_app().await;

    let unknown = app
        .post_json(
            "/api/auth/signup",
            &json!({"username": "alice", "email": "a@example.com", "password": "x".repeat(10), "role": "admin"}),
        )
        .await;
    let missing = app
        .post_json("/api/auth/login", &json!({"email": "a@example.com"}))
        .await;

    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(unknown).await, "invalid_body");
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(missing).await, "invalid_body");
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let app = spawn_app().await;
    let huge = "x".repeat(64 * 1024);

    let response = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "a@example.com", "password": huge}),
        )
        .await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(response).await, "payload_too_large");
}
