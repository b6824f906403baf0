use std::time::Duration;

use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

async fn history(
    app: &crate::helpers::TestApp,
    order_id: uuid::Uuid,
) -> Vec<(Option<String>, String)> {
    sqlx::query_as(
        "SELECT from_status, to_status FROM order_status_history WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

fn pair(from: &str, to: &str) -> (Option<String>, String) {
    (Some(from.to_owned()), to.to_owned())
}

#[tokio::test]
async fn stock_reserved_confirms_a_pending_order_until_the_reservation_ttl() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Kettle", "40.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;
    let before = OffsetDateTime::now_utc();

    app.reserve(order_id).await;
    app.wait_for_status(order_id, "CONFIRMED").await;

    let order: Value = app
        .get(&format!("/api/orders/{order_id}"), Some(&buyer))
        .await
        .json()
        .await
        .unwrap();
    let expires_at =
        OffsetDateTime::parse(order["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(expires_at >= before + Duration::from_secs(900) - Duration::from_secs(1));
    assert_eq!(order["history"][1]["from"], "PENDING");
    assert_eq!(order["history"][1]["status"], "CONFIRMED");
    app.wait_until_quiet().await;
    assert!(
        app.published_for(order_id, "order.cancelled")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn stock_rejected_rejects_the_order_with_its_reason_and_publishes_nothing() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Kettle", "40.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;

    app.inventory_event(
        "stock.rejected",
        json!({"order_id": order_id, "reason": "out_of_stock", "product_id": product}),
    )
    .await;
    app.wait_for_status(order_id, "REJECTED").await;

    let order: Value = app
        .get(&format!("/api/orders/{order_id}"), Some(&buyer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["reason"], "out_of_stock");
    assert_eq!(order["history"][1]["reason"], "out_of_stock");
    app.wait_until_quiet().await;
    let published: Vec<String> = app
        .published()
        .await
        .into_iter()
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(published, vec!["order.placed"]);
    assert_error(app.cancel(&buyer, order_id).await, 409, "invalid_state").await;
}

#[tokio::test]
async fn the_buyer_cancels_a_pending_order_and_order_cancelled_is_published() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Kettle", "40.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;

    let response = app.cancel(&buyer, order_id).await;
    assert_eq!(response.status(), 200);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "CANCELLED");
    app.wait_for_published(order_id, "order.cancelled", 1).await;
    assert_eq!(
        history(&app, order_id).await[1],
        pair("PENDING", "CANCELLED")
    );
    assert_error(app.cancel(&buyer, order_id).await, 409, "invalid_state").await;
}

#[tokio::test]
async fn the_buyer_cancels_a_confirmed_order_and_its_stock_is_released() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Kettle", "40.00").await;
    let buyer = app.user();
    let order_id = app.confirmed_order(&buyer, product).await;

    let response = app.cancel(&buyer, order_id).await;
    assert_eq!(response.status(), 200);
    let released = app.wait_for_published(order_id, "order.cancelled", 1).await;
    assert_eq!(released[0], json!({"order_id": order_id}));
    assert_eq!(
        history(&app, order_id).await,
        vec![
            (None, "PENDING".to_owned()),
            pair("PENDING", "CONFIRMED"),
            pair("CONFIRMED", "CANCELLED")
        ]
    );
}

#[tokio::test]
async fn only_the_buyer_or_an_admin_may_cancel() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Kettle", "40.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;
    assert_error(
        app.cancel(&app.user(), order_id).await,
        404,
        "order_not_found",
    )
    .await;
    assert_eq!(app.status(order_id).await, "PENDING");
    assert_eq!(app.cancel(&app.admin(), order_id).await.status(), 200);
}

#[tokio::test]
async fn an_unpaid_confirmed_order_expires_and_publishes_order_expired() {
    let app = spawn_app_with(|settings| settings.reservation_ttl = Duration::from_secs(1)).await;
    let product = app.product(app.user().id, "Kettle", "40.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;

    app.reserve(order_id).await;

    app.wait_for_status(order_id, "EXPIRED").await;
    let expired = app.wait_for_published(order_id, "order.expired", 1).await;
    assert_eq!(expired.len(), 1);
    assert_eq!(
        history(&app, order_id).await[2],
        pair("CONFIRMED", "EXPIRED")
    );
    assert_error(
        app.pay(&buyer, order_id, "4242424242424242").await,
        409,
        "invalid_state",
    )
    .await;
}

#[tokio::test]
async fn a_pending_order_the_inventory_never_answers_is_rejected_with_reason_timeout() {
    let app = spawn_app_with(|settings| settings.pending_timeout = Duration::from_secs(1)).await;
    let product = app.product(app.user().id, "Kettle", "40.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;

    app.wait_for_status(order_id, "REJECTED").await;
    let order: Value = app
        .get(&format!("/api/orders/{order_id}"), Some(&buyer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["reason"], "timeout");
    app.wait_for_published(order_id, "order.cancelled", 1).await;
}

#[tokio::test]
async fn a_late_stock_reserved_for_a_cancelled_or_timed_out_order_is_released() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Kettle", "40.00").await;
    let buyer = app.user();
    let cancelled = app.order(&buyer, product, 1).await;
    let timed_out = app.order(&buyer, product, 1).await;
    assert_eq!(app.cancel(&buyer, cancelled).await.status(), 200);
    // Placed long ago, as far as the sweeper can tell.
    sqlx::query("UPDATE orders SET created_at = now() - interval '1 hour' WHERE id = $1")
        .bind(timed_out)
        .execute(&app.pool)
        .await
        .unwrap();
    app.wait_for_status(timed_out, "REJECTED").await;
    app.wait_for_published(cancelled, "order.cancelled", 1)
        .await;
    app.wait_for_published(timed_out, "order.cancelled", 1)
        .await;

    app.reserve(cancelled).await;
    app.reserve(timed_out).await;

    app.wait_for_published(cancelled, "order.cancelled", 2)
        .await;
    app.wait_for_published(timed_out, "order.cancelled", 2)
        .await;
    assert_eq!(app.status(cancelled).await, "CANCELLED");
    assert_eq!(app.status(timed_out).await, "REJECTED");
}

#[tokio::test]
async fn a_redelivered_event_is_applied_once() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Kettle", "40.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;
    let reserved = app.reserve(order_id).await;
    app.wait_for_status(order_id, "CONFIRMED").await;
    assert_eq!(app.cancel(&buyer, order_id).await.status(), 200);
    app.wait_for_published(order_id, "order.cancelled", 1).await;

    // The same stock.reserved again (a redelivery): applied a second time, it would release
    // the stock again as a late reservation.
    app.add_inventory_event(reserved, "stock.reserved", &json!({"order_id": order_id}))
        .await;
    app.wait_until_quiet().await;

    assert_eq!(
        app.published_for(order_id, "order.cancelled").await.len(),
        1
    );
    assert_eq!(history(&app, order_id).await.len(), 3);
    assert_eq!(app.status(order_id).await, "CANCELLED");
}

#[tokio::test]
async fn stock_released_is_recorded_and_changes_nothing() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Kettle", "40.00").await;
    let buyer = app.user();
    let order_id = app.confirmed_order(&buyer, product).await;
    assert_eq!(app.cancel(&buyer, order_id).await.status(), 200);
    let released = app
        .inventory_event("stock.released", json!({"order_id": order_id}))
        .await;
    app.wait_until_quiet().await;
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE event_id = $1")
        .bind(released)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(recorded, 1);
    assert_eq!(app.status(order_id).await, "CANCELLED");
}
