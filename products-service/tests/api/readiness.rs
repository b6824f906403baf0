//! `/ready` of the running service means it: a 503 naming the consumer while an unavailable
//! dependency pauses it, 200 again once it runs; `/health` (liveness) stays 200 throughout.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;
use web_kit::testing::{PrivateRedis, set_database_down, wait_until};

use crate::helpers::{TestApp, json_of, spawn_app, spawn_app_with};

const CONSUMER: &str = "consumer orders_stream/products-service";
const PATIENCE: Duration = Duration::from_secs(30);

/// An `order.placed` for a product nobody sells: the consumer needs its database to reject it.
fn unknown_product_order() -> Value {
    json!({
        "order_id": Uuid::now_v7(),
        "user_id": Uuid::now_v7(),
        "lines": [{"product_id": Uuid::now_v7(), "quantity": 1, "unit_price": "1.00"}],
    })
}

/// `/ready`'s status and its error message (empty when ready).
async fn readiness(app: &TestApp) -> (u16, String) {
    let (status, body) = json_of(app.get("/ready").await).await;
    let message = body["error"]["message"].as_str().unwrap_or("").to_owned();
    (status, message)
}

async fn assert_alive(app: &TestApp) {
    let (status, body) = json_of(app.get("/health").await).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn ready_names_the_consumer_paused_by_its_unreachable_database_and_recovers_with_it() {
    let app = spawn_app().await;
    assert_eq!(readiness(&app).await, (200, String::new()));
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    set_database_down(&database, true).await.unwrap();
    let order = unknown_product_order();
    app.publish_order_event("order.placed", order.clone()).await;
    let message = wait_until(PATIENCE, "the consumer is paused", || async {
        let (status, message) = readiness(&app).await;
        (status == 503 && message.contains(&format!("paused: {CONSUMER}"))).then_some(message)
    })
    .await;
    assert!(message.contains("unreachable: database"), "{message}");
    assert_alive(&app).await;

    set_database_down(&database, false).await.unwrap();
    wait_until(PATIENCE, "ready again", || async {
        (readiness(&app).await.0 == 200).then_some(())
    })
    .await;
    let order_id: Uuid = order["order_id"].as_str().unwrap().parse().unwrap();
    let reply = app.reply_for(order_id).await;
    assert_eq!(
        reply.event_type, "stock.rejected",
        "handled once it ran again"
    );
    assert_alive(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn ready_names_the_consumer_paused_while_its_redis_is_down_and_recovers_with_it() {
    let mut redis = PrivateRedis::start().await;
    let url = redis.url();
    let app = spawn_app_with(|settings| settings.redis_url = url).await;
    wait_until(PATIENCE, "ready", || async {
        (readiness(&app).await.0 == 200).then_some(())
    })
    .await;

    redis.stop().await;
    let message = wait_until(PATIENCE, "the consumer is paused", || async {
        let (status, message) = readiness(&app).await;
        (status == 503 && message.contains(&format!("paused: {CONSUMER}"))).then_some(message)
    })
    .await;
    assert!(message.contains("unreachable: redis"), "{message}");
    assert_alive(&app).await;

    redis.restart().await;
    wait_until(PATIENCE, "ready again", || async {
        (readiness(&app).await.0 == 200).then_some(())
    })
    .await;
    assert_alive(&app).await;
    app.stop().await;
}
