//! The consumer's set-based stock movements: a batch of orders competing for the last units,
//! a crowd of buyers racing for a few units through several consumers, and how many
//! PostgreSQL commits an order costs.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use web_kit::testing::wait_until;

use crate::helpers::{TestApp, id_of, spawn_app, spawn_app_with};

fn placed(order_id: Uuid, lines: &[(Uuid, i32)], price: &str) -> Value {
    json!({
        "order_id": order_id,
        "user_id": Uuid::now_v7(),
        "lines": lines
            .iter()
            .map(|(product_id, quantity)| {
                json!({"product_id": product_id, "quantity": quantity, "unit_price": price})
            })
            .collect::<Vec<_>>(),
    })
}

async fn listing(app: &TestApp, price: &str, stock: i32) -> Uuid {
    let seller = app.user("seller");
    id_of(
        &app.listing(&seller, json!({"price": price, "stock": stock}))
            .await,
    )
}

/// Waits for `count` stock replies: (order id, type, payload).
async fn replies(app: &TestApp, count: usize) -> Vec<(String, String, Value)> {
    replies_within(app, count, Duration::from_secs(60)).await
}

async fn replies_within(
    app: &TestApp,
    count: usize,
    patience: Duration,
) -> Vec<(String, String, Value)> {
    wait_until(patience, "every reply", || async {
        let replies: Vec<_> = app
            .inventory_events()
            .await
            .into_iter()
            .filter(|event| event.event_type.starts_with("stock."))
            .map(|event| {
                let order = event.payload["order_id"].as_str().unwrap_or("").to_owned();
                (order, event.event_type, event.payload)
            })
            .collect();
        (replies.len() >= count).then_some(replies)
    })
    .await
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn in_one_batch_the_first_orders_in_stream_order_get_the_last_units_and_no_more() {
    let app = spawn_app_with(|settings| settings.consumer.concurrency = 1).await;
    let scarce = listing(&app, "4.00", 5).await;
    let plenty = listing(&app, "4.00", 100).await;
    let wants = [
        vec![(scarce, 2)],
        vec![(plenty, 1), (scarce, 2)],
        vec![(scarce, 2), (plenty, 3)],
        vec![(scarce, 1)],
        vec![(scarce, 1)],
        vec![(plenty, 1)],
    ];
    let orders: Vec<Uuid> = wants.iter().map(|_| Uuid::now_v7()).collect();
    let events: Vec<(&str, Value)> = orders
        .iter()
        .zip(&wants)
        .map(|(order, lines)| ("order.placed", placed(*order, lines, "4.00")))
        .collect();

    app.publish_order_events_at_once(&events).await;
    let replies = replies(&app, orders.len()).await;

    let outcome: Vec<&str> = orders
        .iter()
        .map(|order| {
            let order = order.to_string();
            let (_, kind, _) = replies.iter().find(|(id, ..)| *id == order).unwrap();
            kind.as_str()
        })
        .collect();
    assert_eq!(
        outcome,
        [
            "stock.reserved",
            "stock.reserved",
            "stock.rejected",
            "stock.reserved",
            "stock.rejected",
            "stock.reserved"
        ],
        "in stream order; the third order takes nothing, not even its plentiful line"
    );
    assert_eq!(
        app.stored(scarce).await,
        (0, 4),
        "exactly the stock was taken; the version moved once per order"
    );
    assert_eq!(app.stored(plenty).await, (98, 3));
    assert_eq!(
        count(&app, "SELECT count(DISTINCT xmin::text) FROM reservations").await,
        1,
        "the six orders were decided in one transaction"
    );
    app.stop().await;
}

#[tokio::test]
async fn two_hundred_buyers_racing_for_ten_units_end_with_exactly_ten_sold() {
    let app = spawn_app().await;
    let id = listing(&app, "9.99", 10).await;
    let stop = CancellationToken::new();
    let replicas = app.extra_consumers(2, 16, &stop);
    let orders: Vec<Uuid> = (0..200).map(|_| Uuid::now_v7()).collect();
    let events: Vec<(&str, Value)> = orders
        .iter()
        .map(|order| ("order.placed", placed(*order, &[(id, 1)], "9.99")))
        .collect();

    app.publish_order_events(&events).await;
    let decided = replies(&app, 200).await;
    let winners: Vec<&str> = decided
        .iter()
        .filter(|(_, kind, _)| kind == "stock.reserved")
        .map(|(order, ..)| order.as_str())
        .collect();
    let paid: Vec<(&str, Value)> = winners
        .iter()
        .map(|order| ("order.paid", json!({"order_id": order})))
        .collect();
    app.publish_order_events(&paid).await;
    wait_until(Duration::from_secs(60), "every sale", || async {
        (count(
            &app,
            "SELECT count(*) FROM reservations WHERE status = 'sold'",
        )
        .await
            == winners.len() as i64)
            .then_some(())
    })
    .await;
    stop.cancel();
    for replica in replicas {
        replica.await.unwrap().unwrap();
    }

    assert_eq!((decided.len(), winners.len()), (200, 10));
    assert!(
        decided
            .iter()
            .filter(|(_, kind, _)| kind == "stock.rejected")
            .all(|(_, _, payload)| payload["reason"] == "out_of_stock")
    );
    assert_eq!(app.stored(id).await.0, 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM reservations WHERE status = 'sold'"
        )
        .await,
        10
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM reservations WHERE status = 'reserved'"
        )
        .await,
        0
    );
    assert_eq!(app.dead_letters().await, 0);
    app.stop().await;
}

/// `xact_commit` of the test's database once every backend of it has gone (a backend reports
/// its counts when it exits, or when idle for a while): read from the maintenance database.
async fn commits_once_settled(database: &str) -> i64 {
    let url = web_kit::testing::database_server_url();
    let server = sqlx::PgPool::connect(&url).await.unwrap();
    let last = std::cell::Cell::new(-1);
    let (server, last) = (&server, &last);
    wait_until(
        Duration::from_secs(30),
        "the statistics to settle",
        || async {
            let (backends, commits): (i32, i64) = sqlx::query_as(
                "SELECT (SELECT count(*)::int4 FROM pg_stat_activity WHERE datname = $1), \
                    pg_stat_get_db_xact_commit(oid) FROM pg_database WHERE datname = $1",
            )
            .bind(database)
            .fetch_one(server)
            .await
            .unwrap();
            let settled = backends == 0 && commits == last.replace(commits);
            settled.then_some(commits)
        },
    )
    .await
}

/// Places `orders` one-line orders over `products` through `app`'s consumer and relay (all at
/// once, or `per_tick` every 10 ms), waits for every reply, stops the application and returns
/// the commits its database counted since `before` (its start-up included).
async fn commits_of_a_run(
    mut app: TestApp,
    (database, before): (&str, i64),
    products: &[Uuid],
    orders: usize,
    per_tick: Option<usize>,
) -> (i64, Duration) {
    let events: Vec<(&str, Value)> = (0..orders)
        .map(|n| {
            let lines = [(products[n % products.len()], 1)];
            ("order.placed", placed(Uuid::now_v7(), &lines, "5.00"))
        })
        .collect();
    let replied = app
        .inventory_events()
        .await
        .iter()
        .filter(|event| event.event_type.starts_with("stock."))
        .count();
    let started = std::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    for chunk in events.chunks(per_tick.unwrap_or(100)) {
        if per_tick.is_some() {
            tick.tick().await;
        }
        app.publish_order_events(chunk).await;
    }
    replies_within(&app, replied + orders, Duration::from_secs(600)).await;
    let elapsed = started.elapsed();
    app.shut_down().await;
    app.pool.close().await;
    (commits_once_settled(database).await - before, elapsed)
}

/// A measurement (run with `--ignored --nocapture`): PostgreSQL commits in products-service's
/// database per order, for `order.placed` entries read by the real consumer and replied to
/// through the real relay, once as a backlog and once arriving at 500 orders/s. The figures
/// include everything the service does meanwhile (the relay's and maintenance's transactions,
/// the start-up of each run).
#[tokio::test]
#[ignore = "a measurement; prints its figures"]
async fn commits_per_order_in_the_products_database() {
    const ORDERS: usize = 2000;
    let mut app = spawn_app().await;
    let mut products = Vec::new();
    for _ in 0..20 {
        products.push(listing(&app, "5.00", 1_000_000).await);
    }
    app.outbox_drained().await;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.shut_down().await;
    app.pool.close().await;

    for (what, per_tick) in [("as a backlog", None), ("at 500/s", Some(5))] {
        let before = commits_once_settled(&database).await;
        let run = app.replica().await;
        let (commits, elapsed) =
            commits_of_a_run(run, (&database, before), &products, ORDERS, per_tick).await;
        eprintln!(
            "{ORDERS} orders {what}, replied within {elapsed:?}: {commits} commits in the \
             products database, {:.3} per order",
            commits as f64 / ORDERS as f64
        );
    }
    app.stop().await;
}
