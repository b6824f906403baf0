//! orders-service on a real three-master Redis Cluster (`REDIS_CLUSTER_URLS`): live status changes
//! cross replicas over a sharded channel, the placement limit counts there, `/ready` answers, and
//! with the three services on the cluster an order crosses both streams to CONFIRMED.

use std::time::Duration;

use orders_service::{
    domain::OrderStatus,
    live::{Live, StatusChange},
};
use rust_decimal::Decimal;
use serde_json::json;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use web_kit::testing::{RedisCluster, wait_until};

use crate::{
    helpers::{PATIENCE, TestApp, assert_error, spawn_app_with},
    system::{SystemRedis, start_system_on},
};

fn change(version: i32) -> StatusChange {
    StatusChange {
        order_id: Uuid::now_v7(),
        user_id: Uuid::now_v7(),
        status: OrderStatus::Confirmed,
        reason: None,
        expires_at: None,
        updated_at: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
        version,
        total: Decimal::new(1999, 2),
    }
}

#[tokio::test]
async fn on_a_cluster_a_change_published_by_one_replica_reaches_the_others_watchers() {
    let cluster = RedisCluster::start().await;
    let prefix = format!("test-orders-{}:", Uuid::new_v4().simple());
    let replica = |_| {
        let pool = web_kit::redis_pool::create("redis://127.0.0.1:1", &cluster.urls(), None);
        Live::new(pool.unwrap(), &prefix)
    };
    let (publisher, watcher) = (replica(1), replica(2));
    let shutdown = CancellationToken::new();
    let subscriber = watcher.subscriber().await.unwrap();
    let task = tokio::spawn(subscriber.run(shutdown.clone()));
    let mut changes = watcher.subscribe();

    let sent = [change(1), change(2)];
    publisher.publish(&sent).await;

    for expected in &sent {
        let received = tokio::time::timeout(Duration::from_secs(5), changes.recv())
            .await
            .expect("the change arrives in time")
            .unwrap();
        assert_eq!(&received, expected);
    }
    // A sharded channel: its one subscriber is counted by the master owning its slot.
    let mut redis = web_kit::redis_pool::create("", &cluster.urls(), None)
        .unwrap()
        .get()
        .await
        .unwrap();
    let counts: redis::Value = redis::cmd("PUBSUB")
        .arg("SHARDNUMSUB")
        .arg(watcher.channel())
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(format!("{counts:?}").contains("int(1)"), "{counts:?}");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the subscriber stops at shutdown")
        .unwrap();
}

async fn on_cluster(cluster: &RedisCluster, placements_per_window: u32) -> TestApp {
    let urls = cluster.urls();
    spawn_app_with(move |settings| {
        settings.redis_cluster_urls = urls;
        settings.buyer_limits.placements_per_window = placements_per_window;
    })
    .await
}

#[tokio::test]
async fn on_a_cluster_placements_beyond_the_window_are_refused_and_ready_answers() {
    let cluster = RedisCluster::start().await;
    let app = on_cluster(&cluster, 1).await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Lamp", "20.00").await;
    let one = json!({"items": [{"product_id": product, "quantity": 1}]});

    app.order(&buyer, product, 1).await;
    assert_error(app.place_order(&buyer, &one).await, 429, "rate_limited").await;

    let ready = app.get("/ready", None).await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["redis"], "ok");
}

/// True when `streams` (what `GET /api/admin/streams` answers) shows `stream` with entries and
/// `group` with nothing pending and nothing left to read.
fn caught_up(streams: &serde_json::Value, stream: &str, group: &str) -> bool {
    streams.as_array().into_iter().flatten().any(|health| {
        health["stream"] == stream
            && health["length"].as_u64() >= Some(1)
            && health["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|found| found["name"] == group && found["pending"] == 0 && found["lag"] == 0)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_a_cluster_an_order_crosses_both_streams_to_confirmed() {
    let cluster = RedisCluster::start().await;
    // Nothing answers at the services' REDIS_URL: everything must go to the cluster.
    let nowhere = "redis://127.0.0.1:1".to_owned();
    let system = start_system_on(SystemRedis {
        auth: nowhere.clone(),
        products: nowhere.clone(),
        orders: nowhere.clone(),
        test: nowhere,
        cluster: cluster.urls(),
        prefix: format!("test-system-cluster-{}:", Uuid::new_v4().simple()),
    })
    .await;
    let (_, seller) = system.sign_up("seller").await;
    let (_, buyer) = system.sign_up("buyer").await;
    // product.created: products-service's relay -> inventory_stream -> orders-service's consumer.
    let product_id = system.listing(&seller, 5).await;

    let (_, order_url) = system.place(&buyer, product_id, 2).await;

    // order.placed -> products-service's consumer -> stock.reserved -> orders-service's consumer.
    system
        .wait_for_status(&order_url, &buyer, "CONFIRMED")
        .await;
    let admin = system.admin().await;
    let streams_url = format!("{}/api/admin/streams", system.orders);
    wait_until(
        PATIENCE,
        "both groups have read and acked everything",
        || async {
            let streams = system.get(streams_url.clone(), &admin).await;
            (caught_up(&streams, "orders_stream", "products-service")
                && caught_up(&streams, "inventory_stream", "orders-service"))
            .then_some(())
        },
    )
    .await;
    let mut redis = web_kit::redis_pool::create("", &cluster.urls(), None)
        .unwrap()
        .get()
        .await
        .unwrap();
    let placed: u64 = redis::cmd("XLEN")
        .arg(format!("{}orders_stream", system.prefix))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(placed, 1, "order.placed is on the cluster");
    system.stop().await;
}
