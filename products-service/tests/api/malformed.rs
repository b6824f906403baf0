//! Malformed listings and ids against products-service's write routes: malformed JSON, wrong
//! types, unknown fields, negative, fractional and huge stock and prices, oversized bodies, path
//! ids that are not UUIDs. Always a 4xx with the JSON error body, never a 5xx, nothing written.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, json_of, spawn_app};

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    user: &TestUser,
    body: Vec<u8>,
) -> (u16, Value) {
    let response = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&user.token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    json_of(response).await
}

fn assert_refused(what: &str, status: u16, body: &Value) {
    assert!((400..500).contains(&status), "{what}: {status} {body}");
    assert!(body["error"]["code"].is_string(), "{what}: {body}");
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
}

#[tokio::test]
async fn malformed_listings_are_a_4xx_with_the_json_body_and_write_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let listing = app.listing(&alice, json!({})).await;
    let id = listing["id"].as_str().unwrap().to_owned();
    let valid = json!({"name": "A", "category": "Records", "price": "1.00", "stock": 1});
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body.to_string().into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated JSON", b"{\"name\": ".to_vec()),
        ("an empty body", Vec::new()),
        ("invalid UTF-8", b"{\"name\": \"\xff\"}".to_vec()),
        ("an array", b"[]".to_vec()),
        ("null", b"null".to_vec()),
        (
            "an unknown field (seller_id)",
            with("seller_id", json!(alice.id)),
        ),
        ("an unknown field (version)", with("version", json!(99))),
        ("a name as a number", with("name", json!(5))),
        ("a negative stock", with("stock", json!(-1))),
        ("a fractional stock", with("stock", json!(1.5))),
        ("a stock past i64", with("stock", json!(u64::MAX))),
        ("a huge stock", with("stock", json!(i64::MAX))),
        ("a stock as a string", with("stock", json!("many"))),
        ("a negative price", with("price", json!("-1.00"))),
        ("a zero price", with("price", json!("0"))),
        ("a huge price", with("price", json!("1e30"))),
        (
            "a price of many digits",
            with("price", json!("9".repeat(60))),
        ),
        (
            "a price that is not a number",
            with("price", json!("1; DROP TABLE products")),
        ),
        ("a price with a NUL", with("price", json!("1\u{0}0"))),
        ("a name of 10 KB", with("name", json!("n".repeat(10_000)))),
        (
            "a body past the limit",
            with("description", json!("d".repeat(70 * 1024))),
        ),
    ];

    for (what, body) in &cases {
        let (status, created) = send(
            &app,
            reqwest::Method::POST,
            "/api/products",
            &alice,
            body.clone(),
        )
        .await;
        assert_refused(&format!("create with {what}"), status, &created);
        let path = format!("/api/products/{id}");
        let (status, updated) =
            send(&app, reqwest::Method::PATCH, &path, &alice, body.clone()).await;
        assert_refused(&format!("update with {what}"), status, &updated);
    }

    app.assert_only_listing_unchanged(&id).await;
}

#[tokio::test]
async fn path_ids_that_are_not_uuids_are_a_4xx_on_every_listing_route() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let long = "9".repeat(2000);
    let body = json!({"name": "B"}).to_string().into_bytes();

    for id in [
        "not-a-uuid",
        "1",
        "%00",
        "1%20OR%201%3D1",
        "..%2F..%2Fetc",
        &long,
    ] {
        let path = format!("/api/products/{id}");
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PATCH,
            reqwest::Method::DELETE,
        ] {
            let (status, answer) = send(&app, method.clone(), &path, &alice, body.clone()).await;
            assert_refused(&format!("{method} {path}"), status, &answer);
        }
    }
}
