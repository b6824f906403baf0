//! The consumer on a cluster: every entry applied once and acked, shutdown during a long
//! blocking read, a poison entry dead-lettered to another master and replayed, a crashed
//! consumer's entries reclaimed.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use redis::{
    Value,
    cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr},
};
use stream_lib::{DEAD_LETTER_STREAM, StreamKeys};
use tokio::sync::Notify;
use uuid::Uuid;
use web_kit::testing::RedisCluster;

use super::{GROUP, OnCluster, pending, slot};
use crate::{
    helpers::{STREAM, applying, config, placed, wait_until},
    shutdown::{long_reads, stop_during_the_read},
};

#[tokio::test]
async fn a_consumer_on_a_cluster_applies_every_entry_once_and_acks_it() {
    let mut on = OnCluster::start("cluster_consumer").await;
    let running = on.spawn(config(STREAM, GROUP), applying(|_| async { Ok(()) }));
    let events: Vec<_> = (0..20).map(placed).collect();
    for event in &events {
        on.publish(event).await;
    }

    let db = &on.db;
    wait_until(Duration::from_secs(30), "every entry applied", || async {
        db.all_effects().await == 20
    })
    .await;
    for event in &events {
        assert_eq!(on.db.effects(event.event_id).await, 1);
    }
    wait_until(Duration::from_secs(10), "every entry acked", || {
        let (redis, stream) = (on.redis.clone(), on.keys.key(STREAM));
        async move { pending(redis, stream).await == 0 }
    })
    .await;
    running.stop().await;
    assert_eq!(pending(on.redis.clone(), on.keys.key(STREAM)).await, 0);
}

/// See shutdown.rs: why the suite's settings cannot tell an unblocked read from a short one.
#[tokio::test]
async fn shutdown_during_a_30_s_blocking_read_on_a_cluster_unblocks_it_on_the_streams_master() {
    let cluster = RedisCluster::start_private().await;
    // Client ids count up per node: set the nodes' counts apart, so an id asked of one node
    // names no client of another (CLIENT UNBLOCK on the wrong node unblocks nothing).
    for (n, url) in cluster.urls().into_iter().enumerate() {
        let client = redis::Client::open(url).unwrap();
        for _ in 0..n * 25 {
            let mut connection = client.get_multiplexed_async_connection().await.unwrap();
            let _: String = redis::cmd("PING")
                .query_async(&mut connection)
                .await
                .unwrap();
        }
    }
    let on = OnCluster::on(cluster, "cluster_shutdown").await;
    let running = on.spawn(
        long_reads(config(STREAM, GROUP)),
        applying(|_| async { Ok(()) }),
    );
    // A cluster of its own: the only client blocked on the stream's master is the consumer's
    // read.
    let mut redis = on.redis.clone();
    let stream = on.keys.key(STREAM);
    stop_during_the_read(running, async || {
        let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::with_key(
            &stream,
            SlotAddr::Master,
        )));
        let mut list = redis::cmd("CLIENT");
        list.arg("LIST");
        let clients = redis.clone().route_command(list, route).await.unwrap();
        redis::from_redis_value(clients).unwrap()
    })
    .await;
    let _: Value = redis::cmd("DEL")
        .arg(&stream)
        .query_async(&mut redis)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_poison_entry_on_a_cluster_is_dead_lettered_to_another_master_and_replayed() {
    let mut on = OnCluster::start("cluster_poison").await;
    // A prefix whose dead-letter stream is on another master than the source stream (the
    // cluster deals the slots to its three masters in even ranges).
    let master = |slot: i64| slot / 5462;
    while master(slot(&mut on.redis, &on.keys.key(STREAM)).await)
        == master(slot(&mut on.redis, &on.keys.key(DEAD_LETTER_STREAM)).await)
    {
        on.keys = StreamKeys::new(format!("slcluster-{}:", Uuid::new_v4().simple()));
    }
    let stream = on.keys.key(STREAM);
    let failing = Arc::new(AtomicBool::new(true));
    let handlers = {
        let failing = Arc::clone(&failing);
        applying(move |_| {
            let failing = failing.load(Ordering::SeqCst);
            async move {
                if failing {
                    Err(stream_lib::HandlerError::permanent(anyhow::anyhow!(
                        "poison"
                    )))
                } else {
                    Ok(())
                }
            }
        })
    };
    let running = on.spawn(config(STREAM, GROUP), handlers);
    let event = placed(1);
    on.publish(&event).await;

    let mut redis = on.redis.clone();
    let keys = on.keys.clone();
    wait_until(
        Duration::from_secs(30),
        "the entry is dead-lettered",
        || {
            let mut redis = redis.clone();
            let keys = keys.clone();
            async move {
                !stream_lib::admin::dead_letters(&mut redis, &keys, 10)
                    .await
                    .unwrap()
                    .is_empty()
            }
        },
    )
    .await;
    let letters = stream_lib::admin::dead_letters(&mut redis, &keys, 10)
        .await
        .unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].event_id, event.event_id.to_string());
    wait_until(Duration::from_secs(10), "the original is acked", || {
        let (redis, stream) = (redis.clone(), stream.clone());
        async move { pending(redis, stream).await == 0 }
    })
    .await;
    assert_eq!(on.db.effects(event.event_id).await, 0);

    failing.store(false, Ordering::SeqCst);
    let replayed = stream_lib::admin::replay(&mut redis, &keys, &letters[0].id)
        .await
        .unwrap();
    assert!(replayed.is_some());
    let db = &on.db;
    wait_until(
        Duration::from_secs(30),
        "the replayed entry is applied",
        || async { db.effects(event.event_id).await == 1 },
    )
    .await;
    running.stop().await;
    assert!(
        stream_lib::admin::dead_letters(&mut redis, &keys, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn on_a_cluster_a_crashed_consumers_pending_entries_are_reclaimed_and_applied_once() {
    let mut on = OnCluster::start("cluster_reclaim").await;
    let events: Vec<_> = (0..5).map(placed).collect();
    for event in &events {
        on.publish(event).await;
    }
    let stuck = events[2].event_id;
    let started = Arc::new(Notify::new());
    let hangs = Arc::clone(&started);
    let doomed = on.spawn(
        config(STREAM, GROUP),
        applying(move |event| {
            let started = Arc::clone(&hangs);
            async move {
                if event.event_id == stuck {
                    started.notify_one();
                    // Hangs mid-handler until the process "dies".
                    std::future::pending::<()>().await;
                }
                Ok(())
            }
        }),
    );
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("the stuck entry reaches its handler");
    doomed.kill().await;
    assert!(
        pending(on.redis.clone(), on.keys.key(STREAM)).await >= 1,
        "the stuck entry is still pending"
    );

    let survivor = on.spawn(config(STREAM, GROUP), applying(|_| async { Ok(()) }));

    let db = &on.db;
    wait_until(
        Duration::from_secs(30),
        "the survivor reclaims and applies everything",
        || {
            let (redis, stream) = (on.redis.clone(), on.keys.key(STREAM));
            async move { db.all_effects().await == 5 && pending(redis, stream).await == 0 }
        },
    )
    .await;
    survivor.stop().await;
    for event in &events {
        assert_eq!(on.db.effects(event.event_id).await, 1);
    }
}
