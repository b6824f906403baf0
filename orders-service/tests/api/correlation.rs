//! One order followed across the three real services by its request id: the `x-request-id` of
//! `POST /api/orders` is on the log lines of orders-service's request, of products-service's
//! handling of `order.placed` and of orders-service's handling of `stock.reserved` (as their
//! `correlation_id`), in the services' JSON log format.

use serde_json::{Value, json};
use uuid::Uuid;
use web_kit::testing::CapturedLogs;

use crate::system::{Orders, start_system_with};

/// The span of `line` named `name` (the current one or an enclosing one).
fn span<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line["spans"]
        .as_array()?
        .iter()
        .chain(std::iter::once(&line["span"]))
        .find(|span| span["name"] == name)
}

/// Lines logged while handling an event of `event_type` in `group` about `request_id`: in the
/// span `event` of one entry, or `events` of a batch handler's run.
fn handling<'a>(
    lines: &'a [Value],
    event_type: &str,
    group: &str,
    request_id: &str,
) -> Vec<&'a Value> {
    let about = |span: &Value| {
        span["event_type"] == event_type
            && span["group"] == group
            && (span["correlation_id"] == request_id
                || span["correlation_ids"]
                    .as_str()
                    .is_some_and(|ids| ids.split(',').any(|id| id == request_id)))
    };
    lines
        .iter()
        .filter(|line| {
            span(line, "event")
                .or_else(|| span(line, "events"))
                .is_some_and(about)
        })
        .collect()
}

// A current-thread runtime: the three services run on the test's thread, inside its capture.
#[tokio::test]
async fn an_orders_request_id_is_on_every_services_log_lines_of_that_order() {
    let logs = CapturedLogs::new();
    let _capture = logs.install();
    let system = start_system_with(Orders::InProcess).await;
    let (_, seller) = system.sign_up("seller").await;
    let (_, buyer) = system.sign_up("buyer").await;
    let product_id = system.listing(&seller, 5).await;
    let request_id = format!("follow-{}", Uuid::now_v7().simple());

    let placed = system
        .client
        .post(format!("{}/api/orders", system.orders))
        .bearer_auth(&buyer)
        .header("x-request-id", &request_id)
        .json(&json!({"items": [{"product_id": product_id, "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), 201);
    assert_eq!(placed.headers()["x-request-id"], request_id.as_str());
    let order: Value = placed.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap().to_owned();
    let order_url = format!("{}/api/orders/{order_id}", system.orders);
    system
        .wait_for_status(&order_url, &buyer, "CONFIRMED")
        .await;
    system.stop().await;

    let lines = logs.lines();
    let request: Vec<&Value> = lines
        .iter()
        .filter(|line| {
            span(line, "http").is_some_and(|http| {
                http["request_id"] == request_id.as_str() && http["route"] == "/api/orders"
            })
        })
        .collect();
    assert!(
        !request.is_empty(),
        "orders-service's request logs its request id"
    );
    for (event_type, group) in [
        ("order.placed", "products-service"),
        ("stock.reserved", "orders-service"),
    ] {
        let handled = handling(&lines, event_type, group, &request_id);
        assert!(
            !handled.is_empty(),
            "{group}'s handling of {event_type} logs the request id"
        );
        for line in handled {
            if let Some(event) = span(line, "event") {
                assert_eq!(event["aggregate_id"], order_id.as_str(), "{line}");
            }
        }
    }
}
