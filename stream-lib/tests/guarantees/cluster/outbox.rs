//! The outbox relay on a cluster: outbox -> relay -> stream -> consumer -> inbox, and recovery
//! after every master lost its data.

use std::time::Duration;

use stream_lib::outbox::recovery::epoch_key;

use super::{GROUP, OnCluster, pending};
use crate::{
    helpers::{STREAM, applying, config, wait_until},
    recovery::{
        Relay, applied_once_after_a_loss, assert_applied_once, enqueue_events, unpublished,
    },
};
use web_kit::testing::RedisCluster;

#[tokio::test]
async fn on_a_cluster_every_outbox_row_reaches_the_consumer_and_is_applied_once() {
    let mut on = OnCluster::start("cluster_outbox").await;
    let relay = Relay::on(&on.db, on.stream_redis(), &on.keys);
    let consumer = on.spawn(config(STREAM, GROUP), applying(|_| async { Ok(()) }));

    let ids = enqueue_events(&on.db, 0, 30).await;

    let db = &on.db;
    wait_until(
        Duration::from_secs(30),
        "every event is applied",
        || async { db.all_effects().await == 30 },
    )
    .await;
    wait_until(
        Duration::from_secs(10),
        "every row published, every entry acked",
        || {
            let (redis, stream) = (on.redis.clone(), on.keys.key(STREAM));
            async move { unpublished(db).await == 0 && pending(redis, stream).await == 0 }
        },
    )
    .await;
    consumer.stop().await;
    relay.stop().await;
    assert_applied_once(&on.db, &ids).await;
    // The relay keeps its epoch in the stream's slot, on the cluster.
    let epoch: Option<String> = redis::cmd("GET")
        .arg(epoch_key(&on.keys, STREAM))
        .query_async(&mut on.redis)
        .await
        .unwrap();
    assert!(epoch.is_some(), "the relay's epoch is on the cluster");
}

#[tokio::test]
async fn after_flushall_on_every_master_with_entries_in_flight_every_event_is_applied_once() {
    // FLUSHALL: a cluster of its own.
    let on = OnCluster::on(RedisCluster::start_private().await, "cluster_flushall").await;
    let flush_every_master = async || {
        for url in on.cluster.urls() {
            let mut node = redis::Client::open(url)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let () = redis::cmd("FLUSHALL").query_async(&mut node).await.unwrap();
        }
    };
    applied_once_after_a_loss(&on.db, on.stream_redis(), &on.keys, flush_every_master).await;
}
