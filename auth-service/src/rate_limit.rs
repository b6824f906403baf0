//! Fixed-window counters in Redis, so limits hold across replicas. Login counts failures per
//! client address and per account (a success clears the account's count); signup counts
//! attempts. Keys (under `REDIS_KEY_PREFIX`):
//! `auth:rl:{login|signup}:ip:{address}` and `auth:rl:{login|signup}:account:{sha256(email)}`.
//! Redis being unreachable fails closed (503): the limits protect the password hashes.

use std::net::IpAddr;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::{
    config::{Limit, RateLimits},
    domain::Email,
    error::ApiError,
};

/// The two rate-limited actions.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    Login,
    Signup,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Signup => "signup",
        }
    }
}

/// Reads and bumps the counters. Cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    redis: deadpool_redis::Pool,
    prefix: String,
    limits: RateLimits,
}

/// The counter keys of one request, with their limits.
struct Keys {
    ip: (String, u32),
    account: (String, u32),
    window_seconds: u64,
}

impl RateLimiter {
    pub fn new(redis: deadpool_redis::Pool, prefix: String, limits: RateLimits) -> Self {
        Self {
            redis,
            prefix,
            limits,
        }
    }

    fn keys(&self, action: Action, ip: IpAddr, email: &str) -> Keys {
        let limit: Limit = match action {
            Action::Login => self.limits.login,
            Action::Signup => self.limits.signup,
        };
        let account = Sha256::digest(Email::normalized(email).as_bytes());
        let account: String = account[..16].iter().map(|b| format!("{b:02x}")).collect();
        let base = format!("{}auth:rl:{}", self.prefix, action.name());
        Keys {
            ip: (format!("{base}:ip:{ip}"), limit.per_ip),
            account: (format!("{base}:account:{account}"), limit.per_account),
            window_seconds: limit.window.as_secs().max(1),
        }
    }

    async fn connection(&self) -> Result<deadpool_redis::Connection, ApiError> {
        self.redis
            .get()
            .await
            .context("cannot reach Redis for rate limiting")
            .map_err(ApiError::Unavailable)
    }

    /// Refuses with 429 when either counter has reached its limit (login: before the password
    /// is checked).
    pub async fn check(&self, action: Action, ip: IpAddr, email: &str) -> Result<(), ApiError> {
        let keys = self.keys(action, ip, email);
        let mut connection = self.connection().await?;
        let (ip_count, ip_ttl, account_count, account_ttl): (Option<u32>, i64, Option<u32>, i64) =
            redis::pipe()
                .get(&keys.ip.0)
                .ttl(&keys.ip.0)
                .get(&keys.account.0)
                .ttl(&keys.account.0)
                .query_async(&mut *connection)
                .await
                .context("reading rate-limit counters")
                .map_err(ApiError::Unavailable)?;
        let mut retry_after = None;
        if ip_count.unwrap_or(0) >= keys.ip.1 {
            retry_after = Some(ip_ttl);
        }
        if account_count.unwrap_or(0) >= keys.account.1 {
            retry_after = Some(retry_after.unwrap_or(0).max(account_ttl));
        }
        match retry_after {
            Some(ttl) => {
                tracing::warn!(action = action.name(), %ip, "rate limited");
                Err(ApiError::RateLimited {
                    retry_after_seconds: u64::try_from(ttl).unwrap_or(keys.window_seconds).max(1),
                })
            }
            None => Ok(()),
        }
    }

    /// Counts one more event (a failed login, a signup attempt) for both keys.
    pub async fn record(&self, action: Action, ip: IpAddr, email: &str) -> Result<(), ApiError> {
        let keys = self.keys(action, ip, email);
        let mut connection = self.connection().await?;
        let window = keys.window_seconds;
        let () = redis::pipe()
            .atomic()
            .incr(&keys.ip.0, 1)
            .ignore()
            .cmd("EXPIRE")
            .arg(&keys.ip.0)
            .arg(window)
            .arg("NX")
            .ignore()
            .incr(&keys.account.0, 1)
            .ignore()
            .cmd("EXPIRE")
            .arg(&keys.account.0)
            .arg(window)
            .arg("NX")
            .ignore()
            .query_async(&mut *connection)
            .await
            .context("bumping rate-limit counters")
            .map_err(ApiError::Unavailable)?;
        Ok(())
    }

    /// Clears the account's failure count (after a successful login).
    pub async fn clear_account(
        &self,
        action: Action,
        ip: IpAddr,
        email: &str,
    ) -> Result<(), ApiError> {
        let keys = self.keys(action, ip, email);
        let mut connection = self.connection().await?;
        let () = redis::cmd("DEL")
            .arg(&keys.account.0)
            .query_async(&mut *connection)
            .await
            .context("clearing a rate-limit counter")
            .map_err(ApiError::Unavailable)?;
        Ok(())
    }
}
