//! Settings from environment variables, checked once at start-up.
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `PORT` | 3040 | HTTP port (0 picks a free one) |
//! | `DATABASE_URL` | required | PostgreSQL database of orders-service |
//! | `DATABASE_MAX_CONNECTIONS` | 10 | pool size |
//! | `DATABASE_STATEMENT_TIMEOUT_MS`, `DATABASE_LOCK_TIMEOUT_MS`, `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS` | 5000, 4000, 3000 | every session's `statement_timeout`, `lock_timeout`, `idle_in_transaction_session_timeout` (0: off; [`web_kit::db::Timeouts`]) |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | streams, deny-list, pub/sub |
//! | `REDIS_CLUSTER_URLS` | empty | comma-separated `redis://` node URLs of a Redis Cluster; when set it wins over `REDIS_URL` for everything: the streams, the deny-list, placement limits and live updates (sharded pub/sub) |
//! | `REDIS_KEY_PREFIX` | empty | prefixes every Redis key and channel |
//! | `JWT_PUBLIC_KEY` | unset | auth-service's Ed25519 public key (PEM); when unset the key set is fetched from `AUTH_URL` |
//! | `AUTH_URL` | `http://127.0.0.1:3030` | auth-service, for `GET /api/auth/jwks` |
//! | `RESERVATION_TTL_SECS` | 900 | how long a CONFIRMED order holds its stock |
//! | `PENDING_TIMEOUT_SECS` | 120 | how long an order waits for the inventory's answer |
//! | `SWEEP_INTERVAL_MS` | 1000 | how often the sweeper looks for expired or timed-out orders |
//! | `IDEMPOTENCY_KEY_TTL_SECS` | 86400 | an `Idempotency-Key` is forgotten this long after its first use (the sweeper deletes it) |
//! | `MAX_OPEN_ORDERS_PER_BUYER` | 20 | orders PENDING or CONFIRMED one buyer may hold at once |
//! | `RATE_LIMIT_ORDERS_PER_BUYER` | 30 | order placements (`POST /api/orders`) per buyer per window |
//! | `RATE_LIMIT_ORDERS_WINDOW_SECONDS` | 60 | that window |
//! | `STREAM_BATCH_SIZE` | 128 | `inventory_stream` entries read at once (one XREADGROUP) |
//! | `STREAM_CONCURRENCY` | 2 | transactions at once; a batch is split by aggregate (order, product) |
//! | `STREAM_BLOCK_MS` | 2000 | how long a read waits for entries |
//! | `STREAM_CLAIM_IDLE_MS` | 30000 | an entry held this long by a silent replica is taken over |
//! | `STREAM_HANDLER_DEADLINE_MS` | 10000 | a batch transaction running longer is abandoned and retried |
//! | `STREAM_RETRY_BASE_MS`, `STREAM_RETRY_MAX_ATTEMPTS` | 1000, 8 | backoff of a failing entry, attempts before it is dead-lettered |
//! | `INBOX_RETENTION_SECS` | 604800 | handled event ids are remembered this long (more than `OUTBOX_RETENTION_SECS`) |
//! | `OUTBOX_RETENTION_SECS` | 86400 | published outbox rows are kept this long (republished if Redis loses them) |
//! | `OUTBOX_BATCH_SIZE`, `OUTBOX_POLL_INTERVAL_MS`, `OUTBOX_CHECK_INTERVAL_MS` | 256, 500, 5000 | the relay's rows per publish, its poll without notifications, how often it checks that Redis kept what it published |
//!
//! The `STREAM_*` and `INBOX_RETENTION_SECS` variables are read by [`stream_lib::ConsumerSettings`],
//! the `OUTBOX_*` ones by [`stream_lib::outbox::RelayConfig::from_lookup`].
//!
//! Also read by web-kit: `LOG_FORMAT`, `RUST_LOG`. `APP_ENV` is accepted and unused.

use std::time::Duration;

use anyhow::anyhow;
use auth_kit::KeySource;
use stream_lib::{ConsumerSettings, INVENTORY_STREAM, outbox::RelayConfig};
use web_kit::config::Env;

use crate::SERVICE_NAME;

/// What the service needs to run. Public fields, so tests build it in code.
#[derive(Clone)]
pub struct Settings {
    pub port: u16,
    pub database_url: String,
    pub database_max_connections: u32,
    /// Deadlines of every database session (`DATABASE_*_TIMEOUT_MS`).
    pub database_timeouts: web_kit::db::Timeouts,
    pub redis_url: String,
    /// A Redis Cluster's node URLs (`REDIS_CLUSTER_URLS`); when not empty, the streams and the
    /// service's own keys and channel are there instead of at `redis_url`.
    pub redis_cluster_urls: Vec<String>,
    /// Prefix of every Redis key and channel (empty in production; unique per test).
    pub redis_key_prefix: String,
    /// Token verification key (`JWT_PUBLIC_KEY`, else the key set from `AUTH_URL`).
    pub auth: KeySource,
    /// CONFIRMED orders expire this long after the reservation.
    pub reservation_ttl: Duration,
    /// PENDING orders are rejected (reason `timeout`) this long after being placed.
    pub pending_timeout: Duration,
    /// How often the sweeper runs.
    pub sweep_interval: Duration,
    /// Idempotency keys are forgotten this long after their first use.
    pub idempotency_key_ttl: Duration,
    /// What one buyer may hold and place.
    pub buyer_limits: BuyerLimits,
    /// The `inventory_stream` consumer (`STREAM_*`, `INBOX_RETENTION_SECS`); its consumer name
    /// is made unique by each [`crate::startup::Application::run_until`].
    pub consumer: ConsumerSettings,
    /// The outbox relay (`OUTBOX_RETENTION_SECS`, `OUTBOX_BATCH_SIZE`, `OUTBOX_POLL_INTERVAL_MS`,
    /// `OUTBOX_CHECK_INTERVAL_MS`, read by [`RelayConfig::from_lookup`]).
    pub relay: RelayConfig,
}

/// The consumer's defaults: `inventory_stream`, read as this service's group.
pub fn consumer_defaults() -> ConsumerSettings {
    ConsumerSettings::new(INVENTORY_STREAM, SERVICE_NAME)
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

/// Per-buyer limits on placing orders, so that one account cannot hold all the stock.
#[derive(Clone, Copy, Debug)]
pub struct BuyerLimits {
    /// Orders PENDING or CONFIRMED at once; one more is refused with 409.
    pub max_open_orders: u32,
    /// `POST /api/orders` requests per `window`; more are refused with 429.
    pub placements_per_window: u32,
    pub window: Duration,
}

impl Default for BuyerLimits {
    fn default() -> Self {
        Self {
            max_open_orders: 20,
            placements_per_window: 30,
            window: Duration::from_secs(60),
        }
    }
}

impl BuyerLimits {
    fn from_env(env: &Env<impl Fn(&str) -> Option<String>>) -> anyhow::Result<Self> {
        let default = Self::default();
        Ok(Self {
            max_open_orders: positive(env, "MAX_OPEN_ORDERS_PER_BUYER", default.max_open_orders)?,
            placements_per_window: positive(
                env,
                "RATE_LIMIT_ORDERS_PER_BUYER",
                default.placements_per_window,
            )?,
            window: Duration::from_secs(positive(
                env,
                "RATE_LIMIT_ORDERS_WINDOW_SECONDS",
                default.window.as_secs(),
            )?),
        })
    }
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
            port: env.parse("PORT", 3040)?,
            database_url: env.required("DATABASE_URL", "postgres://...")?,
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 10)?,
            database_timeouts: web_kit::db::Timeouts::from_env(&env)?,
            redis_url: env
                .var("REDIS_URL")
                .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned()),
            redis_cluster_urls: web_kit::redis_pool::cluster_urls(&env)?,
            redis_key_prefix: env.exact("REDIS_KEY_PREFIX").unwrap_or_default(),
            auth,
            reservation_ttl: Duration::from_secs(positive(&env, "RESERVATION_TTL_SECS", 900)?),
            pending_timeout: Duration::from_secs(positive(&env, "PENDING_TIMEOUT_SECS", 120)?),
            sweep_interval: Duration::from_millis(positive(&env, "SWEEP_INTERVAL_MS", 1000)?),
            idempotency_key_ttl: Duration::from_secs(positive(
                &env,
                "IDEMPOTENCY_KEY_TTL_SECS",
                86_400,
            )?),
            buyer_limits: BuyerLimits::from_env(&env)?,
            consumer,
            relay,
        })
    }
}

fn positive<T>(
    env: &Env<impl Fn(&str) -> Option<String>>,
    name: &str,
    default: T,
) -> anyhow::Result<T>
where
    T: std::str::FromStr + PartialEq + From<u8>,
    T::Err: std::fmt::Display,
{
    let value = env.parse(name, default)?;
    if value == T::from(0) {
        return Err(anyhow!("{name} must be greater than 0"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn limits(pairs: &[(&'static str, &'static str)]) -> anyhow::Result<BuyerLimits> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        BuyerLimits::from_env(&Env::from_lookup(move |name| {
            map.get(name).map(|value| (*value).to_owned())
        }))
    }

    #[test]
    fn stream_settings_are_read_and_the_inbox_outlives_the_outbox() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            Env::from_lookup(move |name| {
                pairs
                    .iter()
                    .find(|(var, _)| *var == name)
                    .map(|(_, value)| (*value).to_owned())
            })
        };
        let (consumer, outbox) = stream_settings(&lookup(&[])).unwrap();
        assert_eq!(consumer.stream, INVENTORY_STREAM);
        assert_eq!(consumer.group, SERVICE_NAME);
        assert_eq!(outbox.retention, Duration::from_secs(86_400));
        let (consumer, _) =
            stream_settings(&lookup(&[("STREAM_HANDLER_DEADLINE_MS", "2500")])).unwrap();
        assert_eq!(consumer.handler_deadline, Duration::from_millis(2500));
        let error = stream_settings(&lookup(&[("OUTBOX_RETENTION_SECS", "604800")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("INBOX_RETENTION_SECS"), "{error}");
        assert!(stream_settings(&lookup(&[("STREAM_BATCH_SIZE", "many")])).is_err());
    }

    #[test]
    fn buyer_limits_default_to_twenty_open_orders_and_thirty_placements_a_minute() {
        let limits = limits(&[]).unwrap();
        assert_eq!(limits.max_open_orders, 20);
        assert_eq!(limits.placements_per_window, 30);
        assert_eq!(limits.window, Duration::from_secs(60));
    }

    #[test]
    fn buyer_limits_are_configurable_and_never_zero() {
        let limits = limits(&[
            ("MAX_OPEN_ORDERS_PER_BUYER", "1000000"),
            ("RATE_LIMIT_ORDERS_PER_BUYER", "5"),
            ("RATE_LIMIT_ORDERS_WINDOW_SECONDS", "10"),
        ])
        .unwrap();
        assert_eq!(limits.max_open_orders, 1_000_000);
        assert_eq!(limits.placements_per_window, 5);
        assert_eq!(limits.window, Duration::from_secs(10));
        for name in [
            "MAX_OPEN_ORDERS_PER_BUYER",
            "RATE_LIMIT_ORDERS_PER_BUYER",
            "RATE_LIMIT_ORDERS_WINDOW_SECONDS",
        ] {
            let error = self::limits(&[(name, "0")]).unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
        }
        let error = self::limits(&[("MAX_OPEN_ORDERS_PER_BUYER", "-1")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("MAX_OPEN_ORDERS_PER_BUYER"), "{error}");
    }
}
