//! The cluster subset: every Lua script and `MULTI` of the consumer and the outbox relay, with
//! the real key names of each stream, run on a real three-master Redis Cluster. Redis refuses a
//! script or transaction over keys of several slots (`CROSSSLOT`), so these pass only if every
//! key one of them touches shares its stream's hash tag (`orders_stream` and
//! `{orders_stream}:...` are in one slot).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use redis::{
    Script, Value,
    cluster_async::ClusterConnection,
    cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr},
};
use stream_lib::{
    ConsumerSettings, DEAD_LETTER_STREAM, INVENTORY_STREAM, ORDERS_STREAM, StreamKeys, StreamRedis,
    outbox::recovery::epoch_key,
};
use uuid::Uuid;
use web_kit::testing::RedisCluster;

use crate::helpers::{Running, STREAM, TestDb, applying, config, placed, spawn_with, wait_until};

const GROUP: &str = "products-service";
const CONSUMER: &str = "replica-1";

fn script(source: &str) -> Script {
    Script::new(source)
}

async fn slot(connection: &mut ClusterConnection, key: &str) -> i64 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_script_and_transaction_of_a_stream_runs_on_a_cluster() {
    let cluster = RedisCluster::start().await;
    let client = redis::cluster::ClusterClient::new(cluster.urls()).unwrap();
    let mut redis = client.get_async_connection().await.unwrap();
    let keys = StreamKeys::new(format!("slcluster-{}:", Uuid::new_v4().simple()));

    for stream in [ORDERS_STREAM, INVENTORY_STREAM, DEAD_LETTER_STREAM] {
        let stream_key = keys.key(stream);
        let retries = keys.retries(stream, GROUP);
        let attempts = keys.attempts(stream, GROUP);
        let epoch = epoch_key(&keys, stream);
        let home = slot(&mut redis, &stream_key).await;
        for key in [&retries, &attempts, &epoch] {
            assert_eq!(
                slot(&mut redis, key).await,
                home,
                "{key} is in {stream_key}'s slot"
            );
        }

        // The relay's publish: the check alone (no entries), then one entry.
        let () = redis::cmd("SET")
            .arg(&epoch)
            .arg("e1")
            .query_async(&mut redis)
            .await
            .unwrap();
        let checked: Value = script(include_str!("../../src/outbox/publish.lua"))
            .key(&stream_key)
            .key(&epoch)
            .arg("e1")
            .arg(0)
            .arg(0)
            .arg(2)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        assert!(format!("{checked:?}").contains("ok"), "{checked:?}");
        let published: Value = script(include_str!("../../src/outbox/publish.lua"))
            .key(&stream_key)
            .key(&epoch)
            .arg("e1")
            .arg(0)
            .arg(0)
            .arg(2)
            .arg("type")
            .arg("order.placed")
            .invoke_async(&mut redis)
            .await
            .unwrap();
        let Value::Array(reply) = &published else {
            panic!("{published:?}")
        };
        let id = match &reply[3] {
            Value::BulkString(id) => String::from_utf8(id.clone()).unwrap(),
            other => panic!("an entry id: {other:?}"),
        };

        // The consumer's group and a delivery to this replica.
        let () = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream_key)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut redis)
            .await
            .unwrap();
        let _: Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(CONSUMER)
            .arg("COUNT")
            .arg(10)
            .arg("STREAMS")
            .arg(&stream_key)
            .arg(">")
            .query_async(&mut redis)
            .await
            .unwrap();

        // Its scripts, each over the stream and its hash-tagged retry keys.
        let scheduled: Vec<i64> = script(include_str!("../../src/lua/schedule_retry.lua"))
            .key(&stream_key)
            .key(&retries)
            .key(&attempts)
            .arg(GROUP)
            .arg(CONSUMER)
            .arg(&id)
            .arg(1)
            .arg(8)
            .arg(1000)
            .arg(2.0)
            .arg(60_000)
            .arg(1.0)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(
            scheduled,
            [1, 1000],
            "owned by this replica: retry in base ms"
        );
        let _: Value = script(include_str!("../../src/lua/claim_due.lua"))
            .key(&stream_key)
            .key(&retries)
            .key(&attempts)
            .arg(GROUP)
            .arg(CONSUMER)
            .arg(10)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        let _: Value = script(include_str!("../../src/lua/reclaim.lua"))
            .key(&stream_key)
            .key(&retries)
            .key(&attempts)
            .arg(GROUP)
            .arg(CONSUMER)
            .arg(0)
            .arg("0-0")
            .arg(10)
            .arg(100)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        let _: Value = script(include_str!("../../src/lua/touch.lua"))
            .key(&stream_key)
            .arg(GROUP)
            .arg(CONSUMER)
            .arg(0)
            .arg(&id)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        let _: Value = script(include_str!("../../src/lua/forget_consumers.lua"))
            .key(&stream_key)
            .arg(GROUP)
            .arg(CONSUMER)
            .arg(3_600_000)
            .invoke_async(&mut redis)
            .await
            .unwrap();

        // The ack: XACK and the attempt count's HDEL in one transaction.
        let () = redis::pipe()
            .atomic()
            .cmd("XACK")
            .arg(&stream_key)
            .arg(GROUP)
            .arg(&id)
            .ignore()
            .cmd("HDEL")
            .arg(&attempts)
            .arg(&id)
            .ignore()
            .query_async(&mut redis)
            .await
            .unwrap();
        let _: Value = script(include_str!("../../src/lua/trim.lua"))
            .key(&stream_key)
            .invoke_async(&mut redis)
            .await
            .unwrap();
        let pending: Value = redis::cmd("XPENDING")
            .arg(&stream_key)
            .arg(GROUP)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(
            matches!(&pending, Value::Array(summary) if summary.first() == Some(&Value::Int(0))),
            "acked: {pending:?}"
        );

        let () = redis::cmd("DEL")
            .arg(&stream_key)
            .query_async(&mut redis)
            .await
            .unwrap();
        for key in [&retries, &attempts, &epoch] {
            let () = redis::cmd("DEL")
                .arg(key)
                .query_async(&mut redis)
                .await
                .unwrap();
        }
    }
}

/// A cluster of its own with a database, the consumer's keys and a connection to the cluster.
struct OnCluster {
    cluster: RedisCluster,
    redis: ClusterConnection,
    keys: StreamKeys,
    db: TestDb,
}

impl OnCluster {
    async fn start(label: &str) -> Self {
        Self::on(RedisCluster::start().await, label).await
    }

    async fn on(cluster: RedisCluster, label: &str) -> Self {
        let redis = redis::cluster::ClusterClient::new(cluster.urls())
            .unwrap()
            .get_async_connection()
            .await
            .unwrap();
        Self {
            cluster,
            redis,
            keys: StreamKeys::new(format!("slcluster-{}:", Uuid::new_v4().simple())),
            db: TestDb::new(label).await,
        }
    }

    fn stream_redis(&self) -> StreamRedis {
        StreamRedis::new("redis://127.0.0.1:1", &self.cluster.urls()).unwrap()
    }

    fn spawn(&self, config: ConsumerSettings, handlers: stream_lib::Handlers) -> Running {
        spawn_with(self.stream_redis(), &self.keys, &self.db, config, handlers)
    }

    async fn publish(&mut self, event: &stream_lib::Envelope) -> String {
        let mut xadd = redis::cmd("XADD");
        xadd.arg(self.keys.key(STREAM)).arg("*");
        for (name, value) in event.to_fields() {
            xadd.arg(name).arg(value);
        }
        xadd.query_async(&mut self.redis).await.unwrap()
    }
}

/// How many entries of `stream` the group has not acked.
async fn pending(mut redis: ClusterConnection, stream: String) -> u64 {
    let summary: Value = redis::cmd("XPENDING")
        .arg(stream)
        .arg(GROUP)
        .query_async(&mut redis)
        .await
        .unwrap();
    match summary {
        Value::Array(items) => match items.first() {
            Some(Value::Int(count)) => *count as u64,
            _ => 0,
        },
        _ => 0,
    }
}

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

#[tokio::test]
async fn shutdown_during_a_30_s_blocking_read_on_a_cluster_returns_within_a_second() {
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
    let mut config = config(STREAM, GROUP);
    assert_eq!(config.block, Duration::from_secs(30));
    config.shutdown_grace = Duration::from_secs(5);
    let running = on.spawn(config, applying(|_| async { Ok(()) }));
    // A cluster of its own: the only blocked client on the stream's master is the consumer's
    // read.
    let mut redis = on.redis.clone();
    let stream = on.keys.key(STREAM);
    wait_until(
        Duration::from_secs(20),
        "the consumer blocks on its read",
        || {
            let mut redis = redis.clone();
            let stream = stream.clone();
            async move {
                let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
                    Route::with_key(&stream, SlotAddr::Master),
                ));
                let mut info = redis::cmd("INFO");
                info.arg("clients");
                let info: String =
                    redis::from_redis_value(redis.route_command(info, route).await.unwrap())
                        .unwrap();
                info.lines().any(|line| line.trim() == "blocked_clients:1")
            }
        },
    )
    .await;

    let started = Instant::now();
    running.stop().await;
    let took = started.elapsed();
    // Without CLIENT UNBLOCK on the stream's master the read only gives up after 1 s.
    assert!(took < Duration::from_millis(900), "shutdown took {took:?}");
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
