//! Fixed-window counters in Redis, so limits hold across replicas. An attempt is counted before
//! the work it limits (the password hash), by one script that refuses it when any of its counters
//! is full (`lua/take_attempt.lua`): a burst of parallel guesses cannot all pass a check made
//! before any of them was counted. Signup counts every attempt per address and per email.
//!
//! A login is counted per address, and then either against its known device (a valid device
//! cookie for the account, see `devices`) or, from any other browser, per account and per
//! account and address. So a storm of guesses exhausts the account-wide limit only for unknown
//! browsers, while the owner signs in from theirs. A success gives its count back and clears the
//! counters of that browser (its device, or its account-and-address), never the account-wide
//! one, which an attacker elsewhere may be filling.
//!
//! Keys (under `REDIS_KEY_PREFIX`; `<account>` = sha256(lowercased email)[..16] hex; `{login}`
//! and `{signup}` are literal hash tags): `auth:rl:{login}:ip:<address>`,
//! `auth:rl:{login}:account:<account>`, `auth:rl:{login}:account-ip:<account>:<address>`,
//! `auth:rl:{login}:device:<account>:<device>`, and `auth:rl:{signup}:ip:<address>`,
//! `auth:rl:{signup}:account:<account>`. One script touches the counters of an address and of an
//! account together, so on a Redis Cluster all the counters of one action share a hash slot (the
//! tag): one master counts all logins, a script per attempt, far below what one master serves.
//! Redis being unreachable fails closed (503): the limits protect the password hashes.

use std::{net::IpAddr, sync::Arc};

use anyhow::Context;
use sha2::{Digest, Sha256};

use axum_extra::extract::CookieJar;

use crate::{config::RateLimits, devices::Devices, domain::Email, error::ApiError};

/// Checks and counts an attempt against several counters at once.
const TAKE_ATTEMPT: &str = include_str!("lua/take_attempt.lua");
/// Gives a successful attempt back.
const REFUND_ATTEMPT: &str = include_str!("lua/refund_attempt.lua");

/// Reads and bumps the counters. Cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    redis: web_kit::redis_pool::RedisPool,
    prefix: String,
    limits: RateLimits,
    devices: Devices,
    take: Arc<redis::Script>,
    refund: Arc<redis::Script>,
}

/// A counted login attempt, and what to give back if the password was right.
#[must_use = "a successful login gives its attempt back with RateLimiter::login_succeeded"]
pub struct LoginAttempt {
    decrement: Vec<String>,
    delete: Vec<String>,
}

/// The short, stable id of an account (of its lowercased email): no email in Redis or cookies.
pub fn account_digest(email: &str) -> [u8; 16] {
    let digest = Sha256::digest(Email::normalized(email).as_bytes());
    digest[..16]
        .try_into()
        .expect("a SHA-256 digest has 32 bytes")
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn account_tag(email: &str) -> String {
    hex(&account_digest(email))
}

impl RateLimiter {
    pub fn new(
        redis: web_kit::redis_pool::RedisPool,
        prefix: String,
        limits: RateLimits,
        devices: Devices,
    ) -> Self {
        Self {
            redis,
            prefix,
            limits,
            devices,
            take: Arc::new(redis::Script::new(TAKE_ATTEMPT)),
            refund: Arc::new(redis::Script::new(REFUND_ATTEMPT)),
        }
    }

    /// The counter `kind:id` of `action`, in the hash slot of every counter of `action`.
    fn key(&self, action: &str, kind: &str, id: impl std::fmt::Display) -> String {
        format!("{}auth:rl:{{{action}}}:{kind}:{id}", self.prefix)
    }

    async fn connection(&self) -> Result<web_kit::redis_pool::RedisConnection, ApiError> {
        self.redis
            .get()
            .await
            .context("cannot reach Redis for rate limiting")
            .map_err(ApiError::Unavailable)
    }

    /// Counts one attempt against each `(key, limit)`, or refuses it with 429 when any is full.
    async fn take(
        &self,
        action: &'static str,
        ip: IpAddr,
        counters: &[(String, u32)],
        window_seconds: u64,
    ) -> Result<(), ApiError> {
        let mut invocation = self.take.prepare_invoke();
        invocation.arg(window_seconds);
        for (key, limit) in counters {
            invocation.key(key).arg(limit);
        }
        let mut connection = self.connection().await?;
        let retry_after: u64 = invocation
            .invoke_async(&mut connection)
            .await
            .context("counting an attempt")
            .map_err(ApiError::Unavailable)?;
        if retry_after == 0 {
            return Ok(());
        }
        tracing::warn!(action, %ip, "rate limited");
        Err(ApiError::RateLimited {
            retry_after_seconds: retry_after,
        })
    }

    /// Counts a signup attempt per address and per email (429 when either is spent).
    pub async fn signup_attempt(&self, ip: IpAddr, email: &str) -> Result<(), ApiError> {
        let limit = self.limits.signup;
        let counters = [
            (self.key("signup", "ip", ip), limit.per_ip),
            (
                self.key("signup", "account", account_tag(email)),
                limit.per_account,
            ),
        ];
        self.take("signup", ip, &counters, limit.window.as_secs().max(1))
            .await
    }

    /// Counts a login attempt before its password is checked (429 when a counter is spent):
    /// from a browser whose device cookie (in `jar`) is valid for the account, against that
    /// device; else against the account and the account at this address.
    pub async fn login_attempt(
        &self,
        ip: IpAddr,
        jar: &CookieJar,
        email: &str,
    ) -> Result<LoginAttempt, ApiError> {
        let device = self.devices.recognise(jar, email);
        let limit = self.limits.login;
        let account = account_tag(email);
        let ip_key = self.key("login", "ip", ip);
        let mut counters = vec![(ip_key.clone(), limit.per_ip)];
        let mut attempt = LoginAttempt {
            decrement: vec![ip_key],
            delete: Vec::new(),
        };
        match device {
            Some(device) => {
                let device_key = self.key("login", "device", format!("{account}:{}", device.id));
                counters.push((device_key.clone(), limit.per_device));
                attempt.delete.push(device_key);
            }
            None => {
                let account_key = self.key("login", "account", &account);
                let account_ip_key = self.key("login", "account-ip", format!("{account}:{ip}"));
                counters.push((account_key.clone(), limit.per_account));
                counters.push((account_ip_key.clone(), limit.per_account_and_ip));
                attempt.decrement.push(account_key);
                attempt.delete.push(account_ip_key);
            }
        }
        self.take("login", ip, &counters, limit.window.as_secs().max(1))
            .await?;
        Ok(attempt)
    }

    /// A device cookie for the account of `email`, to set after a successful sign-in.
    pub fn remember_device(&self, jar: CookieJar, email: &str) -> CookieJar {
        self.devices.remember(jar, email)
    }

    /// The password was right: the attempt is not a failure, and that browser's failures are
    /// cleared.
    pub async fn login_succeeded(&self, attempt: LoginAttempt) -> Result<(), ApiError> {
        let mut invocation = self.refund.prepare_invoke();
        invocation.arg(attempt.decrement.len());
        for key in attempt.decrement.iter().chain(&attempt.delete) {
            invocation.key(key);
        }
        let mut connection = self.connection().await?;
        let () = invocation
            .invoke_async(&mut connection)
            .await
            .context("giving back a login attempt")
            .map_err(ApiError::Unavailable)?;
        Ok(())
    }
}
