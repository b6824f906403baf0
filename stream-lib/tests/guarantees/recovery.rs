//! Recovery when Redis lost data: the relay notices and republishes every row published within
//! its retention; the consumer's inbox absorbs the duplicates, so every event is applied exactly
//! once. Each test that flushes or restarts Redis runs its own redis-server.

use std::{sync::Arc, time::Duration};

use stream_lib::{
    ConsumerSettings, Envelope, HandlerError, Handlers, StreamKeys,
    outbox::{OutboxRelay, RelayConfig},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use web_kit::testing::PrivateRedis;

use crate::helpers::*;

fn relay_config() -> RelayConfig {
    RelayConfig {
        batch_size: 16,
        poll_interval: Duration::from_millis(100),
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        retention: Duration::from_secs(3600),
        check_interval: Duration::from_millis(200),
        ..RelayConfig::default()
    }
}

/// An outbox relay running until [`Relay::stop`].
pub struct Relay {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Relay {
    fn start(db: &TestDb, url: &str, keys: &StreamKeys) -> Self {
        Self::on(db, stream_lib::StreamRedis::node(url).unwrap(), keys)
    }

    /// A relay of `db`'s outbox to `redis`, a server or a cluster.
    pub fn on(db: &TestDb, redis: stream_lib::StreamRedis, keys: &StreamKeys) -> Self {
        logs();
        let relay = OutboxRelay::new(db.pool.clone(), redis, keys.clone(), relay_config());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(relay.run(shutdown.clone()));
        Self { shutdown, task }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .expect("the relay stops on the token")
            .unwrap();
    }
}

fn start_consumer(
    url: &str,
    keys: &StreamKeys,
    config: ConsumerSettings,
    db: &TestDb,
    handlers: Handlers,
) -> Running {
    spawn_on(url, keys, db, config, handlers)
}

pub async fn enqueue_events(db: &TestDb, from: u64, count: u64) -> Vec<Uuid> {
    let events: Vec<Envelope> = (from..from + count).map(placed).collect();
    let mut transaction = web_kit::db::begin(&db.pool).await.unwrap();
    OUTBOX
        .enqueue_envelopes(&mut transaction, &events)
        .await
        .unwrap();
    transaction.commit().await.unwrap();
    events.iter().map(|event| event.event_id).collect()
}

pub async fn unpublished(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn recovered(db: &TestDb) -> bool {
    sqlx::query_scalar("SELECT count(*) > 0 FROM outbox_streams WHERE recovered_at IS NOT NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// Every event id applied exactly once, nothing else.
pub async fn assert_applied_once(db: &TestDb, ids: &[Uuid]) {
    for id in ids {
        assert_eq!(db.effects(*id).await, 1, "event {id}");
    }
    assert_eq!(db.all_effects().await, ids.len() as i64);
}

async fn stream_field(
    connection: &mut impl redis::aio::ConnectionLike,
    key: &str,
    field: &str,
) -> String {
    let info: redis::Value = redis::cmd("XINFO")
        .arg("STREAM")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap_or(redis::Value::Nil);
    pairs(&info)
        .into_iter()
        .find(|(name, _)| name == field)
        .and_then(|(_, value)| redis::from_redis_value_ref::<String>(value).ok())
        .unwrap_or_default()
}

fn pairs(value: &redis::Value) -> Vec<(String, &redis::Value)> {
    match value {
        redis::Value::Map(pairs) => pairs
            .iter()
            .filter_map(|(k, v)| Some((redis::from_redis_value_ref::<String>(k).ok()?, v)))
            .collect(),
        redis::Value::Array(items) => items
            .chunks_exact(2)
            .filter_map(|pair| {
                Some((
                    redis::from_redis_value_ref::<String>(&pair[0]).ok()?,
                    &pair[1],
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The group has read the whole stream and acked everything it read.
async fn group_settled(connection: &mut impl redis::aio::ConnectionLike, key: &str) -> bool {
    let last = stream_field(&mut *connection, key, "last-generated-id").await;
    let groups: redis::Value = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap_or(redis::Value::Nil);
    let groups = match &groups {
        redis::Value::Array(groups) => groups.as_slice(),
        _ => &[],
    };
    groups.iter().any(|group| {
        let fields = pairs(group);
        let get = |name: &str| {
            fields
                .iter()
                .find(|(field, _)| field == name)
                .and_then(|(_, value)| redis::from_redis_value_ref::<String>(value).ok())
                .unwrap_or_default()
        };
        get("name") == GROUP && get("pending") == "0" && get("last-delivered-id") == last
    })
}

/// What both loss tests share: events applied, the consumer stopped, more events published, Redis
/// loses everything (`lose`), more events enqueued while it is empty, the consumer started again.
enum Lose {
    Flushall,
    EmptyRestart,
}

async fn every_event_is_applied_once_after(label: &str, lose: Lose) {
    let mut redis = PrivateRedis::start().await;
    let streams = stream_lib::StreamRedis::node(&redis.url()).unwrap();
    let db = TestDb::new(label).await;
    let keys = StreamKeys::new("recovery:");
    applied_once_after_a_loss(&db, streams, &keys, async || match lose {
        Lose::Flushall => {
            let () = redis::cmd("FLUSHALL")
                .query_async(&mut redis.connection().await)
                .await
                .unwrap();
        }
        Lose::EmptyRestart => redis.restart_empty().await,
    })
    .await;
}

/// The loss scenario on `redis`, a server or a cluster: 20 events applied, the consumer stopped,
/// 30 more published (in flight: on the stream, not read), Redis loses everything (`lose`), 10
/// more enqueued while it is empty, the relay recovers, the consumer starts again: every event is
/// applied exactly once, and the group reads and acks every republished entry.
pub async fn applied_once_after_a_loss(
    db: &TestDb,
    redis: stream_lib::StreamRedis,
    keys: &StreamKeys,
    lose: impl AsyncFnOnce(),
) {
    let key = keys.key(STREAM);
    let consume = || {
        spawn_with(
            redis.clone(),
            keys,
            db,
            config(STREAM, GROUP),
            applying(|_event: Envelope| async { Ok(()) }),
        )
    };
    let relay = Relay::on(db, redis.clone(), keys);
    let consumer = consume();

    let mut ids = enqueue_events(db, 0, 20).await;
    wait_until(
        Duration::from_secs(20),
        "the first events are applied",
        || async { db.all_effects().await == 20 },
    )
    .await;
    consumer.stop().await;
    ids.extend(enqueue_events(db, 20, 30).await);
    wait_until(
        Duration::from_secs(20),
        "the relay published them",
        || async { unpublished(db).await == 0 },
    )
    .await;

    lose().await;
    ids.extend(enqueue_events(db, 50, 10).await);
    wait_until(
        Duration::from_secs(30),
        "the relay notices and recovers",
        || async { recovered(db).await },
    )
    .await;
    let consumer = consume();
    let connection = redis.control().await.unwrap();
    wait_until(
        Duration::from_secs(30),
        "every event is applied",
        || async { db.all_effects().await >= 60 },
    )
    .await;
    wait_until(
        Duration::from_secs(30),
        "the republished entries are all read and acked",
        || {
            let mut connection = connection.clone();
            let key = &key;
            async move { unpublished(db).await == 0 && group_settled(&mut connection, key).await }
        },
    )
    .await;
    consumer.stop().await;
    relay.stop().await;
    assert_applied_once(db, &ids).await;
}

#[tokio::test]
async fn after_flushall_every_event_is_applied_exactly_once() {
    every_event_is_applied_once_after("recovery_flushall", Lose::Flushall).await;
}

#[tokio::test]
async fn after_an_empty_restart_on_the_same_port_every_event_is_applied_exactly_once() {
    every_event_is_applied_once_after("recovery_restart", Lose::EmptyRestart).await;
}

#[tokio::test]
async fn an_entry_waiting_for_its_retry_when_redis_loses_it_is_still_applied_once() {
    let redis = PrivateRedis::start().await;
    let keys = StreamKeys::new("recovery:");
    let db = Arc::new(TestDb::new("recovery_retry").await);
    let relay = Relay::start(&db, &redis.url(), &keys);
    let mut waiting = config(STREAM, GROUP);
    // Far beyond the test: only the republished copy can bring the event back.
    waiting.retry.base = Duration::from_secs(600);
    waiting.retry.cap = Duration::from_secs(600);
    let attempts = Ledger::default();
    let seen = attempts.clone();
    let flaky = move || {
        let seen = seen.clone();
        applying(move |event: Envelope| {
            let seen = seen.clone();
            async move {
                if seen.record(event.event_id) == 1 {
                    return Err(HandlerError::Transient(anyhow::anyhow!("not yet")));
                }
                Ok(())
            }
        })
    };
    let consumer = start_consumer(&redis.url(), &keys, waiting.clone(), &db, flaky());
    let ids = enqueue_events(&db, 0, 1).await;
    wait_until(
        Duration::from_secs(20),
        "the first attempt failed",
        || async { attempts.count(ids[0]) == 1 },
    )
    .await;
    consumer.stop().await;

    let () = redis::cmd("FLUSHALL")
        .query_async(&mut redis.connection().await)
        .await
        .unwrap();
    let consumer = start_consumer(&redis.url(), &keys, waiting, &db, flaky());
    wait_until(Duration::from_secs(30), "the event is applied", || async {
        db.effects(ids[0]).await == 1
    })
    .await;
    consumer.stop().await;
    relay.stop().await;
    assert_applied_once(&db, &ids).await;
}

#[tokio::test]
async fn a_stream_whose_last_id_went_backwards_is_republished_in_id_order() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("recovery_backwards").await;
    let relay = Relay::start(&db, &redis_url(), &redis.keys);
    let ids = enqueue_events(&db, 0, 40).await;
    wait_until(Duration::from_secs(20), "published", || async {
        redis.xlen(STREAM).await == 40
    })
    .await;
    // As after a failover to a replica that was behind: the epoch is there, the entries are not.
    let mut connection = redis.connection.clone();
    let () = redis::cmd("DEL")
        .arg(redis.key(STREAM))
        .query_async(&mut connection)
        .await
        .unwrap();
    let _: String = redis::cmd("XADD")
        .arg(redis.key(STREAM))
        .arg("1-1")
        .arg("junk")
        .arg("1")
        .query_async(&mut connection)
        .await
        .unwrap();
    wait_until(Duration::from_secs(20), "republished", || async {
        redis.xlen(STREAM).await == 41 && unpublished(&db).await == 0
    })
    .await;
    relay.stop().await;
    let reply: redis::streams::StreamRangeReply =
        redis::AsyncCommands::xrange_all(&mut connection, redis.key(STREAM))
            .await
            .unwrap();
    let republished: Vec<Uuid> = reply.ids[1..]
        .iter()
        .map(|entry| entry.get::<String>("event_id").unwrap().parse().unwrap())
        .collect();
    assert_eq!(republished, ids, "every row once, in id order");
}
