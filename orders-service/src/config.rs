//! Settings from environment variables, checked once at start-up.
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `PORT` | 3040 | HTTP port (0 picks a free one) |
//! | `DATABASE_URL` | required | PostgreSQL database of orders-service |
//! | `DATABASE_MAX_CONNECTIONS` | 10 | pool size |
//! | `DATABASE_STATEMENT_TIMEOUT_MS`, `DATABASE_LOCK_TIMEOUT_MS`, `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS` | 5000, 4000, 3000 | every session's `statement_timeout`, `lock_timeout`, `idle_in_transaction_session_timeout` (0: off; [`web_kit::db::Timeouts`]) |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | streams, deny-list, pub/sub |
//! | `REDIS_KEY_PREFIX` | empty | prefixes every Redis key and channel |
//! | `JWT_PUBLIC_KEY` | unset | auth-service's Ed25519 public key (PEM); when unset the key set is fetched from `AUTH_URL` |
//! | `AUTH_URL` | `http://127.0.0.1:3030` | auth-service, for `GET /api/auth/jwks` |
//! | `RESERVATION_TTL_SECS` | 900 | how long a CONFIRMED order holds its stock |
//! | `PENDING_TIMEOUT_SECS` | 120 | how long an order waits for the inventory's answer |
//! | `SWEEP_INTERVAL_MS` | 1000 | how often the sweeper looks for expired or timed-out orders |
//! | `IDEMPOTENCY_KEY_TTL_SECS` | 86400 | an `Idempotency-Key` is forgotten this long after its first use (the sweeper deletes it) |
//!
//! Also read by web-kit: `LOG_FORMAT`, `RUST_LOG`. `APP_ENV` is accepted and unused.

use std::time::Duration;

use anyhow::anyhow;
use auth_kit::KeySource;
use web_kit::config::Env;

/// What the service needs to run. Public fields, so tests build it in code.
#[derive(Clone)]
pub struct Settings {
    pub port: u16,
    pub database_url: String,
    pub database_max_connections: u32,
    /// Deadlines of every database session (`DATABASE_*_TIMEOUT_MS`).
    pub database_timeouts: web_kit::db::Timeouts,
    pub redis_url: String,
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
        Ok(Self {
            port: env.parse("PORT", 3040)?,
            database_url: env.required("DATABASE_URL", "postgres://...")?,
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 10)?,
            database_timeouts: web_kit::db::Timeouts::from_env(&env)?,
            redis_url: env
                .var("REDIS_URL")
                .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned()),
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
        })
    }
}

fn positive(env: &Env, name: &str, default: u64) -> anyhow::Result<u64> {
    let value = env.parse(name, default)?;
    if value == 0 {
        return Err(anyhow!("{name} must be greater than 0"));
    }
    Ok(value)
}
