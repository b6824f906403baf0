//! Per-buyer limits on placing orders: a fixed-window rate limit in Redis, checked and counted in
//! one atomic round trip before the order's transaction (so replicas share it), and the cap on
//! open orders that `db::place::write_order` applies inside the order's INSERT.
//!
//! Key (under `REDIS_KEY_PREFIX`): `orders:rl:place:{user_id}`. Redis being unreachable fails
//! closed (503), as the token deny-list does.

use std::time::Duration;

use uuid::Uuid;

use crate::{config::BuyerLimits, error::ApiError};

/// Counts placements per buyer. Cheap to clone.
#[derive(Clone)]
pub struct Placements {
    redis: web_kit::redis_pool::RedisPool,
    prefix: String,
    limits: BuyerLimits,
}

impl Placements {
    pub fn new(redis: web_kit::redis_pool::RedisPool, prefix: String, limits: BuyerLimits) -> Self {
        Self {
            redis,
            prefix,
            limits,
        }
    }

    /// How many orders PENDING or CONFIRMED a buyer may hold.
    pub fn max_open_orders(&self) -> u32 {
        self.limits.max_open_orders
    }

    /// Counts one placement by `user_id`, or refuses it (429) when the window's are used up.
    /// Refused attempts count too: hammering does not reopen the window sooner.
    pub async fn take(&self, user_id: Uuid) -> Result<(), ApiError> {
        let key = format!("{}orders:rl:place:{user_id}", self.prefix);
        let window = self.limits.window.as_secs().max(1);
        let mut connection = self.redis.get().await.map_err(|error| {
            tracing::error!(%error, "cannot reach Redis to count a placement");
            ApiError::Unavailable
        })?;
        let (count, ttl): (u64, i64) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(window)
            .arg("NX")
            .ignore()
            .ttl(&key)
            .query_async(&mut connection)
            .await
            .map_err(|error| {
                tracing::error!(%error, "cannot count a placement");
                ApiError::Unavailable
            })?;
        if count <= u64::from(self.limits.placements_per_window) {
            return Ok(());
        }
        tracing::warn!(%user_id, "order placements rate limited");
        let retry_after = u64::try_from(ttl).unwrap_or(window).clamp(1, window);
        Err(ApiError::RateLimited {
            retry_after: Duration::from_secs(retry_after),
        })
    }
}
