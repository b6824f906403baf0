//! Settings from environment variables, checked once at start-up. Every field is public so a
//! test (this crate's or another service's) can build a `Settings` in code.
//!
//! Variables read: `PORT` (3020), `DATABASE_URL` (required), `DATABASE_MAX_CONNECTIONS` (20),
//! `DATABASE_STATEMENT_TIMEOUT_MS` / `DATABASE_LOCK_TIMEOUT_MS` /
//! `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS` (5000 / 4000 / 3000, [`web_kit::db::Timeouts`]),
//! `REDIS_URL` (redis://127.0.0.1:6379), `REDIS_CLUSTER_URLS` (empty; comma-separated node URLs
//! of a Redis Cluster: when set, the streams and the deny-list are there instead),
//! `REDIS_KEY_PREFIX` (empty), `JWT_PUBLIC_KEY` (PEM; when
//! unset the key set is fetched from `AUTH_URL`, default http://127.0.0.1:3030), `SEED_CATALOG`
//! (false), `DEMO_SELLER_ID` / `DEMO2_SELLER_ID` (owners of the seeded listings; default
//! [`crate::seed::DEMO_SELLER_ID`] / [`crate::seed::DEMO2_SELLER_ID`]). The `orders_stream`
//! consumer reads `STREAM_BATCH_SIZE` (128), `STREAM_CONCURRENCY` (2), `STREAM_BLOCK_MS` (2000),
//! `STREAM_CLAIM_IDLE_MS` (30000), `STREAM_HANDLER_DEADLINE_MS` (10000), `STREAM_RETRY_BASE_MS`
//! (1000), `STREAM_RETRY_MAX_ATTEMPTS` (8) and `INBOX_RETENTION_SECS` (604800) through
//! [`stream_lib::ConsumerSettings`]; the outbox relay reads `OUTBOX_RETENTION_SECS` (86400, less
//! than the inbox retention), `OUTBOX_BATCH_SIZE` (256), `OUTBOX_POLL_INTERVAL_MS` (500) and
//! `OUTBOX_CHECK_INTERVAL_MS` (5000) through [`stream_lib::outbox::RelayConfig::from_lookup`]. `APP_ENV`, `LOG_FORMAT` and `RUST_LOG` are read by the
//! telemetry set-up.

use auth_kit::KeySource;
use stream_lib::{ConsumerSettings, ORDERS_STREAM, outbox::RelayConfig};
use uuid::Uuid;
use web_kit::config::Env;

use crate::{SERVICE_NAME, seed};

/// What the service needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// TCP port to listen on (`PORT`, default 3020; 0 picks a free one).
    pub port: u16,
    /// PostgreSQL database of this service (`DATABASE_URL`).
    pub database_url: String,
    /// Pool size (`DATABASE_MAX_CONNECTIONS`, default 20); the consumer runs up to 16 handlers.
    pub database_max_connections: u32,
    /// Deadlines of every database session (`DATABASE_*_TIMEOUT_MS`).
    pub database_timeouts: web_kit::db::Timeouts,
    /// Redis for the streams and the token deny-list (`REDIS_URL`).
    pub redis_url: String,
    /// A Redis Cluster's node URLs (`REDIS_CLUSTER_URLS`); when not empty, the streams and the
    /// deny-list are there instead of at `redis_url`.
    pub redis_cluster_urls: Vec<String>,
    /// Prefix of every Redis key this service touches (`REDIS_KEY_PREFIX`, default empty).
    pub redis_key_prefix: String,
    /// Token verification key (`JWT_PUBLIC_KEY` or `AUTH_URL`).
    pub auth: KeySource,
    /// Seed the demo catalog once (`SEED_CATALOG=true`).
    pub seed_catalog: bool,
    /// Owner of the first half of the seeded listings (`DEMO_SELLER_ID`), seller name `demo`.
    pub demo_seller_id: Uuid,
    /// Owner of the second half (`DEMO2_SELLER_ID`), seller name `demo2`.
    pub demo2_seller_id: Uuid,
    /// The `orders_stream` consumer (`STREAM_*`, `INBOX_RETENTION_SECS`); its consumer name is
    /// made unique by each [`crate::startup::Application::build`].
    pub consumer: ConsumerSettings,
    /// The outbox relay (`OUTBOX_RETENTION_SECS`, `OUTBOX_BATCH_SIZE`, `OUTBOX_POLL_INTERVAL_MS`,
    /// `OUTBOX_CHECK_INTERVAL_MS`, read by [`RelayConfig::from_lookup`]).
    pub relay: RelayConfig,
}

/// The consumer's defaults: `orders_stream`, read as this service's group.
pub fn consumer_defaults() -> ConsumerSettings {
    ConsumerSettings::new(ORDERS_STREAM, SERVICE_NAME)
}

impl Settings {
    /// Reads the environment; a missing or malformed value is an error naming the variable.
    pub fn from_env() -> anyhow::Result<Self> {
        let env = Env::process();
        let auth = KeySource::pem_or_url(
            env.var("JWT_PUBLIC_KEY"),
            env.var("AUTH_URL")
                .unwrap_or_else(|| "http://127.0.0.1:3030".to_owned()),
        );
        let (consumer, relay) = stream_settings(&env)?;
        Ok(Self {
            port: env.parse("PORT", 3020)?,
            database_url: env.required(
                "DATABASE_URL",
                "e.g. postgres://postgres@127.0.0.1:5432/products",
            )?,
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 20)?,
            database_timeouts: web_kit::db::Timeouts::from_env(&env)?,
            redis_url: env
                .var("REDIS_URL")
                .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned()),
            redis_cluster_urls: web_kit::redis_pool::cluster_urls(&env)?,
            redis_key_prefix: env.exact("REDIS_KEY_PREFIX").unwrap_or_default(),
            auth,
            seed_catalog: env.flag("SEED_CATALOG", false)?,
            demo_seller_id: env.parse("DEMO_SELLER_ID", seed::DEMO_SELLER_ID)?,
            demo2_seller_id: env.parse("DEMO2_SELLER_ID", seed::DEMO2_SELLER_ID)?,
            consumer,
            relay,
        })
    }
}

/// The consumer's and the relay's settings; the inbox must remember an event longer than the
/// outbox can publish it again.
fn stream_settings(
    env: &Env<impl Fn(&str) -> Option<String>>,
) -> anyhow::Result<(ConsumerSettings, RelayConfig)> {
    let consumer = consumer_defaults().with(|name| env.var(name))?;
    let relay = RelayConfig::from_lookup(|name| env.var(name))?;
    anyhow::ensure!(
        consumer.inbox_retention > relay.retention,
        "INBOX_RETENTION_SECS ({}) must exceed OUTBOX_RETENTION_SECS ({})",
        consumer.inbox_retention.as_secs(),
        relay.retention.as_secs()
    );
    Ok((consumer, relay))
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, time::Duration};

    use super::*;

    fn streams(
        pairs: &[(&'static str, &'static str)],
    ) -> anyhow::Result<(ConsumerSettings, RelayConfig)> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        stream_settings(&Env::from_lookup(move |name| {
            map.get(name).map(|value| (*value).to_owned())
        }))
    }

    #[test]
    fn stream_settings_are_read_and_the_inbox_outlives_the_outbox() {
        let (consumer, outbox) = streams(&[]).unwrap();
        assert_eq!(consumer.stream, ORDERS_STREAM);
        assert_eq!(consumer.group, SERVICE_NAME);
        assert_eq!(outbox.retention, Duration::from_secs(86_400));
        let (consumer, outbox) = streams(&[
            ("STREAM_BATCH_SIZE", "32"),
            ("INBOX_RETENTION_SECS", "7200"),
            ("OUTBOX_RETENTION_SECS", "3600"),
        ])
        .unwrap();
        assert_eq!(consumer.batch_size, 32);
        assert_eq!(outbox.retention, Duration::from_secs(3600));
        let error = streams(&[("INBOX_RETENTION_SECS", "3600")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("OUTBOX_RETENTION_SECS"), "{error}");
        assert!(streams(&[("STREAM_CONCURRENCY", "0")]).is_err());
    }
}
