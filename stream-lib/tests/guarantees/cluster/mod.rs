//! The cluster subset of the guarantees, on a real three-master Redis Cluster started on
//! loopback ports ([`RedisCluster`]): every script and `MULTI` (scripts.rs), the consumer
//! (consumer.rs), the outbox relay and its recovery (outbox.rs) and `stream-admin` (admin.rs).
//! Redis refuses a script or transaction over keys of several slots (`CROSSSLOT`), so these pass
//! only if every key one of them touches shares its stream's hash tag (`orders_stream` and
//! `{orders_stream}:...` are in one slot).

mod admin;
mod consumer;
mod outbox;
mod scripts;

use redis::{Value, cluster_async::ClusterConnection};
use stream_lib::{ConsumerSettings, StreamKeys, StreamRedis};
use uuid::Uuid;
use web_kit::testing::RedisCluster;

use crate::helpers::{Running, STREAM, TestDb, spawn_with};

const GROUP: &str = "products-service";

/// The hash slot of `key`.
async fn slot(connection: &mut ClusterConnection, key: &str) -> i64 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap()
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
