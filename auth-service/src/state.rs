//! Shared state; handlers take the parts they use through `FromRef`.

use std::sync::Arc;

use auth_kit::{Verifier, signing::SigningKeys};
use axum::extract::FromRef;
use sqlx::PgPool;

use crate::{
    client_ip::TrustedProxies, passwords::Passwords, rate_limit::RateLimiter, sessions::Sessions,
    usecases::Accounts,
};

/// Everything the handlers need. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub redis: web_kit::redis_pool::RedisPool,
    pub keys: Arc<SigningKeys>,
    pub verifier: Verifier,
    pub passwords: Passwords,
    pub limiter: RateLimiter,
    pub sessions: Sessions,
    pub trusted_proxies: TrustedProxies,
    /// Whether the demo accounts exist (demo-login answers 404 otherwise).
    pub demo_users: DemoUsers,
}

impl FromRef<AppState> for Accounts {
    fn from_ref(state: &AppState) -> Self {
        Self {
            pool: state.pool.clone(),
            passwords: state.passwords.clone(),
            limiter: state.limiter.clone(),
            sessions: state.sessions.clone(),
        }
    }
}

/// Whether `DEMO_USERS` is on.
#[derive(Debug, Clone, Copy)]
pub struct DemoUsers(pub bool);

macro_rules! from_ref {
    ($($field:ident: $type:ty),* $(,)?) => {
        $(impl FromRef<AppState> for $type {
            fn from_ref(state: &AppState) -> Self {
                state.$field.clone()
            }
        })*
    };
}

from_ref!(
    pool: PgPool,
    redis: web_kit::redis_pool::RedisPool,
    keys: Arc<SigningKeys>,
    verifier: Verifier,
    passwords: Passwords,
    limiter: RateLimiter,
    sessions: Sessions,
    trusted_proxies: TrustedProxies,
    demo_users: DemoUsers,
);
