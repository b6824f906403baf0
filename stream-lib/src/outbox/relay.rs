//! The relay: publishes pending outbox rows to their streams in id order and marks them
//! published, checks that Redis still holds what it published (recovering when it does not), and
//! purges published rows past their retention.

use std::time::{Duration, Instant};

use futures::FutureExt;
use sqlx::{PgPool, Row, postgres::PgListener};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::recovery::{self, EntryId, Loss, RELAY_LOCK, Verdict};
use super::retention;
use crate::{
    StreamKeys, StreamRedis,
    envelope::{TRACEPARENT_FIELD, format_timestamp},
};

/// How the relay batches, checks Redis and backs off.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Rows claimed and published per round trip.
    pub batch_size: usize,
    /// Poll interval when no notification arrives (a safety net for missed NOTIFYs).
    pub poll_interval: Duration,
    /// While busy (the last round published rows), the next round starts no sooner than this
    /// after it began, so that the commits of that time go out in one round (one transaction,
    /// one script call) instead of one round each. An idle relay publishes a commit at once.
    pub linger: Duration,
    /// First back-off after Redis or PostgreSQL fails; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Published rows are kept at least this long (and republished if Redis loses its data
    /// within it), then deleted. Consumers must keep their inbox ids longer.
    pub retention: Duration,
    /// How often the relay checks, while idle, that Redis still holds what it published (every
    /// publish checks it too).
    pub check_interval: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 256,
            poll_interval: Duration::from_millis(500),
            linger: Duration::from_millis(5),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            retention: Duration::from_secs(24 * 3600),
            check_interval: Duration::from_secs(5),
        }
    }
}

/// Publishes pending outbox rows; safe to run in several replicas (one publishes at a time, under
/// an advisory lock, so entries go out in id order; the others stand by).
pub struct OutboxRelay {
    pool: PgPool,
    redis: StreamRedis,
    keys: StreamKeys,
    config: RelayConfig,
    state: crate::state::Reporter,
}

/// What one publishing round did.
enum Round {
    Published(usize),
    /// Another relay holds the lock (publishing or recovering).
    Busy,
    /// Redis lost data of this stream; nothing was published.
    Lost(String, Loss),
}

impl OutboxRelay {
    /// A relay of the outbox in `pool` to `redis` (a server or a cluster; it shares `redis`'s
    /// control connection).
    pub fn new(pool: PgPool, redis: StreamRedis, keys: StreamKeys, config: RelayConfig) -> Self {
        Self {
            pool,
            redis,
            keys,
            config,
            state: crate::state::Reporter::default(),
        }
    }

    /// Tells `listener` each change of state: running, paused while Redis or PostgreSQL fails,
    /// stopped ([`crate::state`]).
    pub fn with_state_listener(mut self, listener: impl crate::state::StateListener) -> Self {
        self.state = crate::state::Reporter::new(listener);
        self
    }

    /// Runs until `shutdown` is cancelled: checks Redis, publishes whatever is pending, then
    /// waits for a `NOTIFY outbox` (or `poll_interval`), backing off while Redis or PostgreSQL
    /// fail, re-checking Redis every `check_interval` and purging old published rows now and
    /// then. While busy, rounds are at least `linger` apart, and the notifications of commits a
    /// round will see are taken before it (one round for many commits, not one each).
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = None;
        let mut backoff = self.config.min_backoff;
        let mut last_purge: Option<Instant> = None;
        let mut last_check: Option<Instant> = None;
        let purge_every =
            (self.config.retention / 10).clamp(Duration::from_millis(100), Duration::from_secs(60));
        tracing::info!("outbox relay started");
        self.state.running();
        while !shutdown.is_cancelled() {
            if listener.is_none() {
                listener = self.listen().await;
            }
            let started = Instant::now();
            let round = async {
                if last_check.is_none_or(|at| at.elapsed() >= self.config.check_interval) {
                    self.check().await?;
                    last_check = Some(Instant::now());
                }
                self.publish_batch().await
            };
            let published = match round.await {
                Ok(Round::Published(published)) => {
                    backoff = self.config.min_backoff;
                    self.state.running();
                    published
                }
                Ok(Round::Busy) => {
                    // Another replica publishes; this one answers and stands by.
                    self.state.running();
                    0
                }
                Ok(Round::Lost(stream, loss)) => {
                    tracing::warn!(%stream, %loss, "Redis lost stream data");
                    match self.recover(&stream).await {
                        Ok(true) => continue,
                        Ok(false) => {}
                        Err(error) => {
                            tracing::warn!(%stream, error = %error, "outbox recovery failed")
                        }
                    }
                    if sleep_or_cancel(&shutdown, backoff).await {
                        break;
                    }
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    continue;
                }
                Err(error) => {
                    tracing::warn!(error = %error, backoff_ms = backoff.as_millis() as u64, "outbox relay failed; backing off");
                    metrics::counter!("stream_outbox_errors_total").increment(1);
                    self.state
                        .paused(format_args!("publishing failed: {error}"));
                    if sleep_or_cancel(&shutdown, backoff).await {
                        break;
                    }
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    continue;
                }
            };
            if published >= self.config.batch_size.max(1) {
                continue;
            }
            if last_purge.is_none_or(|at| at.elapsed() >= purge_every) {
                last_purge = Some(Instant::now());
                if let Err(error) = self.purge().await {
                    tracing::warn!(error = %error, "outbox purge failed");
                }
            }
            if published > 0 {
                // Busy: let the commits of the next moments gather, then go again if any
                // notified meanwhile (or, without a listener, at once).
                let linger = self.config.linger.saturating_sub(started.elapsed());
                if !linger.is_zero() && sleep_or_cancel(&shutdown, linger).await {
                    break;
                }
                if listener.as_mut().is_none_or(|listener| drain(listener) > 0) {
                    continue;
                }
            }
            // Idle: wait for a commit's NOTIFY, the poll interval, or shutdown.
            let broken = tokio::select! {
                _ = shutdown.cancelled() => break,
                broken = self.wait(listener.as_mut()) => broken,
            };
            if broken {
                listener = None;
            }
        }
        self.state.stopped("shut down");
        tracing::info!("outbox relay stopped");
    }

    /// Checks every stream this outbox published to (one script call each); recovers those
    /// Redis lost.
    async fn check(&self) -> Result<(), RelayError> {
        let streams = recovery::load_all(&self.pool).await?;
        if streams.is_empty() {
            return Ok(());
        }
        let mut redis = self.redis.control().await?;
        for (stream, state) in streams {
            let verdict = bounded(recovery::publish(
                &mut redis,
                &self.keys,
                &stream,
                &state,
                &[],
            ))
            .await??;
            if let Verdict::Lost(loss) = verdict {
                tracing::warn!(%stream, %loss, "Redis lost stream data");
                self.recover(&stream).await?;
            }
        }
        Ok(())
    }

    /// True when rows were marked for republishing.
    async fn recover(&self, stream: &str) -> Result<bool, RelayError> {
        let marked = recovery::recover(
            &self.pool,
            &self.redis,
            &self.keys,
            stream,
            self.config.retention,
        )
        .await?;
        Ok(marked.is_some())
    }

    async fn listen(&self) -> Option<PgListener> {
        let attempt = async {
            let mut listener = PgListener::connect_with(&self.pool).await?;
            listener.listen("outbox").await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match attempt.await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(error = %error, "cannot LISTEN outbox; polling instead");
                None
            }
        }
    }

    /// Waits for a notification or the poll interval, then takes the notifications received
    /// meanwhile (the next round sees their commits); true when the listener broke.
    async fn wait(&self, listener: Option<&mut PgListener>) -> bool {
        let Some(listener) = listener else {
            tokio::time::sleep(self.config.poll_interval).await;
            return false;
        };
        match tokio::time::timeout(self.config.poll_interval, listener.recv()).await {
            Ok(Ok(_)) => {
                drain(listener);
                false
            }
            Err(_) => false,
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "outbox listener failed; polling until it is back");
                true
            }
        }
    }

    /// Under [`RELAY_LOCK`], claims up to `batch_size` pending rows in id order, publishes them
    /// with one script call per stream (which refuses if Redis lost data), and marks them
    /// published together with the last entry id, in the same transaction.
    async fn publish_batch(&self) -> Result<Round, RelayError> {
        let mut transaction = crate::db::begin(&self.pool).await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(RELAY_LOCK)
            .fetch_one(&mut *transaction)
            .await?;
        if !locked {
            transaction.commit().await?;
            return Ok(Round::Busy);
        }
        let rows = sqlx::query(
            "SELECT id, stream, event_id, event_type, source, occurred_at, correlation_id,
                    payload::text AS payload, traceparent
             FROM outbox WHERE published_at IS NULL
             ORDER BY id LIMIT $1 FOR UPDATE",
        )
        .bind(i64::try_from(self.config.batch_size.max(1)).unwrap_or(i64::MAX))
        .fetch_all(&mut *transaction)
        .await?;
        if rows.is_empty() {
            transaction.commit().await?;
            return Ok(Round::Published(0));
        }
        // Per stream, in id order; the rows' publication spans end with this round.
        let mut publications = Vec::new();
        let mut batches: Vec<(String, Vec<i64>, Vec<Vec<String>>)> = Vec::new();
        for row in &rows {
            let stream: String = row.try_get("stream")?;
            let event_id: Uuid = row.try_get("event_id")?;
            let event_type: String = row.try_get("event_type")?;
            let occurred_at: OffsetDateTime = row.try_get("occurred_at")?;
            let mut fields = vec![
                "event_id".to_owned(),
                event_id.to_string(),
                "type".to_owned(),
                event_type.clone(),
                "source".to_owned(),
                row.try_get("source")?,
                "occurred_at".to_owned(),
                format_timestamp(occurred_at),
                "correlation_id".to_owned(),
                row.try_get("correlation_id")?,
                "payload".to_owned(),
                row.try_get("payload")?,
            ];
            if let Some(stored) = row.try_get::<Option<String>, _>("traceparent")? {
                let (span, carried) =
                    crate::trace::publication(&stream, event_id, &event_type, stored);
                publications.push(span);
                fields.extend([TRACEPARENT_FIELD.to_owned(), carried]);
            }
            let index = match batches.iter().position(|(name, ..)| *name == stream) {
                Some(index) => index,
                None => {
                    batches.push((stream, Vec::new(), Vec::new()));
                    batches.len() - 1
                }
            };
            batches[index].1.push(row.try_get("id")?);
            batches[index].2.push(fields);
        }
        let names: Vec<String> = batches.iter().map(|(name, ..)| name.clone()).collect();
        let mut states = recovery::load(&mut transaction, &names).await?;
        let mut redis = self.redis.control().await?;
        let mut published_ids = Vec::with_capacity(rows.len());
        let mut lasts = Vec::with_capacity(batches.len());
        for (stream, ids, entries) in &batches {
            let state = match states.remove(stream) {
                Some(state) => state,
                None => {
                    recovery::start_stream(&mut transaction, &mut redis, &self.keys, stream).await?
                }
            };
            // Bounded, so a black-holed Redis cannot hold the row locks (and shutdown) for long.
            let verdict = bounded(recovery::publish(
                &mut redis, &self.keys, stream, &state, entries,
            ))
            .await??;
            match verdict {
                // A crash between the XADD and the commit publishes the rows again: the
                // consumers' inbox absorbs the duplicates.
                Verdict::Accepted(entry_ids) => {
                    let last = entry_ids.iter().filter_map(|id| EntryId::parse(id)).max();
                    lasts.push((stream.clone(), last.unwrap_or(state.last)));
                    published_ids.extend_from_slice(ids);
                }
                // Rolled back: the rows published to other streams in this round go out again.
                Verdict::Lost(loss) => {
                    // Now, so the advisory lock is free for the recovery.
                    transaction.rollback().await?;
                    return Ok(Round::Lost(stream.clone(), loss));
                }
            }
        }
        sqlx::query(
            "WITH published AS (UPDATE outbox SET published_at = now() WHERE id = ANY($1))
             UPDATE outbox_streams s SET last_ms = v.ms, last_seq = v.seq
             FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS v(stream, ms, seq)
             WHERE s.stream = v.stream AND (s.last_ms, s.last_seq) < (v.ms, v.seq)",
        )
        .bind(&published_ids)
        .bind(
            lasts
                .iter()
                .map(|(stream, _)| stream.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            lasts
                .iter()
                .map(|(_, id)| as_i64(id.ms))
                .collect::<Vec<_>>(),
        )
        .bind(
            lasts
                .iter()
                .map(|(_, id)| as_i64(id.seq))
                .collect::<Vec<_>>(),
        )
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        for (stream, ids, _) in &batches {
            metrics::counter!("stream_outbox_published_total", "stream" => stream.clone())
                .increment(ids.len() as u64);
        }
        tracing::debug!(count = published_ids.len(), "outbox rows published");
        Ok(Round::Published(published_ids.len()))
    }

    async fn purge(&self) -> Result<(), sqlx::Error> {
        let purged = retention::purge_published(
            &self.pool,
            self.config.retention,
            retention::PURGE_BATCH,
            retention::PURGE_BATCHES_PER_ROUND,
        )
        .await?;
        if purged > 0 {
            tracing::debug!(count = purged, "published outbox rows purged");
        }
        let waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        metrics::gauge!("stream_outbox_unpublished").set(waiting as f64);
        Ok(())
    }
}

/// Takes every notification already received, without waiting; returns how many. Each one
/// announced a commit that is visible to the next round, so none of them needs a round of its
/// own. (A listener that broke meanwhile shows up in the next wait.)
fn drain(listener: &mut PgListener) -> usize {
    let mut taken = 0;
    while let Some(Ok(Some(_))) = listener.try_recv().now_or_never() {
        taken += 1;
    }
    taken
}

fn as_i64(number: u64) -> i64 {
    i64::try_from(number).unwrap_or(i64::MAX)
}

const REDIS_TIMEOUT: Duration = Duration::from_secs(10);

async fn bounded<T>(
    call: impl Future<Output = redis::RedisResult<T>>,
) -> Result<redis::RedisResult<T>, RelayError> {
    tokio::time::timeout(REDIS_TIMEOUT, call)
        .await
        .map_err(|_| RelayError::Timeout)
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RelayError {
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer within {REDIS_TIMEOUT:?}")]
    Timeout,
}

/// Sleeps `duration` unless `shutdown` comes first; true when it did.
pub(crate) async fn sleep_or_cancel(shutdown: &CancellationToken, duration: Duration) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => true,
        () = tokio::time::sleep(duration) => false,
    }
}
