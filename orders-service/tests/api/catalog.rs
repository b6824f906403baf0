use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn product_events_arriving_out_of_order_keep_the_newest_version() {
    let app = spawn_app().await;
    let seller = app.user().id;
    let buyer = app.user();
    let product = Uuid::now_v7();
    let changed = |name: &str, price: &str, version: i64| {
        json!({"product_id": product, "seller_id": seller, "name": name, "price": price,
               "stock": 5, "version": version})
    };
    app.inventory_event("product.updated", changed("Renamed", "12.00", 3))
        .await;
    app.inventory_event("product.created", changed("Original", "10.00", 1))
        .await;
    app.inventory_event("product.updated", changed("Middle", "11.00", 2))
        .await;
    app.wait_until_quiet().await;

    let order: Value = app
        .place_order(
            &buyer,
            &json!({"items": [{"product_id": product, "quantity": 1}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["items"][0]["name"], "Renamed");
    assert_eq!(order["items"][0]["unit_price"], "12.00");

    app.inventory_event(
        "product.deleted",
        json!({"product_id": product, "version": 4}),
    )
    .await;
    app.inventory_event("product.updated", changed("Zombie", "1.00", 3))
        .await;
    app.wait_until_quiet().await;
    let refused = app
        .place_order(
            &buyer,
            &json!({"items": [{"product_id": product, "quantity": 1}]}),
        )
        .await;
    assert_error(refused, 422, "product_unavailable").await;
}

#[tokio::test]
async fn a_deletion_that_arrives_before_the_creation_wins() {
    let app = spawn_app().await;
    let product = Uuid::now_v7();
    app.inventory_event(
        "product.deleted",
        json!({"product_id": product, "version": 2}),
    )
    .await;
    app.inventory_event(
        "product.created",
        json!({"product_id": product, "seller_id": app.user().id, "name": "Late", "price": "1.00",
               "stock": 1, "version": 1}),
    )
    .await;
    app.wait_until_quiet().await;
    let refused = app
        .place_order(
            &app.user(),
            &json!({"items": [{"product_id": product, "quantity": 1}]}),
        )
        .await;
    assert_error(refused, 422, "product_unavailable").await;
}
