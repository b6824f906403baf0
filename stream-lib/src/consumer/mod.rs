//! The batch consumer: a member of a consumer group that reads a batch with one XREADGROUP,
//! applies it in one transaction per sub-batch (split by aggregate), acks with one XACK after
//! each commit, retries, dead-letters, reclaims, pauses while a dependency is down, and shuts
//! down gracefully.
//!
//! ```no_run
//! # use stream_lib::{ORDERS_STREAM, StreamKeys, consumer::{Consumer, ConsumerSettings}, handler::Handlers};
//! # async fn run(pool: sqlx::PgPool, handlers: Handlers) -> anyhow::Result<()> {
//! let settings = ConsumerSettings::from_env(ORDERS_STREAM, "products-service")?;
//! let consumer = Consumer::new("redis://127.0.0.1:6379", StreamKeys::default(), settings, pool, handlers)?;
//! consumer.run(tokio_util::sync::CancellationToken::new()).await?;
//! # Ok(()) }
//! ```

mod apply;
mod maintenance;
mod pending;
mod read;
mod settings;
mod settle;
mod shutdown;

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::{task::JoinSet, time::MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

pub use settings::{ConsumerSettings, SettingsError};

use crate::{
    DEAD_LETTER_STREAM, Envelope, StreamKeys,
    connection::StreamRedis,
    handler::{HandlerError, Handlers},
    retry::Backoff,
    wire::{RawEntry, is_nogroup},
};

/// The connection for everything but the blocking read: acks, scripts, dead letters. It
/// reconnects by itself, to a server or a cluster ([`StreamRedis`]).
pub(crate) type Control = crate::connection::Control;

/// Why a consumer could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// A member of a consumer group, with its handlers and the database they write to.
pub struct Consumer {
    redis: StreamRedis,
    keys: StreamKeys,
    settings: ConsumerSettings,
    pool: PgPool,
    handlers: Handlers,
    state: crate::state::Reporter,
}

impl Consumer {
    /// A consumer of the server at `redis_url` that runs its transactions on `pool`.
    pub fn new(
        redis_url: &str,
        keys: StreamKeys,
        settings: ConsumerSettings,
        pool: PgPool,
        handlers: Handlers,
    ) -> Result<Self, ConsumerError> {
        Ok(Self::on(
            StreamRedis::node(redis_url)?,
            keys,
            settings,
            pool,
            handlers,
        ))
    }

    /// A consumer of `redis` (a server or a cluster) that runs its transactions on `pool`. It
    /// shares `redis`'s control connection and opens its own for the blocking read.
    pub fn on(
        redis: StreamRedis,
        keys: StreamKeys,
        settings: ConsumerSettings,
        pool: PgPool,
        handlers: Handlers,
    ) -> Self {
        Self {
            redis,
            keys,
            settings,
            pool,
            handlers,
            state: crate::state::Reporter::default(),
        }
    }

    /// Tells `listener` each change of state: running, paused while Redis or PostgreSQL does not
    /// answer, stopped ([`crate::state`]).
    pub fn with_state_listener(mut self, listener: impl crate::state::StateListener) -> Self {
        self.state = crate::state::Reporter::new(listener);
        self
    }

    /// Reads and handles entries until `shutdown` is cancelled; outages of Redis or PostgreSQL
    /// pause it, they are not returned.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ConsumerError> {
        let Self {
            redis,
            keys,
            settings,
            pool,
            handlers,
            state,
        } = self;
        let ctx = Arc::new(Context {
            stream_key: keys.key(&settings.stream),
            dead_letter_key: keys.key(DEAD_LETTER_STREAM),
            retries_key: keys.retries(&settings.stream, &settings.group),
            attempts_key: keys.attempts(&settings.stream, &settings.group),
            keys,
            settings,
            pool,
            handlers,
            state,
        });
        let Some(ctl) = connect_control(&redis, &shutdown).await else {
            return Ok(());
        };
        let mut worker = Worker {
            reader: read::Reader::new(redis),
            ctx,
            ctl,
            backoff: Backoff::default(),
            reclaim_cursor: "0-0".to_owned(),
            next_reclaim: Instant::now(),
            next_maintenance: Instant::now(),
            next_due_check: Instant::now(),
            lingering_since: None,
        };
        if !worker.ensure_group_until_ok(&shutdown).await {
            return Ok(());
        }
        let ctx = Arc::clone(&worker.ctx);
        tracing::info!(stream = %ctx.settings.stream, group = %ctx.settings.group, consumer = %ctx.settings.consumer, types = ?ctx.handlers, "consumer started");
        ctx.state.running();
        worker.run(&shutdown).await;
        ctx.state.stopped("shut down");
        tracing::info!(stream = %ctx.settings.stream, group = %ctx.settings.group, consumer = %ctx.settings.consumer, "consumer stopped");
        Ok(())
    }
}

/// What every part of the consumer reads.
pub(crate) struct Context {
    pub settings: ConsumerSettings,
    pub keys: StreamKeys,
    pub pool: PgPool,
    pub handlers: Handlers,
    pub state: crate::state::Reporter,
    pub stream_key: String,
    pub dead_letter_key: String,
    pub retries_key: String,
    pub attempts_key: String,
}

impl Context {
    fn count(&self, name: &'static str, by: u64) {
        metrics::counter!(name, "stream" => self.settings.stream.clone(), "group" => self.settings.group.clone())
            .increment(by);
    }
}

/// An entry delivered to this consumer; `attempt` is this delivery's attempt (1 for a fresh
/// read).
pub(crate) struct Delivery {
    pub entry: RawEntry,
    pub attempt: u32,
}

/// A delivered entry ready for its handler.
pub(crate) struct Work {
    pub entry: RawEntry,
    pub envelope: Envelope,
    pub attempt: u32,
    pub aggregate: Option<Uuid>,
}

struct Worker {
    ctx: Arc<Context>,
    ctl: Control,
    reader: read::Reader,
    backoff: Backoff,
    reclaim_cursor: String,
    next_reclaim: Instant,
    next_maintenance: Instant,
    /// When to ask the retry set for due retries next.
    next_due_check: Instant,
    /// When the last read answered, if it brought entries but not a full batch: the consumer
    /// is busy, and the next read waits for the linger after it.
    lingering_since: Option<Instant>,
}

impl Worker {
    async fn run(&mut self, shutdown: &CancellationToken) {
        let settings = &self.ctx.settings;
        let batch_size = settings.batch_size.max(1);
        let reclaim_every = (settings.claim_idle / 2).max(Duration::from_millis(20));
        let maintenance_every = settings
            .maintenance_interval
            .max(Duration::from_millis(100));
        let block = settings.block;
        let linger = settings.linger;
        while !shutdown.is_cancelled() {
            let now = Instant::now();
            if now >= self.next_maintenance {
                if let Err(error) = maintenance::maintain(&self.ctx, &mut self.ctl).await {
                    self.control_failed("maintenance", &error).await;
                }
                self.next_maintenance = Instant::now() + maintenance_every;
            }
            // The retry set is asked only when a retry may be due: when the last answer said
            // so, after this consumer scheduled one, and every reclaim period (retries of
            // consumers that died).
            let mut batch = Vec::new();
            if now >= self.next_due_check {
                let next_due = match pending::claim_due(&self.ctx, &mut self.ctl, batch_size).await
                {
                    Ok((due, next_due)) => {
                        batch = due;
                        next_due
                    }
                    Err(error) => {
                        self.control_failed("claiming due retries", &error).await;
                        None
                    }
                };
                self.next_due_check =
                    Instant::now() + next_due.unwrap_or(reclaim_every).min(reclaim_every);
            }
            if now >= self.next_reclaim && batch.len() < batch_size {
                let left = batch_size - batch.len();
                match pending::reclaim(&self.ctx, &mut self.ctl, &mut self.reclaim_cursor, left)
                    .await
                {
                    Ok(claimed) => batch.extend(claimed),
                    Err(error) => self.control_failed("reclaiming idle entries", &error).await,
                }
                self.next_reclaim = Instant::now() + reclaim_every;
            }
            if batch.is_empty() {
                if let Some(since) = self.lingering_since.take() {
                    // Busy: let the entries of the next moments gather into one batch.
                    let left = linger.saturating_sub(since.elapsed());
                    if !left.is_zero() {
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            () = tokio::time::sleep(left) => {}
                        }
                    }
                }
                let now = Instant::now();
                let wait = block
                    .min(self.next_reclaim.saturating_duration_since(now))
                    .min(self.next_maintenance.saturating_duration_since(now))
                    .min(self.next_due_check.saturating_duration_since(now));
                match self
                    .read(batch_size, wait.max(Duration::from_millis(1)), shutdown)
                    .await
                {
                    Some(entries) => {
                        if !entries.is_empty() && entries.len() < batch_size {
                            self.lingering_since = Some(Instant::now());
                        }
                        batch = entries
                            .into_iter()
                            .map(|entry| Delivery { entry, attempt: 1 })
                            .collect();
                    }
                    None => break,
                }
            }
            if !batch.is_empty() {
                self.process(batch, shutdown).await;
            }
        }
    }

    /// One blocking read; `None` once shutdown began (what the read delivered meanwhile is
    /// handed back).
    async fn read(
        &mut self,
        count: usize,
        block: Duration,
        shutdown: &CancellationToken,
    ) -> Option<Vec<RawEntry>> {
        let Self {
            reader, ctl, ctx, ..
        } = self;
        let reader_id = reader.client_id();
        let reply = {
            let read = reader.read(ctx, count, block);
            tokio::pin!(read);
            tokio::select! {
                reply = &mut read => reply,
                _ = shutdown.cancelled() => {
                    shutdown::unblock(ctx, ctl, &reader_id).await;
                    if let Ok(Ok(entries)) = tokio::time::timeout(Duration::from_secs(1), read).await {
                        let ids: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
                        shutdown::release(ctx, ctl, &ids).await;
                    }
                    return None;
                }
            }
        };
        match reply {
            Ok(entries) => {
                self.backoff.reset();
                self.ctx.state.running();
                Some(entries)
            }
            Err(error) if is_nogroup(&error) => {
                self.group_vanished().await;
                Some(Vec::new())
            }
            Err(error) => {
                let delay = self.backoff.next_delay();
                tracing::warn!(stream = %self.ctx.settings.stream, error = %error, backoff_ms = delay.as_millis() as u64, "stream read failed; backing off");
                self.ctx
                    .state
                    .paused(format_args!("reading the stream failed: {error}"));
                tokio::select! {
                    _ = shutdown.cancelled() => None,
                    () = tokio::time::sleep(delay) => Some(Vec::new()),
                }
            }
        }
    }

    /// Handles one batch: skips what no handler wants, dead-letters what cannot be decoded,
    /// applies the rest in sub-batches, settles each as it commits, and pauses while a
    /// dependency is unavailable.
    async fn process(&mut self, batch: Vec<Delivery>, shutdown: &CancellationToken) {
        let mut works = self.prepare(batch).await;
        let mut grace: Option<Instant> = None;
        while !works.is_empty() {
            let mut in_flight: HashSet<String> =
                works.iter().map(|work| work.entry.id.clone()).collect();
            let mut tasks = JoinSet::new();
            let mut task_ids: HashMap<tokio::task::Id, Vec<String>> = HashMap::new();
            let settings = &self.ctx.settings;
            let parts = settings
                .concurrency
                .min(works.len().div_ceil(settings.min_sub_batch.max(1)));
            for sub_batch in split(works, parts) {
                let ids = sub_batch.iter().map(|work| work.entry.id.clone()).collect();
                let ctx = Arc::clone(&self.ctx);
                let span = crate::trace::batch_span(
                    &ctx.settings,
                    sub_batch.iter().map(|work| &work.envelope),
                );
                let task = tasks
                    .spawn(async move { apply::apply(&ctx, sub_batch).await }.instrument(span));
                task_ids.insert(task.id(), ids);
            }
            let mut heartbeat =
                interval((self.ctx.settings.claim_idle / 3).max(Duration::from_millis(10)));
            heartbeat.tick().await;
            let mut again = Vec::new();
            let mut unavailable = None;
            while !tasks.is_empty() {
                tokio::select! {
                    biased;
                    _ = heartbeat.tick() => self.heartbeat(&in_flight).await,
                    () = sleep_until_opt(grace), if grace.is_some() => {
                        tasks.abort_all();
                        while tasks.join_next().await.is_some() {}
                        let ids: Vec<&str> = in_flight.iter().map(String::as_str).collect();
                        shutdown::release(&self.ctx, &mut self.ctl, &ids).await;
                        return;
                    }
                    _ = shutdown.cancelled(), if grace.is_none() => {
                        grace = Some(Instant::now() + self.ctx.settings.shutdown_grace);
                    }
                    Some(joined) = tasks.join_next_with_id() => match joined {
                        Ok((task, applied)) => {
                            task_ids.remove(&task);
                            for work in applied.handled.iter().chain(applied.failed.iter().map(|(work, _)| work)) {
                                in_flight.remove(&work.entry.id);
                            }
                            self.settle(applied, &mut again, &mut unavailable).await;
                        }
                        Err(error) => {
                            // Handler panics are caught inside; this is a bug of ours. The
                            // entries stay pending, no longer heartbeated: reclaimed later.
                            tracing::error!(stream = %self.ctx.settings.stream, error = %error, "sub-batch task failed");
                            for id in task_ids.remove(&error.id()).unwrap_or_default() {
                                in_flight.remove(&id);
                            }
                        }
                    },
                }
            }
            works = again;
            if let Some(error) = unavailable {
                let ids: Vec<&str> = works.iter().map(|work| work.entry.id.as_str()).collect();
                let resumed =
                    !shutdown.is_cancelled() && self.pause(&error, &works, shutdown).await;
                if !resumed {
                    shutdown::release(&self.ctx, &mut self.ctl, &ids).await;
                    return;
                }
            }
        }
    }

    /// Decodes the batch: unhandled types are acked and counted, undecodable entries and
    /// entries delivered too often are dead-lettered; the rest is returned.
    async fn prepare(&mut self, batch: Vec<Delivery>) -> Vec<Work> {
        let ctx = Arc::clone(&self.ctx);
        let max_attempts = ctx.settings.retry.max_attempts.max(1);
        let mut works = Vec::with_capacity(batch.len());
        let mut skipped: Vec<String> = Vec::new();
        for Delivery { entry, attempt } in batch {
            let decoded =
                Envelope::from_fields(entry.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let envelope = match decoded {
                Ok(envelope) => envelope,
                Err(error) => {
                    let error = format!("undecodable entry: {error}");
                    settle::dead_letter(&ctx, &mut self.ctl, &entry, attempt, &error).await;
                    continue;
                }
            };
            if !ctx.handlers.handles(&envelope.event_type) {
                tracing::debug!(stream = %ctx.settings.stream, id = %entry.id, event_type = %envelope.event_type, "event type not handled here; skipped");
                metrics::counter!(
                    "stream_entries_skipped_total",
                    "stream" => ctx.settings.stream.clone(),
                    "group" => ctx.settings.group.clone(),
                    "type" => envelope.event_type.clone()
                )
                .increment(1);
                skipped.push(entry.id);
                continue;
            }
            if attempt > max_attempts {
                let attempts = attempt - 1;
                let error = format!(
                    "delivered {attempts} times without completing (the consumer crashed or stopped each time)"
                );
                settle::dead_letter(&ctx, &mut self.ctl, &entry, attempts, &error).await;
                continue;
            }
            match ctx.handlers.aggregate_id(&envelope) {
                Ok(aggregate) => works.push(Work {
                    entry,
                    envelope,
                    attempt,
                    aggregate,
                }),
                Err(error) => {
                    let error = format!("undecodable payload: {error:#}");
                    settle::dead_letter(&ctx, &mut self.ctl, &entry, attempt, &error).await;
                }
            }
        }
        let skipped: Vec<&str> = skipped.iter().map(String::as_str).collect();
        settle::ack(&ctx, &mut self.ctl, &skipped).await;
        works
    }

    /// Acks what committed, retries or dead-letters what failed, keeps what met an unavailable
    /// dependency for after the pause.
    async fn settle(
        &mut self,
        applied: apply::Applied,
        again: &mut Vec<Work>,
        unavailable: &mut Option<HandlerError>,
    ) {
        let ctx = Arc::clone(&self.ctx);
        settle::handled(&ctx, &mut self.ctl, &applied.handled).await;
        if !applied.failed.is_empty() {
            // A retry may have been scheduled: ask the set when it is due.
            self.next_due_check = Instant::now();
        }
        for (work, error) in applied.failed {
            settle::failed(&ctx, &mut self.ctl, work, error).await;
        }
        if let Some(error) = applied.unavailable_error {
            unavailable.get_or_insert(error);
        }
        again.extend(applied.unavailable);
    }

    /// Pauses the whole consumer until the database and Redis answer again (backoff between
    /// probes, the held entries heartbeated meanwhile). `false` when shutdown came first.
    async fn pause(
        &mut self,
        error: &HandlerError,
        held: &[Work],
        shutdown: &CancellationToken,
    ) -> bool {
        let ctx = Arc::clone(&self.ctx);
        let labels = [
            ("stream", ctx.settings.stream.clone()),
            ("group", ctx.settings.group.clone()),
        ];
        tracing::warn!(stream = %ctx.settings.stream, group = %ctx.settings.group, error = %error, held = held.len(), "a dependency is unavailable; pausing the consumer");
        metrics::gauge!("stream_consumer_paused", &labels).set(1.0);
        ctx.state
            .paused(format_args!("a dependency is unavailable: {error}"));
        metrics::counter!("stream_consumer_pauses_total", &labels).increment(1);
        let ids: HashSet<String> = held.iter().map(|work| work.entry.id.clone()).collect();
        let mut backoff = Backoff::default();
        let mut heartbeat = interval((ctx.settings.claim_idle / 3).max(Duration::from_millis(10)));
        let started = Instant::now();
        let resumed = loop {
            let delay = tokio::time::sleep(backoff.next_delay());
            tokio::pin!(delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = heartbeat.tick() => self.heartbeat(&ids).await,
                    () = &mut delay => break,
                }
            }
            if shutdown.is_cancelled() {
                break false;
            }
            if self.probe().await {
                break true;
            }
        };
        metrics::gauge!("stream_consumer_paused", &labels).set(0.0);
        if resumed {
            ctx.state.running();
            tracing::info!(stream = %ctx.settings.stream, paused_ms = started.elapsed().as_millis() as u64, "dependencies answer again; resuming");
        }
        resumed
    }

    /// `SELECT 1` through the pool and a Redis PING, each bounded.
    async fn probe(&mut self) -> bool {
        let database = tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::query("SELECT 1").execute(&self.ctx.pool),
        )
        .await;
        if !matches!(database, Ok(Ok(_))) {
            return false;
        }
        let redis = tokio::time::timeout(
            Duration::from_secs(5),
            redis::cmd("PING").query_async::<String>(&mut self.ctl),
        )
        .await;
        matches!(redis, Ok(Ok(_)))
    }

    async fn heartbeat(&mut self, ids: &HashSet<String>) {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        match pending::touch(&self.ctx, &mut self.ctl, &ids, Duration::ZERO).await {
            Ok(lost) if !lost.is_empty() => {
                tracing::warn!(stream = %self.ctx.settings.stream, ?lost, "entries in flight were claimed by another consumer");
            }
            Ok(_) => {}
            Err(error) => self.control_failed("heartbeat", &error).await,
        }
    }

    async fn control_failed(&mut self, what: &str, error: &redis::RedisError) {
        if is_nogroup(error) {
            self.group_vanished().await;
        } else {
            tracing::warn!(stream = %self.ctx.settings.stream, error = %error, "{what} failed");
        }
    }

    async fn group_vanished(&mut self) {
        tracing::warn!(stream = %self.ctx.settings.stream, group = %self.ctx.settings.group, "consumer group vanished; re-creating it at id 0");
        if let Err(error) = read::ensure_group(&self.ctx, &mut self.ctl).await {
            tracing::warn!(error = %error, "cannot re-create the consumer group yet");
        }
    }

    async fn ensure_group_until_ok(&mut self, shutdown: &CancellationToken) -> bool {
        let mut backoff = Backoff::default();
        loop {
            match read::ensure_group(&self.ctx, &mut self.ctl).await {
                Ok(()) => return true,
                Err(error) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %error, backoff_ms = delay.as_millis() as u64, "cannot create the consumer group; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return false,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }
}

/// Splits a batch into at most `parts` sub-batches: entries of one aggregate go to the same
/// sub-batch in stream order; entries without an aggregate are dealt round the sub-batches.
fn split(works: Vec<Work>, parts: usize) -> Vec<Vec<Work>> {
    let parts = parts.max(1).min(works.len().max(1));
    let mut sub_batches: Vec<Vec<Work>> = (0..parts).map(|_| Vec::new()).collect();
    let mut next = 0;
    for work in works {
        let index = match work.aggregate {
            Some(id) => {
                let (high, low) = id.as_u64_pair();
                ((high ^ low) % parts as u64) as usize
            }
            None => {
                next = (next + 1) % parts;
                next
            }
        };
        sub_batches[index].push(work);
    }
    sub_batches.retain(|sub_batch| !sub_batch.is_empty());
    sub_batches
}

pub(crate) fn millis(duration: Duration) -> u64 {
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

async fn connect_control(redis: &StreamRedis, shutdown: &CancellationToken) -> Option<Control> {
    let mut backoff = Backoff::default();
    loop {
        let connected = tokio::select! {
            _ = shutdown.cancelled() => return None,
            connected = redis.control() => connected,
        };
        match connected {
            Ok(connection) => return Some(connection),
            Err(error) => {
                let delay = backoff.next_delay();
                tracing::warn!(error = %error, backoff_ms = delay.as_millis() as u64, "cannot reach Redis; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(n: u64, aggregate: Option<Uuid>) -> Work {
        Work {
            entry: RawEntry {
                id: format!("{n}-0"),
                fields: Vec::new(),
            },
            envelope: Envelope::new("t", "s", "c", &n).unwrap(),
            attempt: 1,
            aggregate,
        }
    }

    #[test]
    fn one_aggregate_stays_in_one_sub_batch_in_stream_order() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let works: Vec<Work> = (0..20)
            .map(|n| work(n, Some(if n % 3 == 0 { a } else { b })))
            .chain((20..24).map(|n| work(n, None)))
            .collect();
        let sub_batches = split(works, 4);
        assert!(sub_batches.len() <= 4);
        for aggregate in [a, b] {
            let holding: Vec<&Vec<Work>> = sub_batches
                .iter()
                .filter(|sub| sub.iter().any(|w| w.aggregate == Some(aggregate)))
                .collect();
            assert_eq!(holding.len(), 1, "one sub-batch holds the aggregate");
            let order: Vec<u64> = holding[0]
                .iter()
                .filter(|w| w.aggregate == Some(aggregate))
                .map(|w| w.entry.id.trim_end_matches("-0").parse().unwrap())
                .collect();
            assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{order:?}");
        }
        let total: usize = sub_batches.iter().map(Vec::len).sum();
        assert_eq!(total, 24);
    }
}
