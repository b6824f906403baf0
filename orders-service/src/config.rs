//! Settings from environment variables, checked once at start-up.
//!
//! Each variable is declared once, in [`SETTINGS`] (name, default, meaning), with those of the
//! shared crates it uses: the reading below goes through the declarations, the table here and
//! the README's are made from them, and the deployment test (tests/api/deployment.rs) holds the
//! compose, Kubernetes, Ansible and `.env.example` files to every service's declarations.
//!
//! <!-- settings: made from the declarations in src/config.rs; SETTINGS_DOCS=write cargo test rewrites it -->
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `PORT` | `3040` | HTTP port (0 picks a free one) |
//! | `DATABASE_URL` | required (postgres://...) | its PostgreSQL database (migrated at start-up) |
//! | `DATABASE_MAX_CONNECTIONS` | `10` | pool size |
//! | `DATABASE_STATEMENT_TIMEOUT_MS` | `5000` | every session's `statement_timeout`: a statement running longer fails (0: off; migrations run without it) |
//! | `DATABASE_LOCK_TIMEOUT_MS` | `4000` | `lock_timeout`: a wait for a row or table lock longer than this fails (0: off) |
//! | `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS` | `3000` | `idle_in_transaction_session_timeout`: a session idle this long inside a transaction (a frozen or hung peer) is ended and its locks released (0: off) |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | streams, deny-list, pub/sub |
//! | `REDIS_CLUSTER_URLS` | empty | comma-separated `redis://` node URLs of a Redis Cluster; when set it wins over `REDIS_URL` for everything: the streams, the deny-list, placement limits and live updates (a sharded channel: `SPUBLISH`/`SSUBSCRIBE`) |
//! | `REDIS_KEY_PREFIX` | empty | prefixes every Redis key and channel |
//! | `JWT_PUBLIC_KEY` | unset | auth-service's Ed25519 public key (PEM, `\n` escapes allowed); unset: the key set is fetched from `AUTH_URL` |
//! | `AUTH_URL` | `http://127.0.0.1:3030` | used when `JWT_PUBLIC_KEY` is unset: JWKS fetched at start-up (60 s patience) |
//! | `RESERVATION_TTL_SECS` | `900` | how long a CONFIRMED order holds its stock |
//! | `PENDING_TIMEOUT_SECS` | `120` | how long a PENDING order waits for the inventory |
//! | `SWEEP_INTERVAL_MS` | `1000` | how often the sweeper looks for expired or timed-out orders |
//! | `IDEMPOTENCY_KEY_TTL_SECS` | `86400` | an `Idempotency-Key` is forgotten this long after its first use: the sweeper deletes expired keys, at most 1,000 per statement |
//! | `MAX_OPEN_ORDERS_PER_BUYER` | `20` | orders PENDING or CONFIRMED one buyer may hold at once |
//! | `RATE_LIMIT_ORDERS_PER_BUYER` | `30` | `POST /api/orders` requests per buyer per window (all replicas) |
//! | `RATE_LIMIT_ORDERS_WINDOW_SECONDS` | `60` | that window |
//! | `STREAM_BATCH_SIZE` | `128` | entries read at once (one XREADGROUP) |
//! | `STREAM_CONCURRENCY` | `2` | transactions at once; a batch is split by aggregate (order, product) |
//! | `STREAM_BLOCK_MS` | `2000` | how long a read waits for entries |
//! | `STREAM_MIN_SUB_BATCH` | `16` | the fewest entries a sub-batch is given before another runs beside it |
//! | `STREAM_LINGER_MS` | `5` | while busy, reads this far apart, so what arrives meanwhile is applied together (0: at once) |
//! | `STREAM_CLAIM_IDLE_MS` | `30000` | an entry held this long by a silent replica is taken over |
//! | `STREAM_HANDLER_DEADLINE_MS` | `10000` | a batch transaction running longer is abandoned and retried (keep it above `DATABASE_STATEMENT_TIMEOUT_MS`) |
//! | `STREAM_RETRY_BASE_MS` | `1000` | first backoff of a failing entry, doubling at each attempt |
//! | `STREAM_RETRY_MAX_ATTEMPTS` | `8` | attempts before a failing entry is dead-lettered |
//! | `INBOX_RETENTION_SECS` | `604800` | handled event ids are remembered this long (more than `OUTBOX_RETENTION_SECS`) |
//! | `OUTBOX_RETENTION_SECS` | `86400` | published outbox rows are kept this long (republished if Redis loses them) |
//! | `OUTBOX_BATCH_SIZE` | `256` | outbox rows the relay publishes per round trip |
//! | `OUTBOX_POLL_INTERVAL_MS` | `500` | the relay's poll when no commit woke it |
//! | `OUTBOX_LINGER_MS` | `5` | while busy, the relay's rounds this far apart (0: every commit published at once) |
//! | `OUTBOX_CHECK_INTERVAL_MS` | `5000` | how often the idle relay checks that Redis kept what it published |
//! | `LOG_FORMAT` | `pretty` on a terminal, else `json` | log lines as `json` (containers) or `pretty` (terminals) |
//! | `RUST_LOG` | `info` (debug for the service itself) | the log filter, e.g. `info,orders_service=debug,sqlx=warn` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | unset | OTLP/HTTP endpoint the traces are exported to (`http://jaeger:4318`); unset: none |
//!
//! <!-- /settings -->

use std::time::Duration;

use anyhow::anyhow;
use auth_kit::KeySource;
use stream_lib::{ConsumerSettings, INVENTORY_STREAM, outbox::RelayConfig};
use web_kit::config::{self, Env, Setting};

use crate::SERVICE_NAME;

const PORT: Setting = Setting::value("PORT", "3040", "HTTP port (0 picks a free one)");
const DATABASE_URL: Setting = Setting::required(
    "DATABASE_URL",
    "postgres://...",
    "its PostgreSQL database (migrated at start-up)",
);
const DATABASE_MAX_CONNECTIONS: Setting =
    Setting::value("DATABASE_MAX_CONNECTIONS", "10", "pool size");
const REDIS_URL: Setting = Setting::value(
    "REDIS_URL",
    "redis://127.0.0.1:6379",
    "streams, deny-list, pub/sub",
);
const REDIS_CLUSTER_URLS: Setting = Setting {
    meaning: "comma-separated `redis://` node URLs of a Redis Cluster; when set it wins over \
              `REDIS_URL` for everything: the streams, the deny-list, placement limits and live \
              updates (a sharded channel: `SPUBLISH`/`SSUBSCRIBE`)",
    ..config::REDIS_CLUSTER_URLS
};
const REDIS_KEY_PREFIX: Setting = Setting::value(
    "REDIS_KEY_PREFIX",
    "",
    "prefixes every Redis key and channel",
);
const JWT_PUBLIC_KEY: Setting = Setting::unset(
    "JWT_PUBLIC_KEY",
    "auth-service's Ed25519 public key (PEM, `\\n` escapes allowed); unset: the key set is \
     fetched from `AUTH_URL`",
);
const AUTH_URL: Setting = Setting::value(
    "AUTH_URL",
    "http://127.0.0.1:3030",
    "used when `JWT_PUBLIC_KEY` is unset: JWKS fetched at start-up (60 s patience)",
);
const RESERVATION_TTL_SECS: Setting = Setting::value(
    "RESERVATION_TTL_SECS",
    "900",
    "how long a CONFIRMED order holds its stock",
);
const PENDING_TIMEOUT_SECS: Setting = Setting::value(
    "PENDING_TIMEOUT_SECS",
    "120",
    "how long a PENDING order waits for the inventory",
);
const SWEEP_INTERVAL_MS: Setting = Setting::value(
    "SWEEP_INTERVAL_MS",
    "1000",
    "how often the sweeper looks for expired or timed-out orders",
);
const IDEMPOTENCY_KEY_TTL_SECS: Setting = Setting::value(
    "IDEMPOTENCY_KEY_TTL_SECS",
    "86400",
    "an `Idempotency-Key` is forgotten this long after its first use: the sweeper deletes \
     expired keys, at most 1,000 per statement",
);
const MAX_OPEN_ORDERS_PER_BUYER: Setting = Setting::value(
    "MAX_OPEN_ORDERS_PER_BUYER",
    "20",
    "orders PENDING or CONFIRMED one buyer may hold at once",
);
const RATE_LIMIT_ORDERS_PER_BUYER: Setting = Setting::value(
    "RATE_LIMIT_ORDERS_PER_BUYER",
    "30",
    "`POST /api/orders` requests per buyer per window (all replicas)",
);
const RATE_LIMIT_ORDERS_WINDOW_SECONDS: Setting =
    Setting::value("RATE_LIMIT_ORDERS_WINDOW_SECONDS", "60", "that window");

/// Every variable the service reads: its own, the deadlines of its database sessions, its
/// `inventory_stream` consumer's and outbox relay's (stream-lib), and the telemetry's (web-kit).
pub const SETTINGS: config::Settings = &[
    &[PORT, DATABASE_URL, DATABASE_MAX_CONNECTIONS],
    config::DATABASE_TIMEOUTS,
    &[
        REDIS_URL,
        REDIS_CLUSTER_URLS,
        REDIS_KEY_PREFIX,
        JWT_PUBLIC_KEY,
        AUTH_URL,
        RESERVATION_TTL_SECS,
        PENDING_TIMEOUT_SECS,
        SWEEP_INTERVAL_MS,
        IDEMPOTENCY_KEY_TTL_SECS,
        MAX_OPEN_ORDERS_PER_BUYER,
        RATE_LIMIT_ORDERS_PER_BUYER,
        RATE_LIMIT_ORDERS_WINDOW_SECONDS,
    ],
    ConsumerSettings::SETTINGS,
    RelayConfig::SETTINGS,
    config::TELEMETRY,
];

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
    let consumer = consumer_defaults().with(|name| env.lookup(name))?;
    let relay = RelayConfig::from_lookup(|name| env.lookup(name))?;
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
        Ok(Self {
            max_open_orders: positive(env, &MAX_OPEN_ORDERS_PER_BUYER)?,
            placements_per_window: positive(env, &RATE_LIMIT_ORDERS_PER_BUYER)?,
            window: Duration::from_secs(positive(env, &RATE_LIMIT_ORDERS_WINDOW_SECONDS)?),
        })
    }
}

impl Settings {
    /// Reads the environment; a missing or malformed value is an error naming the variable.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::read(&Env::process())
    }

    fn read(env: &Env<impl Fn(&str) -> Option<String>>) -> anyhow::Result<Self> {
        let auth = KeySource::pem_or_url(env.var(&JWT_PUBLIC_KEY), env.text(&AUTH_URL));
        let (consumer, relay) = stream_settings(env)?;
        Ok(Self {
            port: env.parse(&PORT)?,
            database_url: env.required(&DATABASE_URL)?,
            database_max_connections: env.parse(&DATABASE_MAX_CONNECTIONS)?,
            database_timeouts: web_kit::db::Timeouts::from_env(env)?,
            redis_url: env.text(&REDIS_URL),
            redis_cluster_urls: web_kit::redis_pool::cluster_urls(env)?,
            redis_key_prefix: env.exact(&REDIS_KEY_PREFIX).unwrap_or_default(),
            auth,
            reservation_ttl: Duration::from_secs(positive(env, &RESERVATION_TTL_SECS)?),
            pending_timeout: Duration::from_secs(positive(env, &PENDING_TIMEOUT_SECS)?),
            sweep_interval: Duration::from_millis(positive(env, &SWEEP_INTERVAL_MS)?),
            idempotency_key_ttl: Duration::from_secs(positive(env, &IDEMPOTENCY_KEY_TTL_SECS)?),
            buyer_limits: BuyerLimits::from_env(env)?,
            consumer,
            relay,
        })
    }
}

/// The setting's value, or its declared default; 0 is refused.
fn positive<T>(env: &Env<impl Fn(&str) -> Option<String>>, setting: &Setting) -> anyhow::Result<T>
where
    T: std::str::FromStr + PartialEq + From<u8>,
    T::Err: std::fmt::Display,
{
    let value = env.parse(setting)?;
    if value == T::from(0) {
        return Err(anyhow!("{} must be greater than 0", setting.name));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, path::Path};

    use super::*;

    #[test]
    fn the_declared_defaults_are_what_the_service_runs_with() {
        let env = Env::from_lookup(|name| (name == "DATABASE_URL").then(|| "postgres://x".into()));

        let settings = Settings::read(&env).unwrap();

        assert_eq!(settings.port, 3040);
        assert_eq!(settings.database_max_connections, 10);
        assert_eq!(settings.redis_url, "redis://127.0.0.1:6379");
        assert_eq!(settings.redis_key_prefix, "");
        assert_eq!(settings.reservation_ttl, Duration::from_secs(900));
        assert_eq!(settings.pending_timeout, Duration::from_secs(120));
        assert_eq!(settings.sweep_interval, Duration::from_millis(1000));
        assert_eq!(settings.idempotency_key_ttl, Duration::from_secs(86_400));
        let limits = settings.buyer_limits;
        let default = BuyerLimits::default();
        assert_eq!(limits.max_open_orders, default.max_open_orders);
        assert_eq!(limits.placements_per_window, default.placements_per_window);
        assert_eq!(limits.window, default.window);
        let error = Settings::read(&Env::from_lookup(|_| None)).err().unwrap();
        assert_eq!(
            error.to_string(),
            "DATABASE_URL must be set (postgres://...)"
        );
    }

    #[test]
    fn the_docs_tables_are_made_from_the_declarations() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));

        config::check_crate_docs(root, SETTINGS).unwrap();
    }

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
