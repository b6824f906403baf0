use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn placing_an_order_prices_it_from_the_catalog_copy_and_publishes_order_placed() {
    let app = spawn_app().await;
    let seller = app.user();
    let buyer = app.user();
    let record = app.product(seller.id, "Blue Train LP", "24.99").await;
    let book = app.product(seller.id, "Dune", "9.50").await;

    let response = app
        .place_order(
            &buyer,
            &json!({"items": [
                {"product_id": record, "quantity": 2},
                {"product_id": book, "quantity": 1}
            ]}),
        )
        .await;

    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["user_id"], json!(buyer.id));
    assert_eq!(order["total"], "59.48");
    assert_eq!(order["items"][0]["name"], "Blue Train LP");
    assert_eq!(order["items"][0]["unit_price"], "24.99");
    assert_eq!(order["items"][0]["line_total"], "49.98");
    assert_eq!(order["items"][1]["quantity"], 1);
    assert!(order["expires_at"].is_null());
    let order_id: uuid::Uuid = order["id"].as_str().unwrap().parse().unwrap();
    let placed = app.wait_for_published(order_id, "order.placed", 1).await;
    assert_eq!(placed[0]["user_id"], json!(buyer.id));
    assert_eq!(
        placed[0]["lines"],
        json!([
            {"product_id": record, "quantity": 2, "unit_price": "24.99"},
            {"product_id": book, "quantity": 1, "unit_price": "9.50"}
        ])
    );
    let history: i64 = app
        .count("SELECT count(*) FROM order_status_history WHERE to_status = 'PENDING'")
        .await;
    assert_eq!(history, 1);
}

#[tokio::test]
async fn a_client_price_is_refused_rather_than_trusted() {
    let app = spawn_app().await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Mug", "5.00").await;
    let response = app
        .place_order(
            &buyer,
            &json!({"items": [{"product_id": product, "quantity": 1, "unit_price": "0.01"}]}),
        )
        .await;
    assert_error(response, 422, "invalid_body").await;
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 0);
}

#[tokio::test]
async fn an_unknown_or_deleted_product_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let buyer = app.user();
    let kept = app.product(app.user().id, "Lamp", "30.00").await;
    let gone = app.product(app.user().id, "Chair", "80.00").await;
    app.inventory_event("product.deleted", json!({"product_id": gone, "version": 2}))
        .await;
    app.wait_until_quiet().await;

    for missing in [gone, uuid::Uuid::now_v7()] {
        let response = app
            .place_order(
                &buyer,
                &json!({"items": [
                    {"product_id": kept, "quantity": 1},
                    {"product_id": missing, "quantity": 1}
                ]}),
            )
            .await;
        let body = assert_error(response, 422, "product_unavailable").await;
        assert!(body["error"]["fields"]["items[1].product_id"].is_array());
    }
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn malformed_lines_are_refused_with_a_message_per_field() {
    let app = spawn_app().await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Pen", "1.00").await;

    let empty = app.place_order(&buyer, &json!({"items": []})).await;
    let body = assert_error(empty, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["items"].is_array());

    let many: Vec<Value> = (0..51)
        .map(|_| json!({"product_id": uuid::Uuid::now_v7(), "quantity": 1}))
        .collect();
    let too_many = app.place_order(&buyer, &json!({ "items": many })).await;
    assert_error(too_many, 422, "validation_failed").await;

    let bad = app
        .place_order(
            &buyer,
            &json!({"items": [
                {"product_id": product, "quantity": 0},
                {"product_id": product, "quantity": 1001}
            ]}),
        )
        .await;
    let body = assert_error(bad, 422, "validation_failed").await;
    let fields = &body["error"]["fields"];
    assert!(fields["items[0].quantity"].is_array());
    assert!(fields["items[1].quantity"].is_array());
    assert!(fields["items[1].product_id"].is_array(), "{body}");

    let fractional = app
        .place_order(
            &buyer,
            &json!({"items": [{"product_id": product, "quantity": 1.5}]}),
        )
        .await;
    assert_error(fractional, 422, "invalid_body").await;

    let not_json = app
        .client
        .post(app.url("/api/orders"))
        .bearer_auth(&buyer.token)
        .header("content-type", "application/json")
        .body("{\"items\": [")
        .send()
        .await
        .unwrap();
    assert_error(not_json, 400, "malformed_json").await;
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 0);
}

#[tokio::test]
async fn buying_your_own_listing_is_refused() {
    let app = spawn_app().await;
    let seller = app.user();
    let product = app.product(seller.id, "My own book", "12.00").await;
    let response = app
        .place_order(
            &seller,
            &json!({"items": [{"product_id": product, "quantity": 1}]}),
        )
        .await;
    assert_error(response, 422, "own_product").await;
}

#[tokio::test]
async fn every_order_route_needs_a_valid_token() {
    let app = spawn_app().await;
    let id = uuid::Uuid::now_v7();
    let anonymous = [
        app.get("/api/orders", None).await,
        app.get(&format!("/api/orders/{id}"), None).await,
        app.get(&format!("/api/orders/{id}/events"), None).await,
        app.post("/api/orders", None, &json!({"items": []})).await,
        app.post(&format!("/api/orders/{id}/cancel"), None, &json!({}))
            .await,
        app.post(&format!("/api/orders/{id}/pay"), None, &json!({}))
            .await,
    ];
    for response in anonymous {
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["code"].is_string());
    }
    let forged = app
        .client
        .get(app.url("/api/orders"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

#[tokio::test]
async fn the_same_idempotency_key_and_body_return_the_original_order_without_a_second_one() {
    let app = spawn_app().await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Tent", "199.00").await;
    let body = json!({"items": [{"product_id": product, "quantity": 1}]});

    let first = app.place_order_with_key(&buyer, "checkout-1", &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app.place_order_with_key(&buyer, "checkout-1", &body).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();

    assert_eq!(first, again);
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE event_type = 'order.placed'")
            .await,
        1
    );
}

#[tokio::test]
async fn concurrent_requests_with_one_idempotency_key_create_one_order() {
    let app = spawn_app().await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Tent", "199.00").await;
    let body = json!({"items": [{"product_id": product, "quantity": 1}]});

    let responses = futures::future::join_all(
        (0..5).map(|_| app.place_order_with_key(&buyer, "double-click", &body)),
    )
    .await;
    let mut ids = std::collections::HashSet::new();
    for response in responses {
        assert_eq!(response.status(), 201);
        let order: Value = response.json().await.unwrap();
        ids.insert(order["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
}

#[tokio::test]
async fn the_same_idempotency_key_with_another_body_is_refused() {
    let app = spawn_app().await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Tent", "199.00").await;
    let first = app
        .place_order_with_key(
            &buyer,
            "k",
            &json!({"items": [{"product_id": product, "quantity": 1}]}),
        )
        .await;
    assert_eq!(first.status(), 201);
    let other = app
        .place_order_with_key(
            &buyer,
            "k",
            &json!({"items": [{"product_id": product, "quantity": 2}]}),
        )
        .await;
    assert_error(other, 422, "idempotency_key_reused").await;
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
}

#[tokio::test]
async fn idempotency_keys_are_scoped_per_user() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Tent", "199.00").await;
    let body = json!({"items": [{"product_id": product, "quantity": 1}]});
    let alice = app.user();
    let bob = app.user();
    let a: Value = app
        .place_order_with_key(&alice, "same", &body)
        .await
        .json()
        .await
        .unwrap();
    let b = app.place_order_with_key(&bob, "same", &body).await;
    assert_eq!(b.status(), 201);
    let b: Value = b.json().await.unwrap();
    assert_ne!(a["id"], b["id"]);
    assert_eq!(b["user_id"], json!(bob.id));
}

#[tokio::test]
async fn listing_shows_the_callers_orders_newest_first_with_filters_and_pages() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Socks", "3.00").await;
    let buyer = app.user();
    let other = app.user();
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(app.order(&buyer, product, 1).await);
    }
    app.order(&other, product, 1).await;
    let cancelled = mine[0];
    assert_eq!(app.cancel(&buyer, cancelled).await.status(), 200);

    let page: Value = app
        .get("/api/orders?per_page=2", Some(&buyer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 3);
    assert_eq!(page["per_page"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["id"], json!(mine[2]));
    assert_eq!(page["items"][1]["id"], json!(mine[1]));
    assert_eq!(page["items"][0]["items"][0]["name"], "Socks");
    let second: Value = app
        .get("/api/orders?per_page=2&page=2", Some(&buyer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0]["id"], json!(mine[0]));

    let filtered: Value = app
        .get("/api/orders?status=CANCELLED", Some(&buyer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["total"], 1);
    assert_eq!(filtered["items"][0]["id"], json!(cancelled));

    assert_error(
        app.get("/api/orders?status=SHIPPED", Some(&buyer)).await,
        400,
        "invalid_query",
    )
    .await;
    assert_error(
        app.get("/api/orders?all=true", Some(&buyer)).await,
        403,
        "forbidden",
    )
    .await;
    let everyone: Value = app
        .get("/api/orders?all=true", Some(&app.admin()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(everyone["total"], 4);
}

#[tokio::test]
async fn an_order_is_shown_with_its_history_to_its_buyer_and_admins_only() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Socks", "3.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 4).await;
    let path = format!("/api/orders/{order_id}");

    let mine: Value = app.get(&path, Some(&buyer)).await.json().await.unwrap();
    assert_eq!(mine["total"], "12.00");
    assert_eq!(mine["history"][0]["status"], "PENDING");
    assert!(mine["history"][0]["from"].is_null());
    assert_eq!(app.get(&path, Some(&app.admin())).await.status(), 200);
    assert_error(
        app.get(&path, Some(&app.user())).await,
        404,
        "order_not_found",
    )
    .await;
    assert_error(
        app.get(
            &format!("/api/orders/{}", uuid::Uuid::now_v7()),
            Some(&buyer),
        )
        .await,
        404,
        "order_not_found",
    )
    .await;
    assert_error(
        app.get("/api/orders/not-a-uuid", Some(&buyer)).await,
        400,
        "invalid_path",
    )
    .await;
}
