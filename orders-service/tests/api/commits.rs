//! How many PostgreSQL commits an order costs orders-service's database end to end, through the
//! three real services: placed over HTTP, reserved by products-service, CONFIRMED by the
//! inventory consumer. Counted, not timed: every commit is seen on the wire (see `wire`) and
//! named by what it did, and `pg_stat_database.xact_commit` is read beside it. A measurement run
//! by hand (`ORDERS=1000`, default 200):
//!
//! `cargo test -p orders-service --test api commits_per -- --ignored --nocapture`

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::StreamExt;
use serde_json::json;
use sqlx::Connection;
use web_kit::testing::{database_server_url, wait_until};

use crate::{
    helpers::PATIENCE,
    round_trips::{proxy, through_proxy},
    system::{Orders, start_system_with},
    wire,
};

async fn xact_commit(database: &str) -> i64 {
    let mut connection = sqlx::PgConnection::connect(&database_server_url())
        .await
        .unwrap();
    let commits = sqlx::query_scalar("SELECT xact_commit FROM pg_stat_database WHERE datname = $1")
        .bind(database)
        .fetch_one(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    commits
}

/// What each commit did, by a statement it ran.
const KINDS: [(&str, &str); 4] = [
    ("placement", "INSERT INTO orders"),
    ("inventory consumer batch", "INSERT INTO inbox"),
    ("outbox relay", "UPDATE outbox SET published_at"),
    ("sweeper", "FOR UPDATE SKIP LOCKED"),
];

#[tokio::test]
#[ignore = "a measurement: --ignored --nocapture"]
async fn commits_per_confirmed_order_in_the_orders_database_through_the_real_services() {
    let orders: usize = std::env::var("ORDERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let (port, trips) = proxy().await;
    let database = Arc::new(Mutex::new(String::new()));
    let name = database.clone();
    let system = start_system_with(Orders::InProcessWith(Box::new(move |settings| {
        let url = settings.database_url.clone();
        *name.lock().unwrap() = url.rsplit('/').next().unwrap().to_owned();
        settings.database_url = through_proxy(&url, port).0;
        settings.buyer_limits.max_open_orders = 1_000_000;
        settings.buyer_limits.placements_per_window = 1_000_000;
    })))
    .await;
    let database = database.lock().unwrap().clone();
    let (_, seller) = system.sign_up("seller").await;
    let product = system.listing(&seller, 1_000_000).await;
    let (_, buyer) = system.sign_up("buyer").await;
    let confirmed_url = format!("{}/api/orders?status=CONFIRMED&per_page=1", system.orders);

    let start = trips.all().len();
    let stat_start = xact_commit(&database).await;
    let body = json!({"items": [{"product_id": product, "quantity": 1}]});
    futures::stream::iter(0..orders)
        .map(|n| {
            let request = system
                .client
                .post(format!("{}/api/orders", system.orders))
                .bearer_auth(&buyer)
                .header("Idempotency-Key", format!("commits-{n}"))
                .json(&body)
                .send();
            async move { assert_eq!(request.await.unwrap().status(), 201) }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    wait_until(PATIENCE, "every order is CONFIRMED", || async {
        let page = system.get(confirmed_url.clone(), &buyer).await;
        (page["total"] == json!(orders)).then_some(())
    })
    .await;

    let window = trips.all()[start..].to_vec();
    let by_kind = wire::commits_by_kind(&window, &KINDS);
    let counted: usize = by_kind.values().sum();
    // PostgreSQL publishes each backend's counters at most once a second while it is busy.
    let stat = wait_until(PATIENCE, "pg_stat_database catches up", || async {
        let delta = xact_commit(&database).await - stat_start;
        (delta >= i64::try_from(counted).unwrap()).then_some(delta)
    })
    .await;
    let per_order = |n: usize| n as f64 / orders as f64;
    println!("{orders} orders CONFIRMED; commits in orders-service's database:");
    println!(
        "  pg_stat_database xact_commit delta: {stat} ({:.2} per order)",
        per_order(stat as usize)
    );
    println!(
        "  seen on the wire: {counted} ({:.2} per order)",
        per_order(counted)
    );
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort();
    for (kind, commits) in kinds {
        println!(
            "    {kind}: {commits} ({:.2} per order)",
            per_order(commits)
        );
    }
    let executed = window.iter().filter(|trip| trip.executed).count();
    println!(
        "  round trips (statements): {executed} ({:.2} per order)",
        per_order(executed)
    );
    tokio::time::timeout(Duration::from_secs(30), system.stop())
        .await
        .unwrap();
}
