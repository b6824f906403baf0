//! Forged, stale, foreign, revoked and malformed credentials against orders-service's write
//! route (placing an order) and its admin routes (stream health, replaying a dead letter): each a
//! 401 with the JSON error body, from the Bearer header or the cookie, and nothing written.

use auth_kit::testing::{
    assert_refused_everywhere, assert_unauthorized, malformed_credentials, revoke,
};
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

/// The routes under attack.
fn attempts(app: &TestApp, product_id: Uuid) -> [(&'static str, reqwest::RequestBuilder); 3] {
    let order = json!({"items": [{"product_id": product_id, "quantity": 1}]});
    [
        (
            "POST /api/orders",
            app.client.post(app.url("/api/orders")).json(&order),
        ),
        (
            "GET /api/admin/streams",
            app.client.get(app.url("/api/admin/streams")),
        ),
        (
            "POST a dead letter's replay",
            app.client
                .post(app.url("/api/admin/dead-letters/1-0/replay"))
                .json(&json!({})),
        ),
    ]
}

/// Nothing was written: no order, no outbox row, nothing published.
async fn assert_nothing_written(app: &TestApp) {
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox").await, 0);
    assert!(app.published().await.is_empty());
}

#[tokio::test]
async fn forged_stale_and_foreign_tokens_are_a_401_from_header_or_cookie_and_write_nothing() {
    let app = spawn_app().await;
    let product_id = app.product(app.user().id, "Snare drum", "70.00").await;
    let mallory = Uuid::now_v7();

    for forgery in app.test_keys.forgeries(mallory, "mallory") {
        assert_refused_everywhere(
            || attempts(&app, product_id),
            &forgery.token,
            forgery.code,
            forgery.attack,
        )
        .await;
    }

    assert_nothing_written(&app).await;
    // The routes do work for real tokens.
    let [place, streams, replay] = attempts(&app, product_id);
    let admin = app.admin();
    let placed = place.1.bearer_auth(&app.user().token).send().await.unwrap();
    assert_eq!(placed.status(), 201);
    let health = streams.1.bearer_auth(&admin.token).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let missing = replay.1.bearer_auth(&admin.token).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_token_revoked_by_logout_is_a_401_and_writes_nothing() {
    let app = spawn_app().await;
    let product_id = app.product(app.user().id, "Snare drum", "70.00").await;
    let admin = app.admin();
    revoke(&auth_kit::testing::redis_pool(), &app.prefix, &admin.token).await;

    assert_refused_everywhere(
        || attempts(&app, product_id),
        &admin.token,
        "token_revoked",
        "revoked",
    )
    .await;

    assert_nothing_written(&app).await;
}

#[tokio::test]
async fn a_malformed_authorization_header_or_cookie_is_a_401_and_writes_nothing() {
    let app = spawn_app().await;
    let product_id = app.product(app.user().id, "Snare drum", "70.00").await;
    let admin = app.admin();

    for (name, value) in malformed_credentials(&admin.token) {
        let header = HeaderValue::from_bytes(&value).unwrap();
        for (route, request) in attempts(&app, product_id) {
            let what = format!("{name}: {} on {route}", String::from_utf8_lossy(&value));
            let request = request.header(HeaderName::from_static(name), header.clone());
            let body = assert_unauthorized(request, &what).await;
            let code = body["error"]["code"].as_str().unwrap_or_default();
            assert!(
                ["unauthorized", "invalid_token"].contains(&code),
                "{what}: {body}"
            );
        }
    }

    assert_nothing_written(&app).await;
}
