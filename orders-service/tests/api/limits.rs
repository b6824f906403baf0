//! Per-buyer limits: at most `max_open_orders` PENDING or CONFIRMED, and a placement rate limit;
//! a refused placement writes and publishes nothing.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, TestUser, assert_error, spawn_app_with};

async fn limited_app(max_open_orders: u32, placements_per_window: u32) -> TestApp {
    spawn_app_with(|settings| {
        settings.database_max_connections = 10;
        settings.buyer_limits.max_open_orders = max_open_orders;
        settings.buyer_limits.placements_per_window = placements_per_window;
    })
    .await
}

fn one_of(product: Uuid) -> Value {
    json!({"items": [{"product_id": product, "quantity": 1}]})
}

async fn orders_of(app: &TestApp, buyer: &TestUser) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM orders WHERE user_id = $1")
        .bind(buyer.id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn order_placed_events(app: &TestApp) -> usize {
    app.published()
        .await
        .iter()
        .filter(|(kind, _)| kind == "order.placed")
        .count()
}

#[tokio::test]
async fn a_buyer_at_the_open_orders_cap_is_refused_another_until_one_closes() {
    let app = limited_app(3, 1000).await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Lamp", "20.00").await;
    let mut placed = Vec::new();
    for _ in 0..3 {
        placed.push(app.order(&buyer, product, 1).await);
    }
    app.reserve(placed[0]).await;
    app.wait_for_status(placed[0], "CONFIRMED").await;

    let refused = app
        .place_order_with_key(&buyer, "the-fourth", &one_of(product))
        .await;
    let body = assert_error(refused, 409, "too_many_open_orders").await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains('3'),
        "{body}"
    );
    assert_eq!(orders_of(&app, &buyer).await, 3);
    assert_eq!(
        app.count("SELECT count(*) FROM idempotency_keys").await,
        0,
        "the refused request's Idempotency-Key was not kept"
    );
    app.wait_until_quiet().await;
    assert_eq!(order_placed_events(&app).await, 3);

    let other = app.user();
    app.order(&other, product, 1).await;

    assert_eq!(app.cancel(&buyer, placed[0]).await.status(), 200);
    let again = app
        .place_order_with_key(&buyer, "the-fourth", &one_of(product))
        .await;
    assert_eq!(again.status(), 201, "a cancelled order frees its slot");
    assert_error(
        app.place_order(&buyer, &one_of(product)).await,
        409,
        "too_many_open_orders",
    )
    .await;
}

/// How many of `count` parallel placements were created and how many refused.
async fn burst(app: &TestApp, buyer: &TestUser, body: &Value, count: usize) -> (usize, usize) {
    let statuses: Vec<u16> = join_all((0..count).map(|_| app.place_order(buyer, body)))
        .await
        .iter()
        .map(|response| response.status().as_u16())
        .collect();
    let created = statuses.iter().filter(|&&s| s == 201).count();
    let refused = statuses.iter().filter(|&&s| s == 409).count();
    assert_eq!(created + refused, count, "{statuses:?}");
    (created, refused)
}

#[tokio::test]
async fn parallel_placements_by_one_buyer_never_exceed_the_cap() {
    let app = limited_app(5, 1000).await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Lamp", "20.00").await;

    let body = one_of(product);
    assert_eq!(burst(&app, &buyer, &body, 30).await, (5, 25));
    assert_eq!(orders_of(&app, &buyer).await, 5);

    // Two slots free while the buyer's bound stands at the cap: every placement of the next
    // burst counts the open orders, each in a snapshot taken before the others committed.
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM orders WHERE user_id = $1 LIMIT 2")
        .bind(buyer.id)
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for id in ids {
        assert_eq!(app.cancel(&buyer, id).await.status(), 200);
    }
    assert_eq!(burst(&app, &buyer, &body, 20).await, (2, 18));
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders WHERE user_id = $1 AND status IN ('PENDING', 'CONFIRMED')",
    )
    .bind(buyer.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(open, 5);
}

#[tokio::test]
async fn placing_faster_than_the_rate_limit_is_refused_with_retry_after() {
    let app = limited_app(1000, 3).await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Lamp", "20.00").await;
    for _ in 0..3 {
        app.order(&buyer, product, 1).await;
    }

    let refused = app.place_order(&buyer, &one_of(product)).await;
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    assert_error(refused, 429, "rate_limited").await;
    assert_eq!(orders_of(&app, &buyer).await, 3);

    let other = app.user();
    app.order(&other, product, 1).await;
}

#[tokio::test]
async fn the_rate_limit_window_reopens() {
    let app = spawn_app_with(|settings| {
        settings.buyer_limits.placements_per_window = 1;
        settings.buyer_limits.window = Duration::from_secs(1);
    })
    .await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Lamp", "20.00").await;
    app.order(&buyer, product, 1).await;
    assert_error(
        app.place_order(&buyer, &one_of(product)).await,
        429,
        "rate_limited",
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let response = app.place_order(&buyer, &one_of(product)).await;
        if response.status() == 201 {
            break;
        }
        assert_eq!(response.status(), 429);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the window never reopened"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
