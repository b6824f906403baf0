//! The transactional outbox and its relay.

use std::{collections::HashSet, sync::Arc, time::Duration};

use redis::AsyncCommands;
use stream_lib::{
    Envelope, StreamKeys,
    outbox::{self, OutboxRelay, RelayConfig},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

fn stream_redis(url: &str) -> stream_lib::StreamRedis {
    stream_lib::StreamRedis::node(url).unwrap()
}

fn relay_config() -> RelayConfig {
    RelayConfig {
        batch_size: 64,
        poll_interval: Duration::from_millis(100),
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        retention: Duration::from_secs(3600),
        check_interval: Duration::from_millis(200),
        ..RelayConfig::default()
    }
}

fn start_relay(
    db: &TestDb,
    streams: stream_lib::StreamRedis,
    keys: &StreamKeys,
    config: RelayConfig,
) -> (CancellationToken, JoinHandle<()>) {
    logs();
    let shutdown = CancellationToken::new();
    let relay = OutboxRelay::new(db.pool.clone(), streams, keys.clone(), config);
    (shutdown.clone(), tokio::spawn(relay.run(shutdown)))
}

async fn stop(relay: (CancellationToken, JoinHandle<()>)) {
    relay.0.cancel();
    tokio::time::timeout(Duration::from_secs(5), relay.1)
        .await
        .expect("the relay stops on the token")
        .unwrap();
}

async fn enqueue(db: &TestDb, event: &Envelope, commit: bool) {
    let mut transaction = web_kit::db::begin(&db.pool).await.unwrap();
    OUTBOX
        .enqueue_envelopes(&mut transaction, std::slice::from_ref(event))
        .await
        .unwrap();
    if commit {
        transaction.commit().await.unwrap();
    } else {
        transaction.rollback().await.unwrap();
    }
}

async fn unpublished(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn stream_event_ids(redis: &TestRedis) -> Vec<String> {
    let mut connection = redis.connection.clone();
    let reply: redis::streams::StreamRangeReply =
        connection.xrange_all(redis.key(STREAM)).await.unwrap();
    reply
        .ids
        .iter()
        .map(|entry| entry.get::<String>("event_id").unwrap())
        .collect()
}

#[tokio::test]
async fn a_rolled_back_transaction_publishes_nothing_and_a_committed_one_is_published_once() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("outbox_rollback").await;
    let rolled_back = placed(1);
    let committed = placed(2);
    enqueue(&db, &rolled_back, false).await;
    enqueue(&db, &committed, true).await;

    let relay = start_relay(&db, stream_redis(&redis_url()), &redis.keys, relay_config());
    wait_until(
        Duration::from_secs(10),
        "the committed event is published",
        || async { redis.xlen(STREAM).await == 1 && unpublished(&db).await == 0 },
    )
    .await;
    // A later commit is picked up too (NOTIFY or poll).
    let later = placed(3);
    enqueue(&db, &later, true).await;
    wait_until(
        Duration::from_secs(10),
        "the later event is published",
        || async { redis.xlen(STREAM).await == 2 },
    )
    .await;
    stop(relay).await;

    assert_eq!(
        stream_event_ids(&redis).await,
        vec![committed.event_id.to_string(), later.event_id.to_string()]
    );
    let mut connection = redis.connection.clone();
    let reply: redis::streams::StreamRangeReply =
        connection.xrange_all(redis.key(STREAM)).await.unwrap();
    let fields: Vec<(&str, String)> = reply.ids[0]
        .map
        .iter()
        .map(|(name, value)| {
            (
                name.as_str(),
                redis::from_redis_value_ref::<String>(value).unwrap(),
            )
        })
        .collect();
    let decoded = Envelope::from_fields(fields.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
    assert_eq!(decoded.event_id, committed.event_id);
    assert_eq!(decoded.event_type, committed.event_type);
    assert_eq!(decoded.correlation_id, committed.correlation_id);
    assert_eq!(decoded.payload, committed.payload);
}

#[tokio::test]
async fn duplicates_from_a_relay_crash_after_xadd_are_absorbed_by_the_inbox() {
    let redis = TestRedis::new().await;
    let db = Arc::new(TestDb::new("outbox_dup").await);
    let event = placed(1);
    enqueue(&db, &event, true).await;
    let relay = start_relay(&db, stream_redis(&redis_url()), &redis.keys, relay_config());
    wait_until(
        Duration::from_secs(10),
        "the event is published",
        || async { unpublished(&db).await == 0 },
    )
    .await;
    stop(relay).await;
    // The relay "crashed" after its XADD and before its UPDATE committed.
    sqlx::query("UPDATE outbox SET published_at = NULL")
        .execute(&db.pool)
        .await
        .unwrap();
    let relay = start_relay(&db, stream_redis(&redis_url()), &redis.keys, relay_config());
    wait_until(
        Duration::from_secs(10),
        "the event is published again",
        || async { redis.xlen(STREAM).await == 2 },
    )
    .await;
    stop(relay).await;

    let consumer = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        applying(|_event: Envelope| async { Ok(()) }),
    );
    wait_until(
        Duration::from_secs(10),
        "both copies are acked (the inbox skips the second)",
        || async {
            db.effects(event.event_id).await == 1 && redis.pending(STREAM, GROUP).await == 0
        },
    )
    .await;
    consumer.stop().await;
    assert_eq!(db.effects(event.event_id).await, 1);
}

#[tokio::test]
async fn two_relays_publish_every_row_exactly_once() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("outbox_two_relays").await;
    let events: Vec<Envelope> = (0..600).map(placed).collect();
    let mut transaction = web_kit::db::begin(&db.pool).await.unwrap();
    for event in &events {
        OUTBOX
            .enqueue_envelopes(&mut transaction, std::slice::from_ref(event))
            .await
            .unwrap();
    }
    transaction.commit().await.unwrap();
    let mut config = relay_config();
    config.batch_size = 50;
    let first = start_relay(&db, stream_redis(&redis_url()), &redis.keys, config.clone());
    let second = start_relay(&db, stream_redis(&redis_url()), &redis.keys, config);
    wait_until(
        Duration::from_secs(20),
        "every row is published",
        || async { unpublished(&db).await == 0 },
    )
    .await;
    stop(first).await;
    stop(second).await;
    let published = stream_event_ids(&redis).await;
    assert_eq!(published.len(), 600);
    let distinct: HashSet<&String> = published.iter().collect();
    assert_eq!(distinct.len(), 600);
    let expected: HashSet<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(distinct, expected.iter().collect());
}

#[tokio::test]
async fn the_relay_backs_off_while_redis_is_down_and_still_stops_on_the_token() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("outbox_redis_down").await;
    let event = placed(1);
    enqueue(&db, &event, true).await;
    // Nothing listens on port 1.
    let dead = start_relay(
        &db,
        stream_redis("redis://127.0.0.1:1"),
        &redis.keys,
        relay_config(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!dead.1.is_finished(), "the relay keeps trying");
    stop(dead).await;
    assert_eq!(unpublished(&db).await, 1, "the row waits for Redis");

    let relay = start_relay(&db, stream_redis(&redis_url()), &redis.keys, relay_config());
    wait_until(
        Duration::from_secs(10),
        "the row is published once Redis is back",
        || async { unpublished(&db).await == 0 },
    )
    .await;
    stop(relay).await;
    assert_eq!(
        stream_event_ids(&redis).await,
        vec![event.event_id.to_string()]
    );
}

#[tokio::test]
async fn published_rows_past_retention_are_purged() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("outbox_purge").await;
    enqueue(&db, &placed(1), true).await;
    let mut config = relay_config();
    config.retention = Duration::ZERO;
    let relay = start_relay(&db, stream_redis(&redis_url()), &redis.keys, config);
    wait_until(
        Duration::from_secs(10),
        "the published row is purged",
        || async {
            let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
                .fetch_one(&db.pool)
                .await
                .unwrap();
            rows == 0
        },
    )
    .await;
    stop(relay).await;
    assert_eq!(redis.xlen(STREAM).await, 1);
}

#[tokio::test]
async fn enqueued_envelopes_keep_every_field_in_order() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("outbox_many").await;
    let events = vec![
        Envelope::new(PLACED, "svc-a", "req-a", &serde_json::json!({"a": 1})).unwrap(),
        Envelope::new("order.cancelled", "svc-b", "req-b", &serde_json::json!([2])).unwrap(),
    ];
    let mut transaction = web_kit::db::begin(&db.pool).await.unwrap();
    OUTBOX
        .enqueue_envelopes(&mut transaction, &events)
        .await
        .unwrap();
    transaction.commit().await.unwrap();
    let relay = start_relay(&db, stream_redis(&redis_url()), &redis.keys, relay_config());
    wait_until(Duration::from_secs(10), "both are published", || async {
        redis.xlen(STREAM).await == 2
    })
    .await;
    stop(relay).await;
    let mut connection = redis.connection.clone();
    let reply: redis::streams::StreamRangeReply =
        connection.xrange_all(redis.key(STREAM)).await.unwrap();
    for (entry, event) in reply.ids.iter().zip(&events) {
        let fields: Vec<(String, String)> = entry
            .map
            .iter()
            .map(|(k, v)| (k.clone(), redis::from_redis_value_ref(v).unwrap()))
            .collect();
        let decoded =
            Envelope::from_fields(fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        assert_eq!(decoded.event_id, event.event_id);
        assert_eq!(decoded.event_type, event.event_type);
        assert_eq!(decoded.source, event.source);
        assert_eq!(decoded.correlation_id, event.correlation_id);
        assert_eq!(decoded.payload, event.payload);
        // PostgreSQL keeps microseconds.
        let drift = (decoded.occurred_at - event.occurred_at).abs();
        assert!(drift < time::Duration::milliseconds(1), "{drift}");
    }
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Placed {
    n: u64,
}

impl stream_lib::Event for Placed {
    const TYPE: &'static str = PLACED;
}

const OUTBOX: outbox::Outbox = outbox::Outbox::new("orders-service", STREAM);

async fn stream_envelopes(redis: &TestRedis) -> Vec<Envelope> {
    let mut connection = redis.connection.clone();
    let reply: redis::streams::StreamRangeReply =
        connection.xrange_all(redis.key(STREAM)).await.unwrap();
    reply
        .ids
        .iter()
        .map(|entry| {
            let fields: Vec<(String, String)> = entry
                .map
                .iter()
                .map(|(k, v)| (k.clone(), redis::from_redis_value_ref(v).unwrap()))
                .collect();
            Envelope::from_fields(fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn the_typed_outbox_enqueues_events_of_its_source_and_stream_in_order() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("outbox_typed").await;
    let mut transaction = web_kit::db::begin(&db.pool).await.unwrap();
    let first = OUTBOX
        .enqueue(&mut transaction, "req-typed", &Placed { n: 1 })
        .await
        .unwrap();
    let rest = OUTBOX
        .enqueue_all(
            &mut transaction,
            "req-typed",
            &[Placed { n: 2 }, Placed { n: 3 }],
        )
        .await
        .unwrap();
    assert!(
        OUTBOX
            .enqueue_all::<Placed>(&mut transaction, "req-typed", &[])
            .await
            .unwrap()
            .is_empty()
    );
    transaction.commit().await.unwrap();
    let relay = start_relay(&db, stream_redis(&redis_url()), &redis.keys, relay_config());
    wait_until(
        Duration::from_secs(10),
        "all three are published",
        || async { redis.xlen(STREAM).await == 3 },
    )
    .await;
    stop(relay).await;

    let published = stream_envelopes(&redis).await;
    let ids: Vec<_> = published.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, [vec![first], rest].concat());
    for (envelope, n) in published.iter().zip(1..) {
        assert_eq!(envelope.event_type, PLACED);
        assert_eq!(envelope.source, "orders-service");
        assert_eq!(envelope.correlation_id, "req-typed");
        assert_eq!(envelope.decode::<Placed>().unwrap(), Placed { n });
    }
}

/// How many publishing rounds wrote the rows: a round marks its rows with its transaction's
/// `now()`.
async fn rounds(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(DISTINCT published_at) FROM outbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn commits_made_while_the_relay_is_busy_go_out_together_in_rounds_a_linger_apart() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("outbox_linger").await;
    // Long beside a commit, even on a loaded machine; no poll rounds.
    let linger = Duration::from_millis(500);
    let config = RelayConfig {
        linger,
        poll_interval: Duration::from_secs(30),
        ..relay_config()
    };
    let relay = start_relay(&db, stream_redis(&redis_url()), &redis.keys, config);
    let started = std::time::Instant::now();
    let commits = 120;
    for n in 0..commits {
        enqueue(&db, &placed(n), true).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let enqueuing = started.elapsed();
    wait_until(
        Duration::from_secs(10),
        "every row is published",
        || async { redis.xlen(STREAM).await == commits },
    )
    .await;
    stop(relay).await;

    // One round per linger while the commits came (and the first at once), not one per commit.
    let ms = |duration: Duration| i64::try_from(duration.as_millis()).unwrap();
    let bound = ms(enqueuing) / ms(linger) + 3;
    assert!(
        bound < commits as i64 / 2,
        "the arrangement is too slow to tell: {enqueuing:?}"
    );
    let rounds = rounds(&db.pool).await;
    assert!(
        rounds <= bound,
        "{rounds} publishing rounds for {commits} commits in {enqueuing:?}"
    );
    assert_eq!(unpublished(&db).await, 0);
}

#[tokio::test]
async fn an_idle_relay_publishes_a_commit_at_once_whatever_its_linger() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("outbox_idle_linger").await;
    let linger = Duration::from_secs(2);
    let config = RelayConfig {
        linger,
        // No poll rescues a late round: the notification alone must wake it.
        poll_interval: Duration::from_secs(30),
        ..relay_config()
    };
    let relay = start_relay(&db, stream_redis(&redis_url()), &redis.keys, config);
    enqueue(&db, &placed(1), true).await;
    wait_until(
        Duration::from_secs(10),
        "the first is published",
        || async { redis.xlen(STREAM).await == 1 },
    )
    .await;
    // The relay has been idle for longer than its linger.
    tokio::time::sleep(linger + Duration::from_millis(200)).await;

    let started = std::time::Instant::now();
    enqueue(&db, &placed(2), true).await;
    wait_until(
        Duration::from_secs(10),
        "the second is published",
        || async { redis.xlen(STREAM).await == 2 },
    )
    .await;
    let took = started.elapsed();
    stop(relay).await;
    assert!(took < linger / 2, "published {took:?} after its commit");
}
