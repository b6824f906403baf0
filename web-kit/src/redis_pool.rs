//! The Redis each service uses for its own keys (deny-list, rate limits, pub/sub): one server
//! (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_URLS`, comma-separated node URLs; when set it
//! wins). One pool type either way, [`RedisPool`], whose connections run any command
//! (`redis::aio::ConnectionLike`), so the services' code does not know which it talks to.
//!
//! On a cluster every script, `MULTI` and pipeline must touch keys of one hash slot (give them a
//! common `{tag}`); commands about several unrelated keys go one by one ([`RedisConnection::run_each`]).

use redis::{Cmd, RedisFuture, Value, aio::ConnectionLike};

pub use deadpool_redis::{CreatePoolError, PoolConfig, PoolError};

use crate::config::{Env, EnvError};

/// Where Redis is: one server, or the seed nodes of a cluster (any of them, the client learns
/// the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    Node(String),
    Cluster(Vec<String>),
}

impl RedisTarget {
    /// The cluster when `cluster_urls` is not empty, else the server at `url`.
    pub fn new(url: &str, cluster_urls: &[String]) -> Self {
        if cluster_urls.is_empty() {
            Self::Node(url.to_owned())
        } else {
            Self::Cluster(cluster_urls.to_vec())
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

/// `REDIS_CLUSTER_URLS`: comma-separated `redis://` (or `rediss://`) node URLs, blanks between
/// commas ignored; unset or blank is empty (no cluster).
pub fn cluster_urls<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Vec<String>, EnvError> {
    let setting = &crate::config::REDIS_CLUSTER_URLS;
    let Some(value) = env.var(setting) else {
        return Ok(Vec::new());
    };
    let urls: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = urls
        .iter()
        .find(|url| !url.starts_with("redis://") && !url.starts_with("rediss://"))
    {
        return Err(EnvError::Malformed {
            name: setting.name.to_owned(),
            reason: format!("{bad:?} is not a redis:// URL"),
            value,
        });
    }
    Ok(urls)
}

/// A pool of connections to one server or to a cluster. Cheap to clone. Connections are made
/// lazily, so an unreachable Redis is not an error when the pool is built.
#[derive(Clone)]
pub struct RedisPool {
    inner: Inner,
    target: RedisTarget,
}

#[derive(Clone)]
enum Inner {
    Node(deadpool_redis::Pool),
    Cluster(deadpool_redis::cluster::Pool),
}

/// A pool for `url`, or for the cluster of `cluster_urls` when that is not empty; `config` sets
/// its size and timeouts (`None`: deadpool's defaults, no timeouts).
pub fn create(
    url: &str,
    cluster_urls: &[String],
    config: Option<PoolConfig>,
) -> Result<RedisPool, CreatePoolError> {
    RedisPool::new(RedisTarget::new(url, cluster_urls), config)
}

impl RedisPool {
    /// A pool for `target` (see [`create`]).
    pub fn new(target: RedisTarget, config: Option<PoolConfig>) -> Result<Self, CreatePoolError> {
        let inner = match &target {
            RedisTarget::Node(url) => {
                let mut redis = deadpool_redis::Config::from_url(url);
                redis.pool = config;
                Inner::Node(redis.create_pool(Some(deadpool_redis::Runtime::Tokio1))?)
            }
            RedisTarget::Cluster(urls) => {
                let mut redis = deadpool_redis::cluster::Config::from_urls(urls.clone());
                redis.pool = config;
                Inner::Cluster(redis.create_pool(Some(deadpool_redis::Runtime::Tokio1))?)
            }
        };
        Ok(Self { inner, target })
    }

    /// A connection (made now if none is idle).
    pub async fn get(&self) -> Result<RedisConnection, PoolError> {
        Ok(match &self.inner {
            Inner::Node(pool) => RedisConnection::Node(pool.get().await?),
            Inner::Cluster(pool) => RedisConnection::Cluster(pool.get().await?),
        })
    }

    /// What the pool connects to.
    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    pub fn is_cluster(&self) -> bool {
        self.target.is_cluster()
    }

    /// The pool's size and use.
    pub fn status(&self) -> deadpool_redis::Status {
        match &self.inner {
            Inner::Node(pool) => pool.status(),
            Inner::Cluster(pool) => pool.status(),
        }
    }
}

/// A connection from a [`RedisPool`]; back to the pool when dropped.
pub enum RedisConnection {
    Node(deadpool_redis::Connection),
    Cluster(deadpool_redis::cluster::Connection),
}

impl RedisConnection {
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }

    /// Runs commands that need not run together (their keys may be in different slots): one
    /// pipeline on a single server, each command routed to its own node (all at once) on a
    /// cluster. Replies are ignored; the first error is returned.
    pub async fn run_each(&mut self, commands: &[Cmd]) -> redis::RedisResult<()> {
        if commands.is_empty() {
            return Ok(());
        }
        match self {
            Self::Node(connection) => {
                let mut pipe = redis::pipe();
                for command in commands {
                    pipe.add_command(command.clone()).ignore();
                }
                pipe.query_async(&mut **connection).await
            }
            Self::Cluster(connection) => {
                let shared: &redis::cluster_async::ClusterConnection = connection;
                let runs = commands.iter().map(|command| {
                    let mut connection = shared.clone();
                    async move { command.query_async::<Value>(&mut connection).await }
                });
                futures::future::try_join_all(runs).await.map(|_| ())
            }
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Node(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Node(connection) => connection.req_packed_commands(cmd, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Node(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use redis::AsyncCommands;

    use super::*;
    use crate::testing::RedisCluster;

    #[tokio::test]
    async fn the_pool_connects_and_takes_the_given_size() {
        let default = create("redis://127.0.0.1:6379", &[], None).unwrap();
        assert!(!default.is_cluster());
        let mut connection = default.get().await.unwrap();
        let pong: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(pong, "PONG");

        let sized = create("redis://127.0.0.1:6379", &[], Some(PoolConfig::new(3))).unwrap();
        assert_eq!(sized.status().max_size, 3);
        assert!(create("not a url", &[], None).is_err());
    }

    #[tokio::test]
    async fn cluster_urls_win_and_the_pool_routes_every_key_to_its_master() {
        let cluster = RedisCluster::start().await;
        let pool = create(
            "redis://127.0.0.1:1",
            &cluster.urls(),
            Some(PoolConfig::new(2)),
        )
        .unwrap();
        assert!(pool.is_cluster());
        assert_eq!(pool.status().max_size, 2);

        let prefix = uuid::Uuid::new_v4().simple().to_string();
        let keys: Vec<String> = (0..20).map(|n| format!("{prefix}:pool:{n}")).collect();
        let mut connection = pool.get().await.unwrap();
        for (n, key) in keys.iter().enumerate() {
            let () = connection.set_ex(key, n, 60).await.unwrap();
        }
        for (n, key) in keys.iter().enumerate() {
            let value: usize = connection.get(key).await.unwrap();
            assert_eq!(value, n);
        }
        // The keys spread over the masters, each answering on its own: a single server
        // would answer MOVED for most of them.
        let mut answering = vec![0; keys.len()];
        let mut masters_used = 0;
        for url in cluster.urls() {
            let mut node = redis::Client::open(url)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let mut held = 0;
            for (n, key) in keys.iter().enumerate() {
                let reply = redis::cmd("GET")
                    .arg(key)
                    .query_async::<usize>(&mut node)
                    .await;
                if let Ok(value) = reply {
                    assert_eq!(value, n);
                    answering[n] += 1;
                    held += 1;
                }
            }
            masters_used += usize::from(held > 0);
        }
        assert!(answering.iter().all(|count| *count == 1), "{answering:?}");
        assert!(masters_used > 1, "the keys are spread over the masters");
        let () = connection.del(&keys).await.unwrap();
    }

    #[tokio::test]
    async fn run_each_runs_commands_about_keys_of_several_slots_on_both_kinds() {
        let cluster = RedisCluster::start().await;
        for pool in [
            create("redis://127.0.0.1:6379", &[], None).unwrap(),
            create("", &cluster.urls(), None).unwrap(),
        ] {
            let prefix = uuid::Uuid::new_v4().simple().to_string();
            let keys: Vec<String> = (0..12).map(|n| format!("{prefix}:each:{n}")).collect();
            let commands: Vec<Cmd> = keys
                .iter()
                .map(|key| {
                    let mut command = redis::cmd("SET");
                    command.arg(key).arg(1).arg("EX").arg(60);
                    command
                })
                .collect();
            let mut connection = pool.get().await.unwrap();

            connection.run_each(&commands).await.unwrap();

            for key in &keys {
                let exists: bool = connection.exists(key).await.unwrap();
                assert!(exists, "{key} on a {} pool", pool.is_cluster());
                let () = connection.del(key).await.unwrap();
            }
        }
    }

    #[tokio::test]
    async fn an_unreachable_cluster_is_an_error_when_a_connection_is_asked_for() {
        let pool = create("", &["redis://127.0.0.1:1".to_owned()], None).unwrap();
        assert!(pool.get().await.is_err());
    }

    fn env(pairs: &[(&'static str, &'static str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        Env::from_lookup(move |name| map.get(name).map(|value| (*value).to_owned()))
    }

    #[test]
    fn cluster_urls_are_comma_separated_redis_urls_and_blank_is_none() {
        assert!(cluster_urls(&env(&[])).unwrap().is_empty());
        assert!(
            cluster_urls(&env(&[("REDIS_CLUSTER_URLS", " ")]))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            cluster_urls(&env(&[(
                "REDIS_CLUSTER_URLS",
                " redis://a:7000, rediss://u:p@b:7001 ,"
            )]))
            .unwrap(),
            ["redis://a:7000", "rediss://u:p@b:7001"]
        );
        let error = cluster_urls(&env(&[("REDIS_CLUSTER_URLS", "redis://a:7000,b:7001")]))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("REDIS_CLUSTER_URLS is malformed"),
            "{error}"
        );
        assert_eq!(
            RedisTarget::new("redis://x", &[]),
            RedisTarget::Node("redis://x".to_owned())
        );
        assert!(RedisTarget::new("redis://x", &["redis://y".to_owned()]).is_cluster());
    }
}
