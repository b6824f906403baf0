//! Metrics from the first second: a fresh orders-service process, after an order flowed through
//! the real services, shows on its very first scrape what it counted before it.

use serde_json::Value;

use crate::system::{Orders, start_system_with};

/// The value of the series whose line starts with `name{` and contains every label of `labels`
/// (or is exactly `name` when `labels` is empty).
fn value(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            let series = line.rsplit_once(' ').map_or(*line, |(series, _)| series);
            if labels.is_empty() {
                series == name
            } else {
                series.starts_with(&format!("{name}{{"))
                    && labels.iter().all(|label| series.contains(label))
            }
        })
        .find_map(|line| line.rsplit_once(' ')?.1.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fresh_services_first_scrape_after_an_order_flowed_shows_its_counters() {
    let system = start_system_with(Orders::OwnProcess).await;
    let (_, seller) = system.sign_up("seller").await;
    let (_, buyer) = system.sign_up("buyer").await;
    let product_id = system.listing(&seller, 5).await;
    let (_, order_url) = system.place(&buyer, product_id, 1).await;
    system
        .wait_for_status(&order_url, &buyer, "CONFIRMED")
        .await;

    let text = system
        .client
        .get(format!("{}/metrics", system.orders))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert_eq!(
        value(&text, "orders_placed_total", &[]),
        Some(1.0),
        "{text}"
    );
    // product.created and stock.reserved, both handled before the scrape.
    let processed = value(
        &text,
        "stream_events_processed_total",
        &[r#"stream="inventory_stream""#],
    );
    assert!(processed >= Some(2.0), "{processed:?}\n{text}");
    let published = value(
        &text,
        "stream_outbox_published_total",
        &[r#"stream="orders_stream""#],
    );
    assert!(published >= Some(1.0), "{published:?}\n{text}");
    assert_eq!(
        value(
            &text,
            "orders_transitions_total",
            &[r#"from="PENDING""#, r#"to="CONFIRMED""#]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "http_requests_total",
            &[
                r#"route="/api/orders""#,
                r#"method="POST""#,
                r#"status="201""#
            ]
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains("# TYPE http_request_duration_seconds histogram"),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "http_request_duration_seconds_bucket",
            &[r#"route="/api/orders""#, r#"method="POST""#, r#"le="+Inf""#]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "build_info",
            &[r#"service="orders-service""#, r#"version=""#]
        ),
        Some(1.0),
        "{text}"
    );
    let health: Value = system
        .client
        .get(format!("{}/health", system.orders))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["service"], "orders-service");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    system.stop().await;
}
