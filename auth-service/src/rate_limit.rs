//! Fixed-window counters in Redis, so limits hold across replicas. An attempt is counted before
//! the work it limits (the password hash), by one script that refuses it when any of its counters
//! is full (`lua/take_attempt.lua`): a burst of parallel guesses cannot all pass a check made
//! before any of them was counted. Signup counts every attempt; a login that succeeds gives its
//! count back and clears the account's failures.
//!
//! Keys (under `REDIS_KEY_PREFIX`): `auth:rl:{login|signup}:ip:{address}` and
//! `auth:rl:{login|signup}:account:{sha256(lowercased email)[..16] hex}`.
//! Redis being unreachable fails closed (503): the limits protect the password hashes.

use std::{net::IpAddr, sync::Arc};

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::{config::RateLimits, domain::Email, error::ApiError};

/// Checks and counts an attempt against several counters at once.
const TAKE_ATTEMPT: &str = include_str!("lua/take_attempt.lua");
/// Gives a successful attempt back.
const REFUND_ATTEMPT: &str = include_str!("lua/refund_attempt.lua");

/// Reads and bumps the counters. Cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    redis: deadpool_redis::Pool,
    prefix: String,
    limits: RateLimits,
    take: Arc<redis::Script>,
    refund: Arc<redis::Script>,
}

/// A counted login attempt, and what to give back if the password was right.
#[must_use = "a successful login gives its attempt back with RateLimiter::login_succeeded"]
pub struct LoginAttempt {
    decrement: Vec<String>,
    delete: Vec<String>,
}

/// The short, stable id of an account in counter keys: no email in Redis.
pub fn account_tag(email: &str) -> String {
    let digest = Sha256::digest(Email::normalized(email).as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl RateLimiter {
    pub fn new(redis: deadpool_redis::Pool, prefix: String, limits: RateLimits) -> Self {
        Self {
            redis,
            prefix,
            limits,
            take: Arc::new(redis::Script::new(TAKE_ATTEMPT)),
            refund: Arc::new(redis::Script::new(REFUND_ATTEMPT)),
        }
    }

    fn key(&self, action: &str, kind: &str, id: impl std::fmt::Display) -> String {
        format!("{}auth:rl:{action}:{kind}:{id}", self.prefix)
    }

    async fn connection(&self) -> Result<deadpool_redis::Connection, ApiError> {
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
            .invoke_async(&mut *connection)
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

    /// Counts a login attempt before its password is checked (429 when a counter is spent).
    pub async fn login_attempt(&self, ip: IpAddr, email: &str) -> Result<LoginAttempt, ApiError> {
        let limit = self.limits.login;
        let ip_key = self.key("login", "ip", ip);
        let account_key = self.key("login", "account", account_tag(email));
        let counters = [
            (ip_key.clone(), limit.per_ip),
            (account_key.clone(), limit.per_account),
        ];
        self.take("login", ip, &counters, limit.window.as_secs().max(1))
            .await?;
        Ok(LoginAttempt {
            decrement: vec![ip_key],
            delete: vec![account_key],
        })
    }

    /// The password was right: the attempt is not a failure, and the account's failures are
    /// cleared.
    pub async fn login_succeeded(&self, attempt: LoginAttempt) -> Result<(), ApiError> {
        let mut invocation = self.refund.prepare_invoke();
        invocation.arg(attempt.decrement.len());
        for key in attempt.decrement.iter().chain(&attempt.delete) {
            invocation.key(key);
        }
        let mut connection = self.connection().await?;
        let () = invocation
            .invoke_async(&mut *connection)
            .await
            .context("giving back a login attempt")
            .map_err(ApiError::Unavailable)?;
        Ok(())
    }
}
