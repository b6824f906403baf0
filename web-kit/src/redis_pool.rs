//! The Redis connection pool each service builds from its `REDIS_URL` (deadpool-redis on Tokio).

pub use deadpool_redis::{CreatePoolError, Pool, PoolConfig};

/// A pool for `url`; `config` sets its size and timeouts (`None`: deadpool's defaults, no
/// timeouts). Connections are made lazily, so an unreachable Redis is not an error here.
pub fn create(url: &str, config: Option<PoolConfig>) -> Result<Pool, CreatePoolError> {
    let mut redis = deadpool_redis::Config::from_url(url);
    redis.pool = config;
    redis.create_pool(Some(deadpool_redis::Runtime::Tokio1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_pool_connects_and_takes_the_given_size() {
        let default = create("redis://127.0.0.1:6379", None).unwrap();
        let mut connection = default.get().await.unwrap();
        let pong: String = redis::cmd("PING")
            .query_async(&mut *connection)
            .await
            .unwrap();
        assert_eq!(pong, "PONG");

        let sized = create("redis://127.0.0.1:6379", Some(PoolConfig::new(3))).unwrap();
        assert_eq!(sized.status().max_size, 3);
        assert!(create("not a url", None).is_err());
    }
}
