//! The transactional outbox: a service writes its state change and the event in one PostgreSQL
//! transaction ([`enqueue`]); [`OutboxRelay`] publishes pending rows to their streams in batches
//! and marks them published.
//!
//! Each producing service's migrations create the table with exactly [`OUTBOX_TABLE_SQL`].

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::{Event, StreamKeys};

/// The SQL of the outbox table, its pending index and the trigger that wakes the relay
/// (`LISTEN outbox`) when a transaction that enqueued an event commits.
pub const OUTBOX_TABLE_SQL: &str = r#"CREATE TABLE outbox (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream         TEXT        NOT NULL,
    event_id       UUID        NOT NULL UNIQUE,
    event_type     TEXT        NOT NULL,
    source         TEXT        NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    correlation_id TEXT        NOT NULL,
    payload        JSONB       NOT NULL,
    published_at   TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();"#;

/// Writes `event` for `stream` (a logical name such as [`crate::ORDERS_STREAM`]) inside the
/// caller's transaction. Nothing is published if that transaction rolls back.
pub async fn enqueue(
    connection: &mut PgConnection,
    stream: &str,
    event: &Event,
) -> Result<(), sqlx::Error> {
    let _ = (connection, stream, event);
    todo!("stream-lib: enqueue")
}

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

    /// Runs until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        let _ = (&self.pool, &self.redis, &self.keys, &self.config, shutdown);
        todo!("stream-lib: relay")
    }
}
