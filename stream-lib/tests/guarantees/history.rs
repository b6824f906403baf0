//! `stream-admin trace <order id>`: an order's events on both streams and the dead-letter stream,
//! in time order, with their service and outcome.

use redis::AsyncCommands;
use serde_json::{Value, json};
use stream_lib::{
    DEAD_LETTER_STREAM, Envelope, INVENTORY_STREAM, ORDERS_STREAM,
    history::{Outcome, order_history},
};
use uuid::Uuid;

use crate::{
    helpers::*,
    observability::{create_group, read_into_pending},
};

fn about(event_type: &str, source: &str, order_id: Uuid) -> Envelope {
    Envelope::new(
        event_type,
        source,
        "req-trace",
        &json!({"order_id": order_id, "lines": []}),
    )
    .unwrap()
}

/// Creates `group` on `stream` from the start and reads every entry into its pending list.
async fn read_all(redis: &TestRedis, stream: &str, group: &str) -> Vec<String> {
    create_group(redis, stream, group).await;
    read_into_pending(redis, stream, group, 1000).await
}

async fn ack(redis: &TestRedis, stream: &str, group: &str, id: &str) {
    let mut connection = redis.connection.clone();
    let _: u64 = connection
        .xack(redis.key(stream), group, &[id])
        .await
        .unwrap();
}

/// A seeded history: placed (delivered), reserved (pending in orders-service), cancelled
/// (dead-lettered by products-service), paid (not read yet), and another order's event.
async fn seed(redis: &TestRedis, order_id: Uuid) -> Vec<Envelope> {
    let placed = about("order.placed", "orders-service", order_id);
    let reserved = about("stock.reserved", "products-service", order_id);
    let cancelled = about("order.cancelled", "orders-service", order_id);
    let paid = about("order.paid", "orders-service", order_id);
    let placed_id = redis.publish(ORDERS_STREAM, &placed).await;
    redis
        .publish(
            ORDERS_STREAM,
            &about("order.placed", "orders-service", Uuid::now_v7()),
        )
        .await;
    redis.publish(INVENTORY_STREAM, &reserved).await;
    let cancelled_id = redis.publish(ORDERS_STREAM, &cancelled).await;
    let read = read_all(redis, ORDERS_STREAM, "products-service").await;
    assert_eq!(read.len(), 3);
    for id in &read {
        ack(redis, ORDERS_STREAM, "products-service", id).await;
    }
    read_all(redis, INVENTORY_STREAM, "orders-service").await;
    let mut letter = cancelled.to_fields();
    letter.extend([
        ("origin_stream", ORDERS_STREAM.to_owned()),
        ("origin_id", cancelled_id.clone()),
        ("group", "products-service".to_owned()),
        ("attempts", "8".to_owned()),
        ("error", "permanent: no such order".to_owned()),
        ("failed_at", "2026-12-02T15:00:00Z".to_owned()),
    ]);
    redis.publish_fields(DEAD_LETTER_STREAM, &letter).await;
    redis.publish(ORDERS_STREAM, &paid).await;
    assert_ne!(placed_id, cancelled_id);
    vec![placed, reserved, cancelled, paid]
}

#[tokio::test]
async fn an_orders_history_lists_its_events_on_both_streams_and_its_dead_letters_in_time_order() {
    let redis = TestRedis::new().await;
    let order_id = Uuid::now_v7();
    let events = seed(&redis, order_id).await;

    let mut connection = redis.connection.clone();
    let history = order_history(&mut connection, &redis.keys, order_id)
        .await
        .unwrap();

    let seen: Vec<(&str, &str, &str, Outcome)> = history
        .iter()
        .map(|event| {
            (
                event.stream.as_str(),
                event.event_type.as_str(),
                event.service.as_str(),
                event.outcome,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                ORDERS_STREAM,
                "order.placed",
                "orders-service",
                Outcome::Delivered
            ),
            (
                INVENTORY_STREAM,
                "stock.reserved",
                "products-service",
                Outcome::Pending
            ),
            (
                ORDERS_STREAM,
                "order.cancelled",
                "orders-service",
                Outcome::DeadLettered
            ),
            (
                DEAD_LETTER_STREAM,
                "order.cancelled",
                "orders-service",
                Outcome::DeadLettered
            ),
            (
                ORDERS_STREAM,
                "order.paid",
                "orders-service",
                Outcome::Pending
            ),
        ]
    );
    let ids: Vec<String> = history.iter().map(|event| event.event_id.clone()).collect();
    let expected: Vec<String> = [0, 1, 2, 2, 3]
        .iter()
        .map(|&i| events[i].event_id.to_string())
        .collect();
    assert_eq!(ids, expected);
    let groups = |i: usize| -> Vec<(&str, &str)> {
        history[i]
            .groups
            .iter()
            .map(|view| (view.group.as_str(), view.state))
            .collect()
    };
    assert_eq!(groups(0), [("products-service", "acked")]);
    assert_eq!(groups(1), [("orders-service", "pending")]);
    assert_eq!(groups(4), [("products-service", "unread")]);
    let letter = history[3].dead_letter.as_ref().unwrap();
    assert_eq!(letter.origin_id, history[2].id);
    assert_eq!(letter.group, "products-service");
    assert_eq!(letter.error, "permanent: no such order");
}

#[tokio::test]
async fn stream_admin_trace_prints_the_history_as_json_and_refuses_a_bad_order_id() {
    let redis = TestRedis::new().await;
    let order_id = Uuid::now_v7();
    seed(&redis, order_id).await;
    let admin = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_stream-admin"))
            .args(args)
            .env("REDIS_URL", redis_url())
            .env("REDIS_KEY_PREFIX", redis.keys.prefix())
            .output()
            .unwrap()
    };

    let output = admin(&["trace", &order_id.to_string()]);
    assert!(output.status.success(), "{output:?}");
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let printed = printed.as_array().unwrap();
    assert_eq!(printed.len(), 5);
    assert_eq!(printed[0]["type"], "order.placed");
    assert_eq!(printed[0]["service"], "orders-service");
    assert_eq!(printed[0]["outcome"], "delivered");
    assert_eq!(printed[3]["stream"], DEAD_LETTER_STREAM);
    assert_eq!(printed[3]["outcome"], "dead_lettered");

    let refused = admin(&["trace", "order-7"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
}
