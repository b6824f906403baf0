//! Forged, stale and foreign tokens are refused by auth-service's own `/me`.

use auth_kit::{
    Role,
    testing::{TestKeys, hs256_token, unsigned_token},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{TestApp, error_code, plain_client, spawn_app};

async fn alice(app: &TestApp) -> (Uuid, String) {
    let login = app.registered_user("alice").await;
    let id = Uuid::parse_str(login["user"]["id"].as_str().unwrap()).unwrap();
    (id, login["access_token"].as_str().unwrap().to_owned())
}

async fn assert_refused(app: &TestApp, token: &str, code: &str) {
    let bearer = app.me_with_bearer(token).await;
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(bearer).await, code);
    let cookie = plain_client()
        .get(app.url("/api/auth/me"))
        .header("cookie", format!("access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(cookie.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(cookie).await, code);
}

#[tokio::test]
async fn a_token_minted_with_the_service_key_is_accepted_from_header_or_cookie() {
    let app = spawn_app().await;
    let (id, _) = alice(&app).await;
    let token = app.keys.token(id, "alice", Role::User);

    let bearer = app.me_with_bearer(&token).await;
    let cookie = plain_client()
        .get(app.url("/api/auth/me"))
        .header("cookie", format!("access_token={token}"))
        .send()
        .await
        .unwrap();

    assert_eq!(bearer.status(), StatusCode::OK);
    assert_eq!(cookie.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = spawn_app().await;
    let (_, token) = alice(&app).await;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["role"] = "admin".into();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());

    assert_refused(&app, &parts.join("."), "invalid_token").await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let (id, _) = alice(&app).await;

    assert_refused(
        &app,
        &app.keys.expired_token(id, "alice", Role::User),
        "token_expired",
    )
    .await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_refused() {
    let app = spawn_app().await;
    let (id, _) = alice(&app).await;

    assert_refused(
        &app,
        &TestKeys::generate().token(id, "alice", Role::Admin),
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn an_alg_none_token_is_refused() {
    let app = spawn_app().await;
    let (id, _) = alice(&app).await;

    assert_refused(
        &app,
        &unsigned_token(&app.keys.claims(id, "alice", Role::Admin)),
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_public_key_is_refused() {
    let app = spawn_app().await;
    let (id, _) = alice(&app).await;
    let claims = app.keys.claims(id, "alice", Role::Admin);

    assert_refused(
        &app,
        &hs256_token(&claims, app.keys.public_pem().as_bytes()),
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn a_valid_token_for_a_deleted_account_is_refused() {
    let app = spawn_app().await;
    let (_, token) = alice(&app).await;
    sqlx::query("DELETE FROM users")
        .execute(&app.pool)
        .await
        .unwrap();

    assert_refused(&app, &token, "invalid_token").await;
}
