//! Where the streams live: one Redis server (`REDIS_URL`) or a Redis Cluster
//! (`REDIS_CLUSTER_URLS`, the seed list wins when it is not empty).
//!
//! [`StreamRedis`] is cheap to clone and holds one shared, self-reconnecting control connection
//! ([`Control`]) for everything that does not block: acks, scripts, dead letters, admin. Each
//! consumer also opens a dedicated connection for its blocking XREADGROUP ([`Blocking`]; on a
//! cluster, its own cluster client), whose response timeout is longer than the block: the
//! client's default of 500 ms would cut a longer block short and could lose sight of entries the
//! read moved into the pending list.
//!
//! On a cluster every script and `MULTI` touches keys of one stream's slot (its hash tag); a
//! key-less command about a stream (`CLIENT ID`, `CLIENT UNBLOCK`) goes to the master of the
//! stream's slot ([`Control::query_at`]).

use std::{sync::Arc, time::Duration};

use redis::{
    Cmd, FromRedisValue, RedisFuture, RedisResult, Value,
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection},
    cluster::ClusterClient,
    cluster_async::ClusterConnection,
    cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr},
};
use tokio::sync::OnceCell;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const CONTROL_RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The streams' Redis: a server or a cluster. Cheap to clone; the clones share the control
/// connection. Nothing connects until a connection is asked for.
#[derive(Clone)]
pub struct StreamRedis {
    target: Arc<Target>,
    control: Arc<OnceCell<Control>>,
}

enum Target {
    Node(redis::Client),
    Cluster(Vec<String>),
}

impl std::fmt::Debug for StreamRedis {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StreamRedis")
            .field("cluster", &self.is_cluster())
            .finish_non_exhaustive()
    }
}

impl StreamRedis {
    /// The cluster of `cluster_urls` when that is not empty, else the server at `url`. A
    /// malformed URL is an error now; an unreachable Redis only when a connection is asked for.
    pub fn new(url: &str, cluster_urls: &[String]) -> RedisResult<Self> {
        let target = if cluster_urls.is_empty() {
            Target::Node(redis::Client::open(url)?)
        } else {
            // Validates the URLs.
            cluster_client(cluster_urls, CONTROL_RESPONSE_TIMEOUT)?;
            Target::Cluster(cluster_urls.to_vec())
        };
        Ok(Self {
            target: Arc::new(target),
            control: Arc::new(OnceCell::new()),
        })
    }

    /// The server at `url`.
    pub fn node(url: &str) -> RedisResult<Self> {
        Self::new(url, &[])
    }

    pub fn is_cluster(&self) -> bool {
        matches!(*self.target, Target::Cluster(_))
    }

    /// The shared control connection, connected on the first call (an error leaves it to the
    /// next call); it reconnects by itself afterwards.
    pub async fn control(&self) -> RedisResult<Control> {
        self.control
            .get_or_try_init(|| async {
                match &*self.target {
                    Target::Node(client) => {
                        let config = ConnectionManagerConfig::new()
                            .set_connection_timeout(Some(CONNECT_TIMEOUT))
                            .set_response_timeout(Some(CONTROL_RESPONSE_TIMEOUT))
                            .set_number_of_retries(2)
                            .set_max_delay(Duration::from_secs(2));
                        ConnectionManager::new_with_config(client.clone(), config)
                            .await
                            .map(Control::Node)
                    }
                    Target::Cluster(urls) => cluster_client(urls, CONTROL_RESPONSE_TIMEOUT)?
                        .get_async_connection()
                        .await
                        .map(Control::Cluster),
                }
            })
            .await
            .cloned()
    }

    /// A new connection of its own for blocking reads, whose replies may take up to
    /// `response_timeout`.
    pub async fn blocking(&self, response_timeout: Duration) -> RedisResult<Blocking> {
        Ok(match &*self.target {
            Target::Node(client) => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(response_timeout));
                Control::Direct(
                    client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await?,
                )
            }
            Target::Cluster(urls) => Control::Cluster(
                cluster_client(urls, response_timeout)?
                    .get_async_connection()
                    .await?,
            ),
        })
    }
}

fn cluster_client(urls: &[String], response_timeout: Duration) -> RedisResult<ClusterClient> {
    ClusterClient::builder(urls.to_vec())
        .connection_timeout(CONNECT_TIMEOUT)
        .response_timeout(response_timeout)
        .build()
}

/// A connection to the streams' Redis that runs any command (`ConnectionLike`). Cheap to clone.
#[derive(Clone)]
pub enum Control {
    /// One server, reconnecting by itself.
    Node(ConnectionManager),
    /// One server, a plain connection (a [`Blocking`] one).
    Direct(MultiplexedConnection),
    /// A cluster: each command goes to the master of its key's slot.
    Cluster(ClusterConnection),
}

/// The connection a consumer blocks on (one of its own, see [`StreamRedis::blocking`]).
pub type Blocking = Control;

impl Control {
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }

    /// Runs a command that names no key (`CLIENT ID`, `CLIENT UNBLOCK`) where `key` lives: on
    /// a cluster, the master of `key`'s slot; on a server, the server.
    pub async fn query_at<T: FromRedisValue>(
        &mut self,
        key: &str,
        command: &Cmd,
    ) -> RedisResult<T> {
        match self {
            Self::Cluster(connection) => {
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
                    Route::with_key(key, SlotAddr::Master),
                ));
                let value = connection.route_command(command.clone(), routing).await?;
                Ok(redis::from_redis_value(value)?)
            }
            other => command.query_async(other).await,
        }
    }
}

impl ConnectionLike for Control {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Node(connection) => connection.req_packed_command(cmd),
            Self::Direct(connection) => connection.req_packed_command(cmd),
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
            Self::Direct(connection) => connection.req_packed_commands(cmd, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Node(connection) => connection.get_db(),
            Self::Direct(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}
