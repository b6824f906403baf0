//! `/ready` of the running service means it: a 503 naming the consumer while an unavailable
//! dependency pauses it, 200 again once it runs; `/health` (liveness) stays 200 throughout. A
//! consumer whose group is destroyed does not stop: it creates the group again and goes on.
//! (Nothing else ends a consumer before shutdown but a panic of stream-lib's own code, outside
//! the handlers' catch: web-kit's `background` tests cover that its entry then reads `stopped`.)

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

#[tokio::test]
async fn a_destroyed_consumer_group_is_created_again_and_the_consumer_never_stops() {
    let app = spawn_app().await;
    let first = unknown_product_order();
    app.publish_order_event("order.placed", first.clone()).await;
    let first_id: Uuid = first["order_id"].as_str().unwrap().parse().unwrap();
    app.reply_for(first_id).await;
    assert_eq!(readiness(&app).await, (200, String::new()));

    let mut redis = redis::Client::open(web_kit::testing::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let stream = format!("{}orders_stream", app.prefix);
    let destroyed: i64 = redis::cmd("XGROUP")
        .arg("DESTROY")
        .arg(&stream)
        .arg("products-service")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(destroyed, 1);
    let second = unknown_product_order();
    app.publish_order_event("order.placed", second.clone())
        .await;
    let second_id: Uuid = second["order_id"].as_str().unwrap().parse().unwrap();

    // Whatever /ready says meanwhile, it never names the consumer stopped.
    let seen = wait_until(PATIENCE, "the second order handled", || async {
        let (status, message) = readiness(&app).await;
        assert!(!message.contains("stopped"), "{message}");
        let replied = !app
            .events_about("stock.rejected", "order_id", second_id)
            .await
            .is_empty();
        replied.then_some(status)
    })
    .await;
    assert_eq!(seen, 200, "running again once it handled the order");
    let groups: Vec<redis::Value> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(&stream)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(groups.len(), 1, "the group exists again");
    // The new group reads the stream from the start: the first order, delivered again, is
    // absorbed by the inbox (one reply).
    wait_until(PATIENCE, "both entries acked", || async {
        (app.pending_orders().await == 0).then_some(())
    })
    .await;
    app.outbox_drained().await;
    assert_eq!(
        app.events_about("stock.rejected", "order_id", first_id)
            .await
            .len(),
        1
    );
    assert_alive(&app).await;
    app.stop().await;
}
