//! Test fixtures over web-kit's test kit: a Redis key prefix of the test's own (deleted at the
//! end) with stream helpers, a throw-away database with the outbox, inbox and an effects table,
//! typed handlers built from closures.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use redis::{AsyncCommands, aio::MultiplexedConnection};
use sqlx::{Executor, PgPool};
use stream_lib::{
    ConsumerSettings, Envelope, Event, HandlerError, Handlers, RetryPolicy, StreamKeys,
    StreamRedis, Tx, consumer::Consumer, inbox, outbox::OUTBOX_TABLE_SQL,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
pub use web_kit::testing::{PrivateRedis, redis_url, wait_until};
use web_kit::testing::{RedisPrefix, TestDatabase};

pub const STREAM: &str = stream_lib::ORDERS_STREAM;
pub const GROUP: &str = "products-service";
pub const PLACED: &str = "order.placed";
/// The test's outbox (envelopes keep the source they were made with).
pub const OUTBOX: stream_lib::outbox::Outbox =
    stream_lib::outbox::Outbox::new("orders-service", STREAM);

/// A unique key prefix on the shared Redis; every key under it is deleted when the value is
/// dropped.
pub struct TestRedis {
    pub keys: StreamKeys,
    pub connection: MultiplexedConnection,
    _prefix: RedisPrefix,
}

impl TestRedis {
    pub async fn new() -> Self {
        let prefix = RedisPrefix::new("streams");
        let keys = StreamKeys::new(prefix.as_str());
        let client = redis::Client::open(prefix.url()).unwrap();
        let config =
            redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(10)));
        let connection = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .unwrap();
        Self {
            keys,
            connection,
            _prefix: prefix,
        }
    }

    pub fn key(&self, name: &str) -> String {
        self.keys.key(name)
    }

    /// XADDs `event`'s envelope to `stream`; returns the entry id.
    pub async fn publish(&self, stream: &str, event: &Envelope) -> String {
        self.publish_fields(stream, &event.to_fields()).await
    }

    pub async fn publish_fields(&self, stream: &str, fields: &[(&str, String)]) -> String {
        let mut connection = self.connection.clone();
        connection
            .xadd(self.key(stream), "*", fields)
            .await
            .unwrap()
    }

    pub async fn xlen(&self, stream: &str) -> u64 {
        let mut connection = self.connection.clone();
        connection.xlen(self.key(stream)).await.unwrap()
    }

    /// Entries of `group` on `stream` delivered but not acked.
    pub async fn pending(&self, stream: &str, group: &str) -> u64 {
        let mut connection = self.connection.clone();
        let reply: RedisResultValue = redis::cmd("XPENDING")
            .arg(self.key(stream))
            .arg(group)
            .query_async(&mut connection)
            .await;
        match reply {
            Ok(redis::Value::Array(parts)) => match parts.first() {
                Some(redis::Value::Int(count)) => u64::try_from(*count).unwrap(),
                _ => 0,
            },
            _ => 0,
        }
    }

    /// The ids of entries pending for `group`.
    pub async fn pending_ids(&self, stream: &str, group: &str) -> Vec<String> {
        let mut connection = self.connection.clone();
        let reply: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
            .arg(self.key(stream))
            .arg(group)
            .arg("-")
            .arg("+")
            .arg(10_000)
            .query_async(&mut connection)
            .await
            .unwrap_or_default();
        reply.into_iter().map(|(id, ..)| id).collect()
    }

    pub async fn dead_letters(&self) -> Vec<stream_lib::admin::DeadLetter> {
        let mut connection = self.connection.clone();
        stream_lib::admin::dead_letters(&mut connection, &self.keys, 100_000)
            .await
            .unwrap()
    }
}

type RedisResultValue = redis::RedisResult<redis::Value>;

/// A database with the outbox, inbox and an `effects` table (no unique key: a duplicate effect
/// shows as a second row).
pub struct TestDb {
    pub pool: PgPool,
    /// The database's name (for `ALTER DATABASE` in outage tests).
    pub name: String,
    _database: TestDatabase,
}

impl TestDb {
    pub async fn new(label: &str) -> Self {
        let database = TestDatabase::create(label).await.unwrap();
        let pool = PgPool::connect(database.url()).await.unwrap();
        pool.execute(sqlx::raw_sql(OUTBOX_TABLE_SQL)).await.unwrap();
        pool.execute(sqlx::raw_sql(stream_lib::outbox::OUTBOX_TRACEPARENT_SQL))
            .await
            .unwrap();
        pool.execute(sqlx::raw_sql(stream_lib::outbox::OUTBOX_STREAMS_TABLE_SQL))
            .await
            .unwrap();
        pool.execute(sqlx::raw_sql(inbox::INBOX_TABLE_SQL))
            .await
            .unwrap();
        pool.execute("CREATE TABLE effects (seq BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL, txid BIGINT NOT NULL DEFAULT txid_current(), applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            .await
            .unwrap();
        Self {
            pool,
            name: database.name().to_owned(),
            _database: database,
        }
    }

    pub async fn effects(&self, event_id: Uuid) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM effects WHERE event_id = $1")
            .bind(event_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Transactions that wrote effects (distinct transaction ids).
    pub async fn transactions(&self) -> i64 {
        sqlx::query_scalar("SELECT count(DISTINCT txid) FROM effects")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// The event ids of the effects in the order they were written.
    pub async fn effect_order(&self) -> Vec<Uuid> {
        sqlx::query_scalar("SELECT event_id FROM effects ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    pub async fn all_effects(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM effects")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// The test's typed event: `order.placed` with a number and, for ordering tests, an aggregate.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Placed {
    pub n: u64,
    #[serde(default)]
    pub order_id: Option<Uuid>,
}

impl Event for Placed {
    const TYPE: &'static str = PLACED;

    fn aggregate_id(&self) -> Option<Uuid> {
        self.order_id
    }
}

/// Handlers of `order.placed` made of a closure over the envelope (effects outside the
/// transaction: a [`Ledger`] sees every call, rolled back or not).
pub fn on_placed<F, Fut>(function: F) -> Handlers
where
    F: Fn(Envelope) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    Handlers::new().on_fn(move |_tx: &mut Tx, _event: Placed, meta: &Envelope| {
        Box::pin(function(meta.clone()))
    })
}

/// Handlers of `order.placed` that write the effect row in the batch transaction, after
/// `before` (which may fail, hang or record).
pub fn applying<F, Fut>(before: F) -> Handlers
where
    F: Fn(Envelope) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    let before = Arc::new(before);
    Handlers::new().on_fn(move |tx: &mut Tx, _event: Placed, meta: &Envelope| {
        let before = Arc::clone(&before);
        Box::pin(async move {
            before(meta.clone()).await?;
            effect(tx, meta.event_id).await
        })
    })
}

/// Writes the effect of `event_id` in the transaction (with the transaction's id).
pub async fn effect(tx: &mut Tx, event_id: Uuid) -> Result<(), HandlerError> {
    sqlx::query("INSERT INTO effects (event_id) VALUES ($1)")
        .bind(event_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Every invocation per event id, with its time.
#[derive(Clone, Default)]
pub struct Ledger(Arc<Mutex<HashMap<Uuid, Vec<Instant>>>>);

impl Ledger {
    /// Handlers of `order.placed` that record every event they are given and succeed.
    pub fn recorder(&self) -> Handlers {
        let ledger = self.clone();
        on_placed(move |event: Envelope| {
            let ledger = ledger.clone();
            async move {
                ledger.record(event.event_id);
                Ok(())
            }
        })
    }

    /// Records an invocation; returns its number (1 for the first).
    pub fn record(&self, event_id: Uuid) -> usize {
        let mut calls = self.0.lock().unwrap();
        let entry = calls.entry(event_id).or_default();
        entry.push(Instant::now());
        entry.len()
    }

    pub fn calls(&self, event_id: Uuid) -> Vec<Instant> {
        self.0
            .lock()
            .unwrap()
            .get(&event_id)
            .cloned()
            .unwrap_or_default()
    }

    pub fn count(&self, event_id: Uuid) -> usize {
        self.calls(event_id).len()
    }

    pub fn total(&self) -> usize {
        self.0.lock().unwrap().values().map(Vec::len).sum()
    }
}

/// Small timings so the suite stays fast.
pub fn config(stream: &str, group: &str) -> ConsumerSettings {
    let mut config = ConsumerSettings::new(stream, group);
    // Far longer than any wait below: shutdown must unblock the read, not wait for it.
    config.block = Duration::from_secs(30);
    config.retry = RetryPolicy {
        base: Duration::from_millis(20),
        factor: 2.0,
        cap: Duration::from_secs(1),
        max_attempts: 4,
        jitter: 0.0,
    };
    // Long enough that a heartbeat delayed by a loaded machine does not hand an entry over.
    config.claim_idle = Duration::from_secs(2);
    config.handler_deadline = Duration::from_secs(8);
    config.shutdown_grace = Duration::from_secs(2);
    config.maintenance_interval = Duration::from_millis(300);
    config
}

/// A fresh consumer name for another process of the same group.
pub fn renamed(config: &ConsumerSettings) -> ConsumerSettings {
    let mut config = config.clone();
    config.consumer = format!("{}-{}", config.group, Uuid::now_v7().simple());
    config
}

pub struct Running {
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), stream_lib::consumer::ConsumerError>>,
}

impl Running {
    /// Graceful stop; returns once `run` returned.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), &mut self.task)
            .await
            .expect("the consumer stops within its grace period")
            .unwrap()
            .unwrap();
    }

    /// Simulates a crash: the task is dropped mid-flight, nothing is acked or released.
    pub async fn kill(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

/// A test that fails mid-way must not leave a consumer re-creating the keys it deletes.
impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.task.abort();
    }
}

pub fn spawn(
    redis: &TestRedis,
    db: &TestDb,
    config: ConsumerSettings,
    handlers: Handlers,
) -> Running {
    spawn_on(&redis_url(), &redis.keys, db, config, handlers)
}

pub fn spawn_on(
    url: &str,
    keys: &StreamKeys,
    db: &TestDb,
    config: ConsumerSettings,
    handlers: Handlers,
) -> Running {
    spawn_with(StreamRedis::node(url).unwrap(), keys, db, config, handlers)
}

/// A consumer of `redis`, a server or a cluster.
pub fn spawn_with(
    redis: StreamRedis,
    keys: &StreamKeys,
    db: &TestDb,
    config: ConsumerSettings,
    handlers: Handlers,
) -> Running {
    logs();
    let consumer = Consumer::on(redis, keys.clone(), config, db.pool.clone(), handlers);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consumer.run(shutdown.clone()));
    Running { shutdown, task }
}

pub fn placed(n: u64) -> Envelope {
    Envelope::of(
        &Placed { n, order_id: None },
        "orders-service",
        format!("req-{n}"),
    )
    .unwrap()
}

/// Event `n` about order `order_id`.
pub fn placed_for(n: u64, order_id: Uuid) -> Envelope {
    Envelope::of(
        &Placed {
            n,
            order_id: Some(order_id),
        },
        "orders-service",
        format!("req-{n}"),
    )
    .unwrap()
}

/// Publishes `count` entries dealt round `aggregates` fresh orders; returns each entry's event
/// id with its (order, number), for [`assert_stream_order_per_aggregate`].
pub async fn publish_round_aggregates(
    redis: &TestRedis,
    count: u64,
    aggregates: usize,
) -> HashMap<Uuid, (Uuid, u64)> {
    let orders: Vec<Uuid> = (0..aggregates).map(|_| Uuid::now_v7()).collect();
    let mut position = HashMap::new();
    for n in 0..count {
        let order = orders[(n % aggregates as u64) as usize];
        let event = placed_for(n, order);
        position.insert(event.event_id, (order, n));
        redis.publish(STREAM, &event).await;
    }
    position
}

/// Asserts that the effects of every order were written in stream order.
pub async fn assert_stream_order_per_aggregate(db: &TestDb, position: &HashMap<Uuid, (Uuid, u64)>) {
    let mut last: HashMap<Uuid, u64> = HashMap::new();
    for event_id in db.effect_order().await {
        let (order, n) = position[&event_id];
        if let Some(previous) = last.insert(order, n) {
            assert!(previous < n, "order {order}: {n} applied after {previous}");
        }
    }
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn logs() {
    web_kit::telemetry::init_for_tests();
}
