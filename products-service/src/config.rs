//! Settings from environment variables, checked once at start-up. Every field is public so a
//! test (this crate's or another service's) can build a `Settings` in code.
//!
//! Each variable is declared once, in [`SETTINGS`] (name, default, meaning), with those of the
//! shared crates it uses: the reading below goes through the declarations, the table here and
//! the README's are made from them, and orders-service's deployment test holds the compose,
//! Kubernetes, Ansible and `.env.example` files to them.
//!
//! <!-- settings: made from the declarations in src/config.rs; SETTINGS_DOCS=write cargo test rewrites it -->
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `PORT` | `3020` | HTTP port (0 picks a free one) |
//! | `DATABASE_URL` | required (e.g. postgres://postgres@127.0.0.1:5432/products) | PostgreSQL database of this service (migrated at start-up) |
//! | `DATABASE_MAX_CONNECTIONS` | `20` | pool size (the consumer runs up to 16 handlers) |
//! | `DATABASE_STATEMENT_TIMEOUT_MS` | `5000` | every session's `statement_timeout`: a statement running longer fails (0: off; migrations run without it) |
//! | `DATABASE_LOCK_TIMEOUT_MS` | `4000` | `lock_timeout`: a wait for a row or table lock longer than this fails (0: off) |
//! | `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS` | `3000` | `idle_in_transaction_session_timeout`: a session idle this long inside a transaction (a frozen or hung peer) is ended and its locks released (0: off) |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | streams and the token deny-list |
//! | `REDIS_CLUSTER_URLS` | empty | comma-separated `redis://` node URLs of a Redis Cluster; when set the streams and the deny-list are there instead of at `REDIS_URL` |
//! | `REDIS_KEY_PREFIX` | empty | prefix of every Redis key (streams, deny-list) |
//! | `JWT_PUBLIC_KEY` | unset | Ed25519 public key (PEM; `\n` escapes accepted) that verifies access tokens; unset: the key set is fetched from `AUTH_URL` |
//! | `AUTH_URL` | `http://127.0.0.1:3030` | when `JWT_PUBLIC_KEY` is unset: fetch `GET /api/auth/jwks` (retried for 60 s) |
//! | `SEED_CATALOG` | `false` | `true`: create the demo catalog (about 270 listings) once |
//! | `DEMO_SELLER_ID` | `0193a1d0-5eed-7000-8000-000000000001` | owner (`demo`) of half the seeded listings |
//! | `DEMO2_SELLER_ID` | `0193a1d0-5eed-7000-8000-000000000002` | owner (`demo2`) of the other half |
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

use auth_kit::KeySource;
use stream_lib::{ConsumerSettings, ORDERS_STREAM, outbox::RelayConfig};
use uuid::Uuid;
use web_kit::config::{self, Env, Setting};

use crate::SERVICE_NAME;

const PORT: Setting = Setting::value("PORT", "3020", "HTTP port (0 picks a free one)");
const DATABASE_URL: Setting = Setting::required(
    "DATABASE_URL",
    "e.g. postgres://postgres@127.0.0.1:5432/products",
    "PostgreSQL database of this service (migrated at start-up)",
);
const DATABASE_MAX_CONNECTIONS: Setting = Setting::value(
    "DATABASE_MAX_CONNECTIONS",
    "20",
    "pool size (the consumer runs up to 16 handlers)",
);
const REDIS_URL: Setting = Setting::value(
    "REDIS_URL",
    "redis://127.0.0.1:6379",
    "streams and the token deny-list",
);
const REDIS_CLUSTER_URLS: Setting = Setting {
    meaning: "comma-separated `redis://` node URLs of a Redis Cluster; when set the streams and \
              the deny-list are there instead of at `REDIS_URL`",
    ..config::REDIS_CLUSTER_URLS
};
const REDIS_KEY_PREFIX: Setting = Setting::value(
    "REDIS_KEY_PREFIX",
    "",
    "prefix of every Redis key (streams, deny-list)",
);
const JWT_PUBLIC_KEY: Setting = Setting::unset(
    "JWT_PUBLIC_KEY",
    "Ed25519 public key (PEM; `\\n` escapes accepted) that verifies access tokens; unset: the \
     key set is fetched from `AUTH_URL`",
);
const AUTH_URL: Setting = Setting::value(
    "AUTH_URL",
    "http://127.0.0.1:3030",
    "when `JWT_PUBLIC_KEY` is unset: fetch `GET /api/auth/jwks` (retried for 60 s)",
);
const SEED_CATALOG: Setting = Setting::value(
    "SEED_CATALOG",
    "false",
    "`true`: create the demo catalog (about 270 listings) once",
);
const DEMO_SELLER_ID: Setting = Setting::value(
    "DEMO_SELLER_ID",
    "0193a1d0-5eed-7000-8000-000000000001",
    "owner (`demo`) of half the seeded listings",
);
const DEMO2_SELLER_ID: Setting = Setting::value(
    "DEMO2_SELLER_ID",
    "0193a1d0-5eed-7000-8000-000000000002",
    "owner (`demo2`) of the other half",
);

/// Every variable the service reads: its own, the deadlines of its database sessions, its
/// `orders_stream` consumer's and outbox relay's (stream-lib), and the telemetry's (web-kit).
pub const SETTINGS: config::Settings = &[
    &[PORT, DATABASE_URL, DATABASE_MAX_CONNECTIONS],
    config::DATABASE_TIMEOUTS,
    &[
        REDIS_URL,
        REDIS_CLUSTER_URLS,
        REDIS_KEY_PREFIX,
        JWT_PUBLIC_KEY,
        AUTH_URL,
        SEED_CATALOG,
        DEMO_SELLER_ID,
        DEMO2_SELLER_ID,
    ],
    ConsumerSettings::SETTINGS,
    RelayConfig::SETTINGS,
    config::TELEMETRY,
];

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
            seed_catalog: env.flag(&SEED_CATALOG)?,
            demo_seller_id: env.parse(&DEMO_SELLER_ID)?,
            demo2_seller_id: env.parse(&DEMO2_SELLER_ID)?,
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

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, path::Path, time::Duration};

    use super::*;

    #[test]
    fn the_declared_defaults_are_what_the_service_runs_with() {
        let env = Env::from_lookup(|name| (name == "DATABASE_URL").then(|| "postgres://x".into()));

        let settings = Settings::read(&env).unwrap();

        assert_eq!(settings.port, 3020);
        assert_eq!(settings.database_max_connections, 20);
        assert_eq!(settings.redis_url, "redis://127.0.0.1:6379");
        assert!(settings.redis_cluster_urls.is_empty());
        assert_eq!(settings.redis_key_prefix, "");
        assert!(!settings.seed_catalog);
        assert_eq!(settings.demo_seller_id, crate::seed::DEMO_SELLER_ID);
        assert_eq!(settings.demo2_seller_id, crate::seed::DEMO2_SELLER_ID);
        let error = Settings::read(&Env::from_lookup(|_| None)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "DATABASE_URL must be set (e.g. postgres://postgres@127.0.0.1:5432/products)"
        );
    }

    #[test]
    fn the_docs_tables_are_made_from_the_declarations() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));

        config::check_crate_docs(root, SETTINGS).unwrap();
    }

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
