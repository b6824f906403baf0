//! Forged, stale, foreign, revoked and malformed credentials against products-service's write
//! route (creating a listing) and its admin power (deleting another seller's listing): each a
//! 401 with the JSON error body, from the Bearer header or the cookie, and nothing written.

use auth_kit::testing::{
    assert_refused_everywhere, assert_unauthorized, malformed_credentials, revoke,
};
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::json;

use crate::helpers::{TestApp, json_of, spawn_app};

/// The two routes under attack: a listing to create, and someone else's listing to delete (only
/// an admin may).
fn attempts(app: &TestApp, victim: &str) -> [(&'static str, reqwest::RequestBuilder); 2] {
    let listing = json!({"name": "Forged", "category": "Records", "price": "1.00", "stock": 1});
    [
        (
            "POST /api/products",
            app.client.post(app.url("/api/products")).json(&listing),
        ),
        (
            "DELETE another seller's listing",
            app.client
                .delete(app.url(&format!("/api/products/{victim}"))),
        ),
    ]
}

/// Another seller's listing, the one attackers try to delete; returns its id.
async fn victim_listing(app: &TestApp) -> String {
    let seller = app.user("seller");
    let listing = app.listing(&seller, json!({})).await;
    listing["id"].as_str().unwrap().to_owned()
}

/// Nothing was written: the victim's listing is the only one, and untouched.
async fn assert_nothing_written(app: &TestApp, victim: &str) {
    let listings: i64 = sqlx::query_scalar("SELECT count(*) FROM products")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(listings, 1, "a forged request wrote a listing");
    let (status, listing) = json_of(app.get(&format!("/api/products/{victim}")).await).await;
    assert_eq!(status, 200, "the victim's listing is gone: {listing}");
    assert_eq!(listing["version"], 1);
}

#[tokio::test]
async fn forged_stale_and_foreign_tokens_are_a_401_from_header_or_cookie_and_write_nothing() {
    let app = spawn_app().await;
    let victim = victim_listing(&app).await;
    let mallory = app.user("mallory");

    for forgery in app.keys.forgeries(mallory.id, &mallory.username) {
        assert_refused_everywhere(
            || attempts(&app, &victim),
            &forgery.token,
            forgery.code,
            forgery.attack,
        )
        .await;
    }

    assert_nothing_written(&app, &victim).await;
    // The routes do work for a real admin's token.
    let admin = app.admin();
    let deleted = app.delete_product(Some(&admin), &victim).await;
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn a_token_revoked_by_logout_is_a_401_and_writes_nothing() {
    let app = spawn_app().await;
    let victim = victim_listing(&app).await;
    let admin = app.admin();
    revoke(&auth_kit::testing::redis_pool(), &app.prefix, &admin.token).await;

    assert_refused_everywhere(
        || attempts(&app, &victim),
        &admin.token,
        "token_revoked",
        "revoked",
    )
    .await;

    assert_nothing_written(&app, &victim).await;
}

#[tokio::test]
async fn a_malformed_authorization_header_or_cookie_is_a_401_and_writes_nothing() {
    let app = spawn_app().await;
    let victim = victim_listing(&app).await;
    let admin = app.admin();

    for (name, value) in malformed_credentials(&admin.token) {
        let header = HeaderValue::from_bytes(&value).unwrap();
        for (route, request) in attempts(&app, &victim) {
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

    assert_nothing_written(&app, &victim).await;
}
