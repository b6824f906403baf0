use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn paying_a_confirmed_order_with_the_test_card_marks_it_paid_and_publishes_order_paid() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Amp", "300.00").await;
    let buyer = app.user();
    let order_id = app.confirmed_order(&buyer, product).await;

    let response = app
        .post(
            &format!("/api/orders/{order_id}/pay"),
            Some(&buyer),
            &json!({"card_number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"}),
        )
        .await;

    assert_eq!(response.status(), 200);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["history"][2]["status"], "PAID");
    let paid = app.wait_for_published(order_id, "order.paid", 1).await;
    assert_eq!(paid[0], json!({"order_id": order_id}));
    assert_error(
        app.pay(&buyer, order_id, "4242424242424242").await,
        409,
        "invalid_state",
    )
    .await;
    assert_error(app.cancel(&buyer, order_id).await, 409, "invalid_state").await;
}

#[tokio::test]
async fn the_declined_card_gets_402_and_the_order_stays_payable() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Amp", "300.00").await;
    let buyer = app.user();
    let order_id = app.confirmed_order(&buyer, product).await;

    let declined = app.pay(&buyer, order_id, "4000 0000 0000 0002").await;
    assert_error(declined, 402, "payment_declined").await;
    assert_eq!(app.status(order_id).await, "CONFIRMED");

    assert_eq!(
        app.pay(&buyer, order_id, "4242424242424242").await.status(),
        200
    );
}

#[tokio::test]
async fn an_unusable_card_is_refused_per_field_and_no_card_data_is_kept() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Amp", "300.00").await;
    let buyer = app.user();
    let order_id = app.confirmed_order(&buyer, product).await;
    let path = format!("/api/orders/{order_id}/pay");

    let luhn = app
        .post(
            &path,
            Some(&buyer),
            &json!({"card_number": "4242 4242 4242 4241", "expiry": "12/39", "cvc": "123"}),
        )
        .await;
    let body = assert_error(luhn, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["card_number"].is_array());
    assert!(!body.to_string().contains("4241"));

    let rest = app
        .post(
            &path,
            Some(&buyer),
            &json!({"card_number": "4242424242424242", "expiry": "01/20", "cvc": "12a"}),
        )
        .await;
    let body = assert_error(rest, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["expiry"].is_array());
    assert!(body["error"]["fields"]["cvc"].is_array());

    let missing = app
        .post(
            &path,
            Some(&buyer),
            &json!({"card_number": "4242424242424242"}),
        )
        .await;
    assert_error(missing, 422, "invalid_body").await;
    assert_eq!(app.status(order_id).await, "CONFIRMED");

    assert_eq!(
        app.pay(&buyer, order_id, "4242 4242 4242 4242")
            .await
            .status(),
        200
    );
    let kept: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM outbox WHERE payload::text LIKE '%4242%')
              + (SELECT count(*) FROM order_status_history WHERE reason LIKE '%4242%')
              + (SELECT count(*) FROM orders WHERE reason LIKE '%4242%')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(kept, 0);
}

#[tokio::test]
async fn a_pending_order_cannot_be_paid() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Amp", "300.00").await;
    let buyer = app.user();
    let order_id = app.order(&buyer, product, 1).await;
    assert_error(
        app.pay(&buyer, order_id, "4242424242424242").await,
        409,
        "invalid_state",
    )
    .await;
    assert_eq!(app.status(order_id).await, "PENDING");
}

#[tokio::test]
async fn a_confirmed_order_past_its_window_cannot_be_paid_even_before_the_sweeper_runs() {
    let app = spawn_app_with(|settings| settings.sweep_interval = Duration::from_secs(3600)).await;
    let product = app.product(app.user().id, "Amp", "300.00").await;
    let buyer = app.user();
    let order_id = app.confirmed_order(&buyer, product).await;
    sqlx::query("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(order_id)
        .execute(&app.pool)
        .await
        .unwrap();

    let late = app.pay(&buyer, order_id, "4242424242424242").await;
    assert_error(late, 409, "invalid_state").await;
    assert_eq!(app.status(order_id).await, "CONFIRMED");
}

#[tokio::test]
async fn nobody_but_the_buyer_can_pay() {
    let app = spawn_app().await;
    let product = app.product(app.user().id, "Amp", "300.00").await;
    let buyer = app.user();
    let order_id = app.confirmed_order(&buyer, product).await;
    assert_error(
        app.pay(&app.user(), order_id, "4242424242424242").await,
        404,
        "order_not_found",
    )
    .await;
    assert_error(
        app.pay(&app.admin(), order_id, "4242424242424242").await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(app.status(order_id).await, "CONFIRMED");
}
