//! The first version's per-entry consumer, kept until both services use
//! [`crate::consumer::Consumer`]; deleted then. New code uses [`crate::consumer`].
//!
//! A consumer-group reader with every delivery guarantee: XACK only after the handler committed,
//! bounded concurrency, batched blocking reads on a dedicated connection, durable exponential
//! backoff, dead-lettering, reclaim of entries left by crashed consumers, graceful shutdown.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::{
        Arc, LazyLock,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use futures::{FutureExt, future::OptionFuture};
use redis::{
    AsyncConnectionConfig, RedisResult, Script, Value,
    aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection},
};
use tokio::{
    task::{self, JoinSet},
    time::MissedTickBehavior,
};
use tokio_util::sync::CancellationToken;

use crate::{
    DEAD_LETTER_STREAM, Envelope, StreamKeys,
    dead_letter::DEAD_LETTER_FIELDS,
    outbox::sleep_or_cancel,
    retry::Backoff,
    wire::{RawEntry, as_array, as_string, as_u64, is_nogroup, parse_entry, parse_read_reply},
};
pub use crate::{handler::HandlerError, retry::RetryPolicy};

/// What a consuming service implements.
pub trait Handler: Send + Sync + 'static {
    /// Whether this consumer handles `event_type`. Entries of other types are acked and skipped
    /// (forward compatibility), with a debug log.
    fn handles(&self, event_type: &str) -> bool;

    /// Applies the event. Record `event.event_id` in the inbox in the same transaction as the
    /// effect; return only once that transaction committed.
    fn handle(&self, event: &Envelope) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Logical stream name, e.g. [`crate::ORDERS_STREAM`].
    pub stream: String,
    /// The consumer group: the consuming service's name.
    pub group: String,
    /// This process's name in the group; unique per process.
    pub consumer: String,
    /// Entries per read (XREADGROUP COUNT).
    pub batch_size: usize,
    /// How long a read blocks (XREADGROUP BLOCK).
    pub block: Duration,
    /// Handlers running at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// An entry pending this long with no heartbeat is taken over from its consumer.
    pub claim_min_idle: Duration,
    /// How long shutdown waits for in-flight handlers.
    pub shutdown_grace: Duration,
    /// How often the stream is trimmed (below the oldest entry any group still needs) and the
    /// pending/lag gauges are refreshed.
    pub trim_interval: Duration,
}

impl ConsumerConfig {
    /// Defaults for `stream` read by `group`, with a unique consumer name.
    pub fn new(stream: &str, group: &str) -> Self {
        Self {
            stream: stream.to_owned(),
            group: group.to_owned(),
            consumer: format!("{group}-{}", uuid::Uuid::now_v7().simple()),
            batch_size: 64,
            block: Duration::from_secs(2),
            concurrency: 16,
            retry: RetryPolicy::default(),
            claim_min_idle: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            trim_interval: Duration::from_secs(30),
        }
    }
}

/// Why a consumer could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// A running member of a consumer group.
pub struct Consumer<H> {
    client: redis::Client,
    keys: StreamKeys,
    config: ConsumerConfig,
    handler: H,
}

impl<H: Handler> Consumer<H> {
    /// A consumer that opens its own connections from `redis_url`.
    pub fn new(
        redis_url: &str,
        keys: StreamKeys,
        config: ConsumerConfig,
        handler: H,
    ) -> Result<Self, ConsumerError> {
        Ok(Self {
            client: redis::Client::open(redis_url)?,
            keys,
            config,
            handler,
        })
    }

    /// Reads and handles entries until `shutdown` is cancelled; Redis outages are retried, not
    /// returned.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ConsumerError> {
        let Self {
            client,
            keys,
            config,
            handler,
        } = self;
        let shared = Arc::new(Shared::new(handler, &keys, &config));
        let Some(ctl) = connect_control(&client, &shutdown).await else {
            return Ok(());
        };
        let mut worker = Worker {
            shared,
            client,
            config,
            ctl,
            tasks: JoinSet::new(),
            task_entries: HashMap::new(),
            in_flight: HashSet::new(),
            acks: Vec::new(),
            read: None,
            backlog: VecDeque::new(),
            parked: HashMap::new(),
            stopping: false,
            reader_id: Arc::new(AtomicI64::new(0)),
            reader: None,
            read_backoff: Backoff::default(),
            read_paused_until: None,
            reclaim_cursor: "0-0".to_owned(),
        };
        if !worker.ensure_group_until_ok(&shutdown).await {
            return Ok(());
        }
        tracing::info!(
            stream = %worker.shared.stream,
            group = %worker.shared.group,
            consumer = %worker.shared.consumer,
            "consumer started"
        );
        worker.run(&shutdown).await;
        worker.shut_down().await;
        tracing::info!(
            stream = %worker.shared.stream,
            group = %worker.shared.group,
            consumer = %worker.shared.consumer,
            "consumer stopped"
        );
        Ok(())
    }
}

/// The Redis key of the sorted set of entries waiting for a retry (member: entry id, score: due
/// time in Unix milliseconds, Redis clock).
pub fn retries_key(keys: &StreamKeys, stream: &str, group: &str) -> String {
    keys.key(&format!("stream-lib:retries:{stream}:{group}"))
}

/// The Redis key of the hash of failed attempts per entry id (cleared on ack or dead letter).
pub fn attempts_key(keys: &StreamKeys, stream: &str, group: &str) -> String {
    keys.key(&format!("stream-lib:attempts:{stream}:{group}"))
}

/// What every handler task needs.
struct Shared<H> {
    handler: H,
    stream: String,
    group: String,
    consumer: String,
    stream_key: String,
    dead_letter_key: String,
    retries_key: String,
    attempts_key: String,
    retry: RetryPolicy,
    keys: StreamKeys,
}

impl<H> Shared<H> {
    fn new(handler: H, keys: &StreamKeys, config: &ConsumerConfig) -> Self {
        Self {
            handler,
            keys: keys.clone(),
            stream: config.stream.clone(),
            group: config.group.clone(),
            consumer: config.consumer.clone(),
            stream_key: keys.key(&config.stream),
            dead_letter_key: keys.key(DEAD_LETTER_STREAM),
            retries_key: retries_key(keys, &config.stream, &config.group),
            attempts_key: attempts_key(keys, &config.stream, &config.group),
            retry: config.retry.clone(),
        }
    }

    fn count(&self, name: &'static str) {
        metrics::counter!(name, "stream" => self.stream.clone(), "group" => self.group.clone())
            .increment(1);
    }
}

/// How a task left its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Handled: to be acked (in a batch).
    Handled,
    /// Failed; the retry is scheduled (it may already have been claimed back meanwhile).
    Retried,
    /// Written to the dead-letter stream and acked.
    DeadLettered,
    /// Redis failed while settling a failure: left pending, reclaimed after claim_min_idle.
    Unsettled,
}

type TaskResult = (String, Outcome);

/// How an entry came to this consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Read,
    RetrySet,
    Reclaim,
}

/// The reading connection and its CLIENT ID.
struct Reader {
    connection: MultiplexedConnection,
    id: i64,
}

/// A blocking read; hands its connection back unless the connection failed.
type ReadFuture = Pin<Box<dyn Future<Output = (Option<Reader>, RedisResult<Value>)> + Send>>;

/// The consumer's event loop state.
struct Worker<H> {
    shared: Arc<Shared<H>>,
    client: redis::Client,
    config: ConsumerConfig,
    /// Acks, scripts, dead letters: everything but the blocking read. Reconnects by itself.
    ctl: ConnectionManager,
    tasks: JoinSet<TaskResult>,
    /// Which entry each task works on, to clean up after a task that failed.
    task_entries: HashMap<task::Id, String>,
    in_flight: HashSet<String>,
    acks: Vec<String>,
    /// The blocking XREADGROUP in flight, on its own connection.
    read: Option<ReadFuture>,
    /// Entries delivered to this consumer that wait for a free handler slot (a read in flight
    /// may deliver while retries and reclaims took the slots it was sized for).
    backlog: VecDeque<(RawEntry, u32)>,
    /// Entries claimed again while their previous task was still finishing.
    parked: HashMap<String, (RawEntry, u32, Source)>,
    /// Shutting down: start nothing new.
    stopping: bool,
    /// CLIENT ID of the reading connection (0: none yet), to unblock it at shutdown.
    reader_id: Arc<AtomicI64>,
    reader: Option<Reader>,
    read_backoff: Backoff,
    read_paused_until: Option<Instant>,
    reclaim_cursor: String,
}

impl<H: Handler> Worker<H> {
    async fn run(&mut self, shutdown: &CancellationToken) {
        let retry_poll = (self.config.retry.base / 2)
            .clamp(Duration::from_millis(10), Duration::from_millis(250));
        let claim_min_idle = self.config.claim_min_idle.max(Duration::from_millis(30));
        let mut due_tick = interval(retry_poll);
        let mut reclaim_tick = interval((claim_min_idle / 2).max(Duration::from_millis(20)));
        let mut heartbeat_tick = interval((claim_min_idle / 3).max(Duration::from_millis(10)));
        let mut maintenance_tick =
            interval(self.config.trim_interval.max(Duration::from_millis(100)));
        loop {
            self.start_read();
            let paused_until = self.read_paused_until;
            // Ticks first: they are rarely ready, and a stream of completions must not starve
            // the heartbeat.
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                _ = heartbeat_tick.tick() => self.heartbeat().await,
                _ = due_tick.tick() => {
                    self.claim_due().await;
                    self.flush_acks().await;
                }
                _ = reclaim_tick.tick() => {
                    self.reclaim().await;
                    self.flush_acks().await;
                }
                _ = maintenance_tick.tick() => self.maintain().await,
                () = sleep_until_opt(paused_until), if paused_until.is_some() => {
                    self.read_paused_until = None;
                }
                Some((connection, reply)) = OptionFuture::from(self.read.as_mut()), if self.read.is_some() => {
                    self.read = None;
                    self.read_done(connection, reply).await;
                    self.flush_acks().await;
                }
                Some(joined) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    self.finished(joined);
                    while let Some(joined) = self.tasks.try_join_next_with_id() {
                        self.finished(joined);
                    }
                    self.start_backlog();
                    self.flush_acks().await;
                }
            }
        }
    }

    /// Handler slots neither running nor promised to entries waiting in the backlog.
    fn free_slots(&self) -> usize {
        self.config
            .concurrency
            .max(1)
            .saturating_sub(self.tasks.len() + self.backlog.len())
    }

    /// Starts the next blocking read when there is room for its entries and no back-off. The
    /// future connects first when needed, so a dead Redis never stalls the loop.
    fn start_read(&mut self) {
        if self.read.is_some() || self.read_paused_until.is_some() {
            return;
        }
        let count = self.free_slots().min(self.config.batch_size.max(1));
        if count == 0 {
            return;
        }
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(&self.shared.group)
            .arg(&self.shared.consumer)
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(
                u64::try_from(self.config.block.as_millis())
                    .unwrap_or(u64::MAX)
                    .max(1),
            )
            .arg("STREAMS")
            .arg(&self.shared.stream_key)
            .arg(">");
        let reader = self.reader.take();
        let client = self.client.clone();
        let block = self.config.block;
        let reader_id = Arc::clone(&self.reader_id);
        self.read = Some(Box::pin(async move {
            let mut reader = match reader {
                Some(reader) => reader,
                None => match connect_reader(&client, block).await {
                    Ok(reader) => reader,
                    Err(error) => return (None, Err(error)),
                },
            };
            reader_id.store(reader.id, Ordering::SeqCst);
            let reply = command.query_async(&mut reader.connection).await;
            match &reply {
                Err(error) if !is_nogroup(error) => (None, reply),
                _ => (Some(reader), reply),
            }
        }));
    }

    async fn read_done(&mut self, reader: Option<Reader>, reply: RedisResult<Value>) {
        if reader.is_none() {
            self.reader_id.store(0, Ordering::SeqCst);
        }
        self.reader = reader;
        match reply {
            Ok(reply) => {
                self.read_backoff.reset();
                for entry in parse_read_reply(&reply) {
                    self.dispatch(entry, 1, Source::Read);
                }
            }
            Err(error) if is_nogroup(&error) => {
                tracing::warn!(stream = %self.shared.stream, group = %self.shared.group, "consumer group vanished; re-creating it");
                if let Err(error) = self.ensure_group().await {
                    self.pause_reads(&error);
                }
            }
            Err(error) => self.pause_reads(&error),
        }
    }

    fn pause_reads(&mut self, error: &redis::RedisError) {
        let delay = self.read_backoff.next_delay();
        tracing::warn!(stream = %self.shared.stream, group = %self.shared.group, error = %error, backoff_ms = delay.as_millis() as u64, "stream read failed; backing off");
        self.read_paused_until = Some(Instant::now() + delay);
    }

    /// Starts work on one delivered entry. `attempt` is the number of this delivery's attempt
    /// (1 for a fresh read).
    fn dispatch(&mut self, entry: RawEntry, attempt: u32, source: Source) {
        if let Some(event_type) = entry.field("type")
            && !self.shared.handler.handles(event_type)
        {
            tracing::debug!(stream = %self.shared.stream, id = %entry.id, event_type, "event type not handled here; skipped");
            self.shared.count("stream_events_skipped_total");
            self.acks.push(entry.id);
            return;
        }
        if self.in_flight.contains(&entry.id) {
            // Its task is still finishing here (a retry claimed back before the failed attempt's
            // task reported, or our own slow entry reclaimed): decide once that task is done.
            self.parked
                .insert(entry.id.clone(), (entry, attempt, source));
            return;
        }
        self.in_flight.insert(entry.id.clone());
        if self.tasks.len() >= self.config.concurrency.max(1) {
            self.backlog.push_back((entry, attempt));
            return;
        }
        self.start(entry, attempt);
    }

    /// Starts the entries of the backlog that fit in the free handler slots.
    fn start_backlog(&mut self) {
        while self.tasks.len() < self.config.concurrency.max(1) {
            let Some((entry, attempt)) = self.backlog.pop_front() else {
                return;
            };
            self.start(entry, attempt);
        }
    }

    /// Spawns the task for one entry already counted in `in_flight`.
    fn start(&mut self, entry: RawEntry, attempt: u32) {
        let shared = Arc::clone(&self.shared);
        let ctl = self.ctl.clone();
        let max_attempts = self.config.retry.max_attempts.max(1);
        let id = entry.id.clone();
        let task = match Envelope::from_fields(
            entry.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ) {
            Err(error) => {
                let error = format!("undecodable entry: {error}");
                self.tasks
                    .spawn(async move { dead_letter(&shared, ctl, entry, attempt, &error).await })
            }
            Ok(_) if attempt > max_attempts => {
                let attempts = attempt - 1;
                let error = format!(
                    "delivered {attempts} times without completing (the consumer crashed or stopped each time)"
                );
                self.tasks
                    .spawn(async move { dead_letter(&shared, ctl, entry, attempts, &error).await })
            }
            Ok(event) => self.tasks.spawn(async move {
                handle(shared, ctl, entry, event, attempt, max_attempts).await
            }),
        };
        self.task_entries.insert(task.id(), id);
    }

    fn finished(&mut self, joined: Result<(task::Id, TaskResult), task::JoinError>) {
        match joined {
            Ok((task, (id, outcome))) => {
                self.task_entries.remove(&task);
                self.in_flight.remove(&id);
                let parked = self.parked.remove(&id);
                match outcome {
                    Outcome::Handled => self.acks.push(id),
                    // The retry was claimed back before this task reported: run it now.
                    Outcome::Retried => {
                        // Only a claim from the retry set is the next attempt; anything else
                        // (our own late-heartbeat entry reclaimed) waits in the set like any
                        // retry.
                        if let Some((entry, attempt, Source::RetrySet)) = parked {
                            if self.stopping {
                                self.parked.insert(id, (entry, attempt, Source::RetrySet));
                            } else {
                                self.dispatch(entry, attempt, Source::RetrySet);
                            }
                        }
                    }
                    Outcome::DeadLettered | Outcome::Unsettled => {}
                }
            }
            // Handler panics are caught inside the task; this is a bug of ours or an abort at
            // shutdown. The entry stays pending, no longer heartbeated: reclaimed later.
            Err(error) => {
                if let Some(id) = self.task_entries.remove(&error.id()) {
                    self.in_flight.remove(&id);
                    if !self.stopping {
                        tracing::error!(stream = %self.shared.stream, id = %id, error = %error, "entry task failed");
                    }
                }
            }
        }
    }

    /// Acks every finished entry in one round trip (and forgets their attempt counts).
    async fn flush_acks(&mut self) {
        if self.acks.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XACK")
            .arg(&self.shared.stream_key)
            .arg(&self.shared.group)
            .arg(&self.acks)
            .ignore()
            .cmd("HDEL")
            .arg(&self.shared.attempts_key)
            .arg(&self.acks)
            .ignore();
        match pipe.query_async::<()>(&mut self.ctl).await {
            Ok(()) => self.acks.clear(),
            Err(error) if is_nogroup(&error) => {
                // The group is gone with its pending list: nothing left to ack.
                self.acks.clear();
                self.group_vanished().await;
            }
            Err(error) => {
                tracing::warn!(stream = %self.shared.stream, error = %error, count = self.acks.len(), "ack failed; will retry");
            }
        }
    }

    /// Claims retries that are due (as many as there are free slots) and starts them.
    async fn claim_due(&mut self) {
        let free = self.free_slots();
        if free == 0 {
            return;
        }
        let reply: RedisResult<Value> = CLAIM_DUE
            .key(&self.shared.stream_key)
            .key(&self.shared.retries_key)
            .key(&self.shared.attempts_key)
            .arg(&self.shared.group)
            .arg(&self.shared.consumer)
            .arg(free)
            .invoke_async(&mut self.ctl)
            .await;
        match reply {
            Ok(reply) => {
                for item in as_array(&reply) {
                    let parts = as_array(item);
                    let (Some(entry), Some(failed)) = (
                        parts.first().and_then(parse_entry),
                        parts.get(1).and_then(as_u64),
                    ) else {
                        continue;
                    };
                    let attempt = u32::try_from(failed).unwrap_or(u32::MAX).saturating_add(1);
                    self.dispatch(entry, attempt, Source::RetrySet);
                }
            }
            Err(error) => self.control_failed("claiming due retries", &error).await,
        }
    }

    /// Takes over entries other (dead) consumers left pending longer than `claim_min_idle`,
    /// skipping those waiting in the retry set. The delivery count counts toward the attempts.
    async fn reclaim(&mut self) {
        loop {
            let free = self.free_slots();
            if free == 0 {
                return;
            }
            let reply: RedisResult<Value> = RECLAIM
                .key(&self.shared.stream_key)
                .key(&self.shared.retries_key)
                .key(&self.shared.attempts_key)
                .arg(&self.shared.group)
                .arg(&self.shared.consumer)
                .arg(millis(self.config.claim_min_idle))
                .arg(&self.reclaim_cursor)
                .arg(free)
                .arg(RECLAIM_SCAN)
                .invoke_async(&mut self.ctl)
                .await;
            let reply = match reply {
                Ok(reply) => reply,
                Err(error) => {
                    self.reclaim_cursor = "0-0".to_owned();
                    self.control_failed("reclaiming idle entries", &error).await;
                    return;
                }
            };
            let parts = as_array(&reply);
            self.reclaim_cursor = parts
                .first()
                .and_then(as_string)
                .unwrap_or_else(|| "0-0".to_owned());
            for item in parts.get(1).map(as_array).unwrap_or_default() {
                let fields = as_array(item);
                let Some(entry) = fields.first().and_then(parse_entry) else {
                    continue;
                };
                let deliveries = fields.get(1).and_then(as_u64).unwrap_or(1);
                let failed = fields.get(2).and_then(as_u64).unwrap_or(0);
                let attempt = deliveries.max(failed + 1);
                tracing::info!(stream = %self.shared.stream, id = %entry.id, attempt, "reclaimed an idle entry");
                self.shared.count("stream_events_reclaimed_total");
                self.dispatch(
                    entry,
                    u32::try_from(attempt).unwrap_or(u32::MAX),
                    Source::Reclaim,
                );
            }
            if self.reclaim_cursor == "0-0" {
                return;
            }
        }
    }

    /// Resets the idle time of the entries being handled here, so nobody reclaims them while a
    /// long handler runs.
    async fn heartbeat(&mut self) {
        if self.in_flight.is_empty() {
            return;
        }
        let ids: Vec<&String> = self.in_flight.iter().collect();
        let reply: RedisResult<Vec<String>> = TOUCH
            .key(&self.shared.stream_key)
            .arg(&self.shared.group)
            .arg(&self.shared.consumer)
            .arg(0)
            .arg(ids)
            .invoke_async(&mut self.ctl)
            .await;
        match reply {
            Ok(lost) if !lost.is_empty() => {
                tracing::warn!(stream = %self.shared.stream, ?lost, "entries in flight were claimed by another consumer");
            }
            Ok(_) => {}
            Err(error) => self.control_failed("heartbeat", &error).await,
        }
    }

    /// Trims what every group has acked, forgets long-gone consumers that hold nothing, and
    /// publishes the pending/lag gauges.
    async fn maintain(&mut self) {
        let forgotten: RedisResult<i64> = FORGET_CONSUMERS
            .key(&self.shared.stream_key)
            .arg(&self.shared.group)
            .arg(&self.shared.consumer)
            .arg(millis(FORGET_AFTER.max(self.config.claim_min_idle * 10)))
            .invoke_async(&mut self.ctl)
            .await;
        match forgotten {
            Ok(count) if count > 0 => {
                tracing::info!(stream = %self.shared.stream, count, "idle consumers without pending entries removed from the group");
            }
            Ok(_) => {}
            Err(error) => {
                self.control_failed("removing idle consumers", &error).await;
                return;
            }
        }
        let trimmed: RedisResult<i64> = TRIM
            .key(&self.shared.stream_key)
            .invoke_async(&mut self.ctl)
            .await;
        match trimmed {
            Ok(count) if count > 0 => {
                tracing::debug!(stream = %self.shared.stream, count, "stream trimmed");
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(stream = %self.shared.stream, error = %error, "trim failed")
            }
        }
        match crate::admin::stream_health(
            &mut self.ctl,
            &self.shared.keys,
            &[self.shared.stream.as_str()],
        )
        .await
        {
            Ok(health) => {
                for group in health.iter().flat_map(|stream| &stream.groups) {
                    let (stream, name) = (self.shared.stream.clone(), group.name.clone());
                    metrics::gauge!("stream_group_pending", "stream" => stream.clone(), "group" => name.clone())
                        .set(group.pending as f64);
                    if let Some(lag) = group.lag {
                        metrics::gauge!("stream_group_lag", "stream" => stream, "group" => name)
                            .set(lag as f64);
                    }
                }
            }
            Err(error) => tracing::debug!(error = %error, "stream health unavailable"),
        }
        let dead: RedisResult<u64> = redis::cmd("XLEN")
            .arg(&self.shared.dead_letter_key)
            .query_async(&mut self.ctl)
            .await;
        if let Ok(dead) = dead {
            metrics::gauge!("stream_dead_letters").set(dead as f64);
        }
    }

    async fn control_failed(&mut self, what: &str, error: &redis::RedisError) {
        if is_nogroup(error) {
            self.group_vanished().await;
        } else {
            tracing::warn!(stream = %self.shared.stream, error = %error, "{what} failed");
        }
    }

    async fn group_vanished(&mut self) {
        tracing::warn!(stream = %self.shared.stream, group = %self.shared.group, "consumer group vanished; re-creating it");
        if let Err(error) = self.ensure_group().await {
            tracing::warn!(error = %error, "cannot re-create the consumer group yet");
        }
    }

    /// Creates the group reading from the start (and the stream with it); an existing group is
    /// fine.
    async fn ensure_group(&mut self) -> RedisResult<()> {
        let created: RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.shared.stream_key)
            .arg(&self.shared.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut self.ctl)
            .await;
        match created {
            Ok(()) => {
                tracing::info!(stream = %self.shared.stream, group = %self.shared.group, "consumer group created");
                Ok(())
            }
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn ensure_group_until_ok(&mut self, shutdown: &CancellationToken) -> bool {
        let mut backoff = Backoff::default();
        loop {
            match self.ensure_group().await {
                Ok(()) => return true,
                Err(error) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %error, backoff_ms = delay.as_millis() as u64, "cannot create the consumer group; retrying");
                    if sleep_or_cancel(shutdown, delay).await {
                        return false;
                    }
                }
            }
        }
    }

    /// Stops reading at once, lets handlers finish within `shutdown_grace`, acks what finished
    /// and hands the rest back to the group (still pending, claimable by the next consumer).
    async fn shut_down(&mut self) {
        self.stopping = true;
        let mut unstarted: Vec<String> =
            self.backlog.drain(..).map(|(entry, _)| entry.id).collect();
        if let Some(read) = self.read.take() {
            let id = self.reader_id.load(Ordering::SeqCst);
            if id > 0 {
                let _: RedisResult<i64> = redis::cmd("CLIENT")
                    .arg("UNBLOCK")
                    .arg(id)
                    .query_async(&mut self.ctl)
                    .await;
            }
            if let Ok((_, Ok(reply))) = tokio::time::timeout(Duration::from_secs(1), read).await {
                unstarted.extend(parse_read_reply(&reply).into_iter().map(|entry| entry.id));
            }
        }
        let deadline = Instant::now() + self.config.shutdown_grace;
        while !self.tasks.is_empty() {
            match tokio::time::timeout_at(deadline.into(), self.tasks.join_next_with_id()).await {
                Ok(Some(joined)) => self.finished(joined),
                Ok(None) | Err(_) => break,
            }
        }
        self.tasks.abort_all();
        // Aborted tasks stay in `in_flight`: handed back below.
        while let Some(joined) = self.tasks.join_next_with_id().await {
            if joined.is_ok() {
                self.finished(joined);
            }
        }
        self.flush_acks().await;
        unstarted.extend(self.parked.drain().map(|(id, _)| id));
        let left: Vec<String> = self
            .in_flight
            .drain()
            .chain(unstarted)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !left.is_empty() {
            tracing::info!(stream = %self.shared.stream, count = left.len(), "leaving unfinished entries pending for another consumer");
            let released: RedisResult<Vec<String>> = TOUCH
                .key(&self.shared.stream_key)
                .arg(&self.shared.group)
                .arg(&self.shared.consumer)
                .arg(millis(self.config.claim_min_idle))
                .arg(&left)
                .invoke_async(&mut self.ctl)
                .await;
            if let Err(error) = released {
                tracing::debug!(error = %error, "could not release unfinished entries; they wait for claim_min_idle");
            }
        }
    }
}

/// Runs the handler on one entry and settles a failure (retry set or dead letter) itself.
async fn handle<H: Handler>(
    shared: Arc<Shared<H>>,
    ctl: ConnectionManager,
    entry: RawEntry,
    event: Envelope,
    attempt: u32,
    max_attempts: u32,
) -> TaskResult {
    let outcome = AssertUnwindSafe(shared.handler.handle(&event))
        .catch_unwind()
        .await;
    let error = match outcome {
        Ok(Ok(())) => {
            shared.count("stream_events_processed_total");
            return (entry.id, Outcome::Handled);
        }
        Ok(Err(error)) => error,
        Err(_) => HandlerError::Transient(anyhow::anyhow!("the handler panicked")),
    };
    match error {
        HandlerError::Transient(error) | HandlerError::Unavailable(error)
            if attempt < max_attempts =>
        {
            let delay = shared.retry.delay(attempt);
            tracing::warn!(
                stream = %shared.stream, id = %entry.id, event_id = %event.event_id,
                event_type = %event.event_type, attempt, delay_ms = delay.as_millis() as u64,
                error = format!("{error:#}"), "handler failed; retry scheduled"
            );
            schedule_retry(&shared, ctl, entry.id, attempt, delay).await
        }
        HandlerError::Transient(error)
        | HandlerError::Unavailable(error)
        | HandlerError::Permanent(error) => {
            tracing::error!(
                stream = %shared.stream, id = %entry.id, event_id = %event.event_id,
                event_type = %event.event_type, attempt, error = format!("{error:#}"),
                "handler failed for good; dead-lettering"
            );
            dead_letter(&shared, ctl, entry, attempt, &format!("{error:#}")).await
        }
    }
}

/// Records the failed attempt and the due time of the next one, durably, in Redis.
async fn schedule_retry<H>(
    shared: &Shared<H>,
    mut ctl: ConnectionManager,
    id: String,
    attempt: u32,
    delay: Duration,
) -> TaskResult {
    for _ in 0..SETTLE_TRIES {
        let scheduled: RedisResult<i64> = SCHEDULE
            .key(&shared.retries_key)
            .key(&shared.attempts_key)
            .arg(&id)
            .arg(attempt)
            .arg(millis(delay))
            .invoke_async(&mut ctl)
            .await;
        match scheduled {
            Ok(_) => {
                shared.count("stream_events_retried_total");
                return (id, Outcome::Retried);
            }
            Err(error) => {
                tracing::warn!(id = %id, error = %error, "cannot schedule the retry yet");
                tokio::time::sleep(SETTLE_PAUSE).await;
            }
        }
    }
    // Left pending: reclaimed after claim_min_idle, its delivery count still counting.
    (id, Outcome::Unsettled)
}

/// Writes the dead letter and acks the original in one MULTI/EXEC.
async fn dead_letter<H>(
    shared: &Shared<H>,
    mut ctl: ConnectionManager,
    entry: RawEntry,
    attempts: u32,
    error: &str,
) -> TaskResult {
    let failed_at = crate::envelope::format_timestamp(time::OffsetDateTime::now_utc());
    let mut pipe = redis::pipe();
    pipe.atomic();
    {
        let xadd = pipe.cmd("XADD").arg(&shared.dead_letter_key).arg("*");
        for (name, value) in &entry.fields {
            if !DEAD_LETTER_FIELDS.contains(&name.as_str()) {
                xadd.arg(name).arg(value);
            }
        }
        xadd.arg("origin_stream")
            .arg(&shared.stream)
            .arg("origin_id")
            .arg(&entry.id)
            .arg("group")
            .arg(&shared.group)
            .arg("attempts")
            .arg(attempts)
            .arg("error")
            .arg(error)
            .arg("failed_at")
            .arg(&failed_at)
            .ignore();
    }
    pipe.cmd("XACK")
        .arg(&shared.stream_key)
        .arg(&shared.group)
        .arg(&entry.id)
        .ignore()
        .cmd("HDEL")
        .arg(&shared.attempts_key)
        .arg(&entry.id)
        .ignore()
        .cmd("ZREM")
        .arg(&shared.retries_key)
        .arg(&entry.id)
        .ignore();
    for _ in 0..SETTLE_TRIES {
        match pipe.query_async::<()>(&mut ctl).await {
            Ok(()) => {
                shared.count("stream_events_dead_lettered_total");
                return (entry.id, Outcome::DeadLettered);
            }
            Err(error) => {
                tracing::warn!(id = %entry.id, error = %error, "cannot dead-letter yet");
                tokio::time::sleep(SETTLE_PAUSE).await;
            }
        }
    }
    (entry.id, Outcome::Unsettled)
}

const SETTLE_TRIES: usize = 5;
const SETTLE_PAUSE: Duration = Duration::from_millis(200);
/// A consumer idle this long with nothing pending is removed from the group (consumer names are
/// unique per process, so every restart leaves one behind).
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// Pending entries examined per reclaim script call.
const RECLAIM_SCAN: usize = 512;

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

fn interval(period: Duration) -> tokio::time::Interval {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    interval
}

async fn connect_control(
    client: &redis::Client,
    shutdown: &CancellationToken,
) -> Option<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(10)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(2));
    let mut backoff = Backoff::default();
    loop {
        let connected = tokio::select! {
            _ = shutdown.cancelled() => return None,
            connected = ConnectionManager::new_with_config(client.clone(), config.clone()) => connected,
        };
        match connected {
            Ok(connection) => return Some(connection),
            Err(error) => {
                let delay = backoff.next_delay();
                tracing::warn!(error = %error, backoff_ms = delay.as_millis() as u64, "cannot reach Redis; retrying");
                if sleep_or_cancel(shutdown, delay).await {
                    return None;
                }
            }
        }
    }
}

/// A connection of its own for the blocking read, with a response timeout longer than the block
/// (a timed-out blocking read could still move entries into the pending list unseen).
async fn connect_reader(client: &redis::Client, block: Duration) -> RedisResult<Reader> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(block + Duration::from_secs(10)));
    let mut connection = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let id: i64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut connection)
        .await?;
    Ok(Reader { connection, id })
}

/// Schedules a retry: records the failed attempt count and the due time (Redis clock).
/// KEYS: retries, attempts. ARGV: id, failed attempts, delay ms.
static SCHEDULE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return now
",
    )
});

/// Takes the retries that are due out of the set and claims them (delivery count + 1).
/// KEYS: stream, retries, attempts. ARGV: group, consumer, limit.
/// Returns `[[entry, failed_attempts], ...]`.
static CLAIM_DUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('XPENDING', KEYS[1], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
  if claimed[1] then
    out[#out + 1] = {claimed[1], redis.call('HGET', KEYS[3], id) or '0'}
  else
    redis.call('HDEL', KEYS[3], id)
  end
end
return out
",
    )
});

/// Claims entries pending longer than min-idle that are not waiting for a retry, scanning the
/// pending list from a cursor. KEYS: stream, retries, attempts. ARGV: group, consumer,
/// min_idle_ms, cursor, limit, scan. Returns `[next_cursor, [[entry, deliveries, failed], ...]]`.
static RECLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local start = '-'
if ARGV[4] ~= '0-0' then start = '(' .. ARGV[4] end
local scan = tonumber(ARGV[6])
local limit = tonumber(ARGV[5])
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], start, '+', scan)
local cursor = '0-0'
if #pending >= scan then cursor = pending[#pending][1] end
local out = {}
for i, p in ipairs(pending) do
  if #out >= limit then
    cursor = pending[i - 1][1]
    break
  end
  local id = p[1]
  if not redis.call('ZSCORE', KEYS[2], id) then
    local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], id)
    if claimed[1] then
      out[#out + 1] = {claimed[1], p[4] + 1, redis.call('HGET', KEYS[3], id) or '0'}
    elseif #redis.call('XRANGE', KEYS[1], id, id) == 0 then
      redis.call('HDEL', KEYS[3], id)
    end
  end
end
return {cursor, out}
",
    )
});

/// Sets the idle time of entries this consumer still owns (0: heartbeat; claim_min_idle:
/// release at shutdown) without counting a delivery. KEYS: stream. ARGV: group, consumer,
/// idle_ms, ids... Returns the ids another consumer owns now.
static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local lost = {}
for i = 4, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
",
    )
});

/// Trims the stream below the oldest entry any group still needs: its oldest pending entry, or
/// the first entry after its last-delivered id. Never trims a stream without groups.
/// KEYS: stream. Returns the number of entries removed.
static TRIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if type(groups) ~= 'table' or groups.err or #groups == 0 then return 0 end
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1)), string.sub(id, 1, dash - 1)
end
local best_ms, best_seq, best
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local needed
  if tonumber(info['pending']) > 0 then
    needed = redis.call('XPENDING', KEYS[1], info['name'])[2]
  else
    local _, seq, ms_text = parse(info['last-delivered-id'])
    needed = ms_text .. '-' .. string.format('%d', seq + 1)
  end
  local ms, seq = parse(needed)
  if best == nil or ms < best_ms or (ms == best_ms and seq < best_seq) then
    best_ms, best_seq, best = ms, seq, needed
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', best)
",
    )
});

/// Deletes consumers (other than ARGV[2]) with no pending entries, idle longer than ARGV[3] ms.
/// KEYS: stream. ARGV: group, consumer, idle_ms. Returns how many were deleted.
static FORGET_CONSUMERS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
local deleted = 0
for _, c in ipairs(consumers) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['name'] ~= ARGV[2] and tonumber(info['pending']) == 0
     and tonumber(info['idle']) > tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    deleted = deleted + 1
  end
end
return deleted
",
    )
});
