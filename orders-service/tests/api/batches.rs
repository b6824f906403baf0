//! The inventory consumer handles runs of one event type set-based: a run of reservations
//! confirms its orders with one statement, and a run of catalog snapshots is one upsert that
//! keeps each product's highest version.

use serde_json::{Value, json};
use stream_lib::INVENTORY_STREAM;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::{
    helpers::{TestApp, spawn_app},
    round_trips::proxied_app,
};

/// Adds `events` (type, payload) to the prefixed `inventory_stream` in one pipeline, so the
/// consumer finds them together.
async fn add_together(app: &TestApp, events: &[(&str, Value)]) {
    let mut connection = app.redis.get().await.unwrap();
    let occurred_at = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    let mut pipe = redis::pipe();
    for (event_type, payload) in events {
        let event_id = Uuid::now_v7();
        pipe.xadd(
            app.keys.key(INVENTORY_STREAM),
            "*",
            &[
                ("event_id", event_id.to_string()),
                ("type", (*event_type).to_owned()),
                ("source", "products-service".to_owned()),
                ("occurred_at", occurred_at.clone()),
                ("correlation_id", format!("test-{event_id}")),
                ("payload", payload.to_string()),
            ],
        )
        .ignore();
    }
    let () = pipe.query_async(&mut connection).await.unwrap();
}

#[tokio::test]
async fn a_run_of_reservations_confirms_every_order_with_fewer_statements_than_orders() {
    let (app, trips) = proxied_app().await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Tent", "199.00").await;
    let mut orders = Vec::new();
    for _ in 0..20 {
        orders.push(app.order(&buyer, product, 1).await);
    }
    let reservations: Vec<(&str, Value)> = orders
        .iter()
        .map(|order_id| ("stock.reserved", json!({"order_id": order_id, "lines": []})))
        .collect();

    add_together(&app, &reservations).await;

    for order_id in &orders {
        app.wait_for_status(*order_id, "CONFIRMED").await;
    }
    assert_eq!(
        app.count("SELECT count(*) FROM order_status_history WHERE to_status = 'CONFIRMED'")
            .await,
        20
    );
    assert_eq!(
        app.count("SELECT count(*) FROM orders WHERE expires_at IS NOT NULL")
            .await,
        20
    );
    let moves = trips
        .all()
        .iter()
        .filter(|trip| trip.executed && trip.sql.iter().any(|sql| sql.contains("AS given_reason")))
        .count();
    assert!(moves < 20, "{moves} statements moved 20 orders");
    println!("20 reservations confirmed by {moves} statements");
}

#[tokio::test]
async fn a_run_of_reservations_gives_back_those_of_cancelled_orders_once_each() {
    let app = spawn_app().await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Tent", "199.00").await;
    let kept = app.order(&buyer, product, 1).await;
    let cancelled = app.order(&buyer, product, 1).await;
    assert_eq!(app.cancel(&buyer, cancelled).await.status(), 200);
    let unknown = Uuid::now_v7();

    add_together(
        &app,
        &[
            ("stock.reserved", json!({"order_id": kept, "lines": []})),
            (
                "stock.reserved",
                json!({"order_id": cancelled, "lines": []}),
            ),
            ("stock.reserved", json!({"order_id": unknown, "lines": []})),
            ("stock.reserved", json!({"order_id": kept, "lines": []})),
        ],
    )
    .await;

    app.wait_for_status(kept, "CONFIRMED").await;
    app.wait_until_quiet().await;
    // One order.cancelled from the buyer's cancellation, one giving the late reservation back.
    assert_eq!(
        app.published_for(cancelled, "order.cancelled").await.len(),
        2
    );
    assert_eq!(app.published_for(unknown, "order.cancelled").await.len(), 1);
    assert!(app.published_for(kept, "order.cancelled").await.is_empty());
    assert_eq!(app.status(cancelled).await, "CANCELLED");
    let history: i64 =
        sqlx::query_scalar("SELECT count(*) FROM order_status_history WHERE order_id = $1")
            .bind(kept)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(history, 2, "PENDING, then CONFIRMED once");
}

#[tokio::test]
async fn a_run_of_product_updates_keeps_each_products_highest_version() {
    let app = spawn_app().await;
    let seller = app.user();
    let product = app.product(seller.id, "Tent", "199.00").await;
    let snapshot = |name: &str, price: &str, version: i64| {
        json!({"product_id": product, "seller_id": seller.id, "name": name, "price": price,
               "stock": 10, "version": version})
    };

    add_together(
        &app,
        &[
            ("product.updated", snapshot("Tent (v3)", "179.00", 3)),
            ("product.updated", snapshot("Tent (v2)", "189.00", 2)),
            ("product.updated", snapshot("Tent (v4)", "169.00", 4)),
            ("product.updated", snapshot("Tent (v4 again)", "1.00", 4)),
        ],
    )
    .await;

    app.wait_until_quiet().await;
    let (name, version): (String, i64) =
        sqlx::query_as("SELECT name, version FROM catalog_products WHERE product_id = $1")
            .bind(product)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((name.as_str(), version), ("Tent (v4)", 4));
}
