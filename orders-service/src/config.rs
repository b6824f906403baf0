//! Settings from environment variables, checked once at start-up.
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `PORT` | 3040 | HTTP port (0 picks a free one) |
//! | `DATABASE_URL` | required | PostgreSQL database of orders-service |
//! | `DATABASE_MAX_CONNECTIONS` | 10 | pool size |
//! | `REDIS_URL` | `redis://127.0.0.1:6379` | streams, deny-list, pub/sub |
//! | `REDIS_KEY_PREFIX` | empty | prefixes every Redis key and channel |
//! | `JWT_PUBLIC_KEY` | unset | auth-service's Ed25519 public key (PEM); when unset the key set is fetched from `AUTH_URL` |
//! | `AUTH_URL` | `http://127.0.0.1:3030` | auth-service, for `GET /api/auth/jwks` |
//! | `RESERVATION_TTL_SECS` | 900 | how long a CONFIRMED order holds its stock |
//! | `PENDING_TIMEOUT_SECS` | 120 | how long an order waits for the inventory's answer |
//! | `SWEEP_INTERVAL_MS` | 1000 | how often the sweeper looks for expired or timed-out orders |
//!
//! Also read by web-kit: `LOG_FORMAT`, `RUST_LOG`. `APP_ENV` is accepted and unused.

use std::time::Duration;

use anyhow::{Context, anyhow};
use auth_kit::KeySource;

/// What the service needs to run. Public fields, so tests build it in code.
#[derive(Clone)]
pub struct Settings {
    pub port: u16,
    pub database_url: String,
    pub database_max_connections: u32,
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
}

impl Settings {
    /// Reads the environment; a missing or malformed value is an error naming the variable.
    pub fn from_env() -> anyhow::Result<Self> {
        let auth = match var("JWT_PUBLIC_KEY") {
            Some(pem) => KeySource::PublicKeyPem(pem.replace("\\n", "\n")),
            None => KeySource::Url(
                var("AUTH_URL").unwrap_or_else(|| "http://127.0.0.1:3030".to_owned()),
            ),
        };
        Ok(Self {
            port: parse("PORT", 3040)?,
            database_url: var("DATABASE_URL")
                .ok_or_else(|| anyhow!("DATABASE_URL must be set (postgres://...)"))?,
            database_max_connections: parse("DATABASE_MAX_CONNECTIONS", 10)?,
            redis_url: var("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned()),
            redis_key_prefix: var("REDIS_KEY_PREFIX").unwrap_or_default(),
            auth,
            reservation_ttl: Duration::from_secs(positive("RESERVATION_TTL_SECS", 900)?),
            pending_timeout: Duration::from_secs(positive("PENDING_TIMEOUT_SECS", 120)?),
            sweep_interval: Duration::from_millis(positive("SWEEP_INTERVAL_MS", 1000)?),
        })
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn parse<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match var(name) {
        Some(value) => value
            .parse()
            .ok()
            .with_context(|| format!("{name} must be a number, got {value:?}")),
        None => Ok(default),
    }
}

fn positive(name: &str, default: u64) -> anyhow::Result<u64> {
    let value = parse(name, default)?;
    if value == 0 {
        return Err(anyhow!("{name} must be greater than 0"));
    }
    Ok(value)
}
