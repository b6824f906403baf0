//! The relay: publishes pending outbox rows to their streams in batches and marks them
//! published.

use std::time::{Duration, Instant};

use sqlx::{PgPool, Row, postgres::PgListener};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{StreamKeys, envelope::format_timestamp};

/// How the relay batches and backs off.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Rows claimed and published per round trip.
    pub batch_size: usize,
    /// Poll interval when no notification arrives (a safety net for missed NOTIFYs).
    pub poll_interval: Duration,
    /// First back-off after Redis or PostgreSQL fails; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Published rows older than this are deleted.
    pub retention: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 256,
            poll_interval: Duration::from_millis(500),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            retention: Duration::from_secs(24 * 3600),
        }
    }
}

/// Publishes pending outbox rows; safe to run in several replicas (`FOR UPDATE SKIP LOCKED`).
pub struct OutboxRelay {
    pool: PgPool,
    redis: deadpool_redis::Pool,
    keys: StreamKeys,
    config: RelayConfig,
}

impl OutboxRelay {
    pub fn new(
        pool: PgPool,
        redis: deadpool_redis::Pool,
        keys: StreamKeys,
        config: RelayConfig,
    ) -> Self {
        Self {
            pool,
            redis,
            keys,
            config,
        }
    }

    /// Runs until `shutdown` is cancelled: publishes whatever is pending, then waits for a
    /// `NOTIFY outbox` (or `poll_interval`), backing off while Redis or PostgreSQL fail, and
    /// purging published rows older than `retention` now and then.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = None;
        let mut backoff = self.config.min_backoff;
        let mut last_purge: Option<Instant> = None;
        let purge_every =
            (self.config.retention / 10).clamp(Duration::from_millis(100), Duration::from_secs(60));
        tracing::info!("outbox relay started");
        while !shutdown.is_cancelled() {
            if listener.is_none() {
                listener = self.listen().await;
            }
            let published = match self.publish_batch().await {
                Ok(published) => {
                    backoff = self.config.min_backoff;
                    published
                }
                Err(error) => {
                    tracing::warn!(error = %error, backoff_ms = backoff.as_millis() as u64, "outbox relay failed; backing off");
                    metrics::counter!("stream_outbox_errors_total").increment(1);
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
            // Idle: wait for a commit's NOTIFY, the poll interval, or shutdown.
            let broken = tokio::select! {
                _ = shutdown.cancelled() => break,
                broken = self.wait(listener.as_mut()) => broken,
            };
            if broken {
                listener = None;
            }
        }
        tracing::info!("outbox relay stopped");
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

    /// Waits for a notification or the poll interval; true when the listener broke.
    async fn wait(&self, listener: Option<&mut PgListener>) -> bool {
        let Some(listener) = listener else {
            tokio::time::sleep(self.config.poll_interval).await;
            return false;
        };
        match tokio::time::timeout(self.config.poll_interval, listener.recv()).await {
            Ok(Ok(_)) | Err(_) => false,
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "outbox listener failed; polling until it is back");
                true
            }
        }
    }

    /// Claims up to `batch_size` pending rows (skipping rows another relay holds), publishes
    /// them with one pipelined round trip, and marks them published in the same transaction.
    async fn publish_batch(&self) -> Result<usize, RelayError> {
        let mut transaction = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT id, stream, event_id, event_type, source, occurred_at, correlation_id,
                    payload::text AS payload
             FROM outbox WHERE published_at IS NULL
             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(i64::try_from(self.config.batch_size.max(1)).unwrap_or(i64::MAX))
        .fetch_all(&mut *transaction)
        .await?;
        if rows.is_empty() {
            transaction.commit().await?;
            return Ok(0);
        }
        let mut pipe = redis::pipe();
        let mut ids = Vec::with_capacity(rows.len());
        let mut streams = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let stream: String = row.try_get("stream")?;
            let event_id: Uuid = row.try_get("event_id")?;
            let event_type: String = row.try_get("event_type")?;
            let source: String = row.try_get("source")?;
            let occurred_at: OffsetDateTime = row.try_get("occurred_at")?;
            let correlation_id: String = row.try_get("correlation_id")?;
            let payload: String = row.try_get("payload")?;
            pipe.cmd("XADD")
                .arg(self.keys.key(&stream))
                .arg("*")
                .arg("event_id")
                .arg(event_id.to_string())
                .arg("type")
                .arg(event_type)
                .arg("source")
                .arg(source)
                .arg("occurred_at")
                .arg(format_timestamp(occurred_at))
                .arg("correlation_id")
                .arg(correlation_id)
                .arg("payload")
                .arg(payload);
            ids.push(id);
            streams.push(stream);
        }
        // Bounded, so a black-holed Redis cannot hold the row locks (and shutdown) for long.
        tokio::time::timeout(REDIS_TIMEOUT, async {
            let mut redis = self.redis.get().await?;
            let _: Vec<String> = pipe.query_async(&mut *redis).await?;
            Ok::<_, RelayError>(())
        })
        .await
        .map_err(|_| RelayError::Timeout)??;
        // A crash between the XADD and this commit publishes the rows again: the consumers'
        // inbox absorbs the duplicates.
        sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        for stream in streams {
            metrics::counter!("stream_outbox_published_total", "stream" => stream).increment(1);
        }
        tracing::debug!(count = ids.len(), "outbox rows published");
        Ok(ids.len())
    }

    async fn purge(&self) -> Result<(), sqlx::Error> {
        let purged = sqlx::query(
            "DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox
                 WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1)
                 LIMIT 10000)",
        )
        .bind(self.config.retention.as_secs_f64())
        .execute(&self.pool)
        .await?;
        if purged.rows_affected() > 0 {
            tracing::debug!(
                count = purged.rows_affected(),
                "published outbox rows purged"
            );
        }
        let waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        metrics::gauge!("stream_outbox_unpublished").set(waiting as f64);
        Ok(())
    }
}

const REDIS_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis pool: {0}")]
    Pool(#[from] deadpool_redis::PoolError),
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
