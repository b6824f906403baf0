//! A consumer-group reader with every delivery guarantee: XACK only after the handler committed,
//! bounded concurrency, batched blocking reads on a dedicated connection, durable exponential
//! backoff, dead-lettering, reclaim of entries left by crashed consumers, graceful shutdown.

use std::{future::Future, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::{Event, StreamKeys};

/// Why a handler failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying (database down, a lock timeout): retried with backoff, then dead-lettered.
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Retrying cannot help (a payload that breaks an invariant): dead-lettered at once.
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

impl HandlerError {
    pub fn transient(error: impl Into<anyhow::Error>) -> Self {
        Self::Transient(error.into())
    }

    pub fn permanent(error: impl Into<anyhow::Error>) -> Self {
        Self::Permanent(error.into())
    }
}

/// Database errors are worth a retry by default.
impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        Self::Transient(error.into())
    }
}

/// What a consuming service implements.
pub trait Handler: Send + Sync + 'static {
    /// Whether this consumer handles `event_type`. Entries of other types are acked and skipped
    /// (forward compatibility), with a debug log.
    fn handles(&self, event_type: &str) -> bool;

    /// Applies the event. Record `event.event_id` in the inbox in the same transaction as the
    /// effect; return only once that transaction committed.
    fn handle(&self, event: &Event) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Exponential backoff with jitter: `base * factor^(attempt-1)`, capped, ± `jitter`.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub base: Duration,
    pub factor: f64,
    pub cap: Duration,
    /// Attempts in all, the first included; after the last the entry is dead-lettered.
    pub max_attempts: u32,
    /// Fraction of the delay drawn at random either way (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            factor: 2.0,
            cap: Duration::from_secs(300),
            max_attempts: 8,
            jitter: 0.2,
        }
    }
}

/// Where and how a consumer reads.
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
        let _ = (
            &self.client,
            &self.keys,
            &self.config,
            &self.handler,
            shutdown,
        );
        todo!("stream-lib: consumer")
    }
}
