//! Bad input against every route of orders-service that reads one (the order and payment bodies,
//! path ids, query strings, the Idempotency-Key, a dead letter's id): malformed JSON, wrong types,
//! missing and unknown fields, oversized bodies, negative, fractional and huge quantities, control
//! characters, ids that are not ids. Always a 4xx with the JSON error body, never a 5xx, and
//! nothing written (no order, no outbox row, no event, no state change).

use reqwest::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, TestUser, spawn_app};

/// Asserts a 4xx with the JSON error body, its status and code; returns the body.
async fn assert_refused(response: Response, what: &str, status: u16, code: &str) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{what}: {got}, not a JSON body: {text:?}"));
    assert!(got.is_client_error(), "{what}: {got} {body}");
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
    assert_eq!(got.as_u16(), status, "{what}: {body}");
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    body
}

/// Nothing was written: no order, outbox row, idempotency key or event.
async fn assert_nothing_written(app: &TestApp) {
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM idempotency_keys").await, 0);
    assert!(app.published().await.is_empty());
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    user: &TestUser,
    content_type: &str,
    body: Vec<u8>,
) -> Response {
    app.client
        .post(app.url(path))
        .bearer_auth(&user.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_order_bodies_are_a_4xx_with_the_json_body_and_place_nothing() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Snare drum", "70.00").await;
    let buyer = app.user();
    let line = |quantity: Value| json!({"items": [{"product_id": product, "quantity": quantity}]});
    let json = "application/json";
    let fifty_one: Vec<Value> = (0..51)
        .map(|_| json!({"product_id": Uuid::now_v7(), "quantity": 1}))
        .collect();
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        ("truncated JSON", json, b"{\"items\": [".to_vec(), 400, "malformed_json"),
        ("an empty body", json, Vec::new(), 400, "malformed_json"),
        ("invalid UTF-8", json, b"{\"items\": \"\xff\"}".to_vec(), 400, "malformed_json"),
        ("a huge number", json, line(json!(1)).to_string().replace(":1}", ":1e400}").into_bytes(), 400, "malformed_json"),
        ("an array", json, b"[]".to_vec(), 422, "invalid_body"),
        ("items missing", json, b"{}".to_vec(), 422, "invalid_body"),
        ("items as an object", json, json!({"items": {"product_id": product}}).to_string().into_bytes(), 422, "invalid_body"),
        ("an unknown field (user_id)", json, json!({"items": [], "user_id": Uuid::now_v7()}).to_string().into_bytes(), 422, "invalid_body"),
        ("an unknown line field (unit_price)", json, json!({"items": [{"product_id": product, "quantity": 1, "unit_price": "0.01"}]}).to_string().into_bytes(), 422, "invalid_body"),
        ("a product id that is not a UUID", json, json!({"items": [{"product_id": "1 OR 1=1", "quantity": 1}]}).to_string().into_bytes(), 422, "invalid_body"),
        ("a product id with a NUL", json, json!({"items": [{"product_id": "\u{0}", "quantity": 1}]}).to_string().into_bytes(), 422, "invalid_body"),
        ("quantity as a string", json, line(json!("two")).to_string().into_bytes(), 422, "invalid_body"),
        ("quantity as null", json, line(Value::Null).to_string().into_bytes(), 422, "invalid_body"),
        ("a fractional quantity", json, line(json!(1.5)).to_string().into_bytes(), 422, "invalid_body"),
        ("a quantity as a float", json, line(json!(1e20)).to_string().into_bytes(), 422, "invalid_body"),
        ("a quantity past i64", json, line(json!(1)).to_string().replace(":1}", ":9223372036854775808}").into_bytes(), 422, "invalid_body"),
        ("a quantity of i64::MAX", json, line(json!(i64::MAX)).to_string().into_bytes(), 422, "validation_failed"),
        ("a quantity past i32", json, line(json!(i64::from(i32::MAX) + 1)).to_string().into_bytes(), 422, "validation_failed"),
        ("a negative quantity", json, line(json!(-1)).to_string().into_bytes(), 422, "validation_failed"),
        ("i64::MIN", json, line(json!(i64::MIN)).to_string().into_bytes(), 422, "validation_failed"),
        ("a zero quantity", json, line(json!(0)).to_string().into_bytes(), 422, "validation_failed"),
        ("no lines", json, b"{\"items\": []}".to_vec(), 422, "validation_failed"),
        ("51 lines", json, json!({"items": fifty_one}).to_string().into_bytes(), 422, "validation_failed"),
        ("a product twice", json, json!({"items": [{"product_id": product, "quantity": 1}, {"product_id": product, "quantity": 2}]}).to_string().into_bytes(), 422, "validation_failed"),
        ("a product not for sale", json, json!({"items": [{"product_id": Uuid::now_v7(), "quantity": 1}]}).to_string().into_bytes(), 422, "product_unavailable"),
        ("text/plain", "text/plain", line(json!(1)).to_string().into_bytes(), 415, "unsupported_media_type"),
        ("a body past the limit", json, format!("{{\"items\": [], \"pad\": \"{}\"}}", "x".repeat(70 * 1024)).into_bytes(), 413, "payload_too_large"),
    ];

    for (what, content_type, body, status, code) in cases {
        let response = post_raw(&app, "/api/orders", &buyer, content_type, body).await;
        assert_refused(response, what, status, code).await;
    }

    assert_nothing_written(&app).await;
}

#[tokio::test]
async fn a_malformed_idempotency_key_is_a_422_and_places_nothing() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Snare drum", "70.00").await;
    let buyer = app.user();
    let body = json!({"items": [{"product_id": product, "quantity": 1}]});
    let long = "k".repeat(201);
    let keys: [&[u8]; 3] = [b"", long.as_bytes(), b"key-\xff\xfe"];

    for key in keys {
        let what = format!("Idempotency-Key {:?}", String::from_utf8_lossy(key));
        let response = app
            .client
            .post(app.url("/api/orders"))
            .bearer_auth(&buyer.token)
            .header(
                "idempotency-key",
                reqwest::header::HeaderValue::from_bytes(key).unwrap(),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_refused(response, &what, 422, "invalid_idempotency_key").await;
    }

    assert_nothing_written(&app).await;
}

#[tokio::test]
async fn path_ids_that_are_not_uuids_are_a_400_on_every_order_route() {
    let app = spawn_app().await;
    let buyer = app.user();
    let long = "9".repeat(2000);
    let ids = [
        "not-a-uuid",
        "1",
        "%00",
        "%1B%5B31m",
        "1%20OR%201%3D1",
        "..%2F..%2Fetc%2Fpasswd",
        "00000000-0000-0000-0000-00000000000g",
        &long,
    ];

    for id in ids {
        for (method, path) in [
            ("GET", format!("/api/orders/{id}")),
            ("GET", format!("/api/orders/{id}/events")),
            ("POST", format!("/api/orders/{id}/cancel")),
            ("POST", format!("/api/orders/{id}/pay")),
        ] {
            let request = match method {
                "GET" => app.client.get(app.url(&path)),
                _ => app.client.post(app.url(&path)).json(
                    &json!({"card_number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"}),
                ),
            };
            let response = request.bearer_auth(&buyer.token).send().await.unwrap();
            assert_refused(response, &format!("{method} {path}"), 400, "invalid_path").await;
        }
    }
    let unknown = app
        .get(&format!("/api/orders/{}", Uuid::now_v7()), Some(&buyer))
        .await;
    assert_refused(unknown, "an unknown order", 404, "order_not_found").await;
}

#[tokio::test]
async fn bad_query_strings_are_a_400_naming_the_query() {
    let app = spawn_app().await;
    let buyer = app.user();
    let admin = app.admin();
    let cases = [
        ("/api/orders?page=-1", &buyer),
        ("/api/orders?page=abc", &buyer),
        ("/api/orders?page=99999999999", &buyer),
        ("/api/orders?per_page=1e3", &buyer),
        ("/api/orders?status=BOGUS", &buyer),
        ("/api/orders?status=%00", &buyer),
        ("/api/orders?all=maybe", &buyer),
        ("/api/orders?user_id=someone", &buyer),
        ("/api/admin/dead-letters?count=-1", &admin),
        ("/api/admin/dead-letters?count=abc", &admin),
        ("/api/admin/dead-letters?count=1e99", &admin),
        (
            "/api/admin/dead-letters?count=99999999999999999999999",
            &admin,
        ),
    ];

    for (path, user) in cases {
        let response = app.get(path, Some(user)).await;
        assert_refused(response, path, 400, "invalid_query").await;
    }
    // The largest page is an empty page, not an overflow.
    let last = app.get("/api/orders?page=4294967295", Some(&buyer)).await;
    assert_eq!(last.status(), 200);
}

#[tokio::test]
async fn a_dead_letter_id_that_is_not_a_stream_id_is_a_404() {
    let app = spawn_app().await;
    let admin = app.admin();
    let ids = [
        "not-an-id",
        "1",
        "-",
        "1-",
        "-1",
        "1-2-3",
        "%2B",
        "%00-0",
        "99999999999999999999-0",
        "18446744073709551616-0",
        "0-99999999999999999999",
    ];

    for id in ids {
        let response = app
            .post(
                &format!("/api/admin/dead-letters/{id}/replay"),
                Some(&admin),
                &json!({}),
            )
            .await;
        assert_refused(response, &format!("replay {id}"), 404, "not_found").await;
    }

    assert_nothing_written(&app).await;
}

#[tokio::test]
async fn bad_card_details_are_a_422_and_the_order_stays_confirmed() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Snare drum", "70.00").await;
    let buyer = app.user();
    let order = app.confirmed_order(&buyer, product).await;
    let outbox = app.count("SELECT count(*) FROM outbox").await;
    let path = format!("/api/orders/{order}/pay");
    let card = json!({"card_number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"});
    let with = |field: &str, value: Value| {
        let mut body = card.clone();
        body[field] = value;
        body.to_string().into_bytes()
    };
    let mut missing = card.clone();
    missing.as_object_mut().unwrap().remove("cvc");
    let mut extra = card.clone();
    extra["amount"] = json!("0.01");
    let json = "application/json";
    let cases: Vec<(String, Vec<u8>, u16, &str)> = vec![
        (
            "truncated JSON".into(),
            b"{\"card_number\": ".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "cvc missing".into(),
            missing.to_string().into_bytes(),
            422,
            "invalid_body",
        ),
        (
            "an unknown field (amount)".into(),
            extra.to_string().into_bytes(),
            422,
            "invalid_body",
        ),
        (
            "a card number as a number".into(),
            with("card_number", json!(4_242_424_242_424_242_u64)),
            422,
            "invalid_body",
        ),
        (
            "a card number with a letter".into(),
            with("card_number", json!("4242 4242 4242 424X")),
            422,
            "validation_failed",
        ),
        (
            "a card number with a NUL".into(),
            with("card_number", json!("4242\u{0}4242 4242 4242")),
            422,
            "validation_failed",
        ),
        (
            "a card number with escapes".into(),
            with("card_number", json!("\u{1b}[31m4242 4242 4242 4242")),
            422,
            "validation_failed",
        ),
        (
            "a card number of 10 KB".into(),
            with("card_number", json!("4".repeat(10_000))),
            422,
            "validation_failed",
        ),
        (
            "a card number of full-width digits".into(),
            with("card_number", json!("４２４２４２４２４２４２４２４２")),
            422,
            "validation_failed",
        ),
        (
            "month 13".into(),
            with("expiry", json!("13/39")),
            422,
            "validation_failed",
        ),
        (
            "month 00".into(),
            with("expiry", json!("00/39")),
            422,
            "validation_failed",
        ),
        (
            "an expiry with a NUL".into(),
            with("expiry", json!("12/3\u{0}")),
            422,
            "validation_failed",
        ),
        (
            "a letter in the cvc".into(),
            with("cvc", json!("12a")),
            422,
            "validation_failed",
        ),
        (
            "a five-digit cvc".into(),
            with("cvc", json!("12345")),
            422,
            "validation_failed",
        ),
        (
            "a negative cvc".into(),
            with("cvc", json!("-12")),
            422,
            "validation_failed",
        ),
    ];

    for (what, body, status, code) in cases {
        let response = post_raw(&app, &path, &buyer, json, body).await;
        let body = assert_refused(response, &what, status, code).await;
        let text = body.to_string();
        assert!(
            !text.contains("4242"),
            "{what}: the card number is echoed: {text}"
        );
    }

    assert_eq!(app.status(order).await, "CONFIRMED");
    assert!(app.published_for(order, "order.paid").await.is_empty());
    assert_eq!(app.count("SELECT count(*) FROM outbox").await, outbox);
}
