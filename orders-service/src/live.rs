//! Live status changes across replicas: after a transition commits, its [`StatusChange`] is
//! PUBLISHed on one Redis channel; every replica runs one subscriber task that fans the changes
//! out to its event-stream handlers through a tokio broadcast channel. On a Redis Cluster the
//! channel is a sharded one (`SPUBLISH` / `SSUBSCRIBE`, Redis 7): only the master owning the
//! channel's slot carries it, instead of every message crossing the whole cluster bus.

use std::time::Duration;

use futures::StreamExt;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use web_kit::redis_pool::{RedisPool, RedisTarget};

use crate::domain::OrderStatus;

/// The channel's name under the key prefix.
pub const CHANNEL: &str = "orders:status";

/// One committed transition, as the event stream sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub status: OrderStatus,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Bumped by every transition of the order: higher is newer.
    pub version: i32,
    pub total: Decimal,
}

/// Publishes and fans out status changes. Cheap to clone.
#[derive(Clone)]
pub struct Live {
    redis: RedisPool,
    channel: String,
    sender: broadcast::Sender<StatusChange>,
}

impl Live {
    pub fn new(redis: RedisPool, key_prefix: &str) -> Self {
        let (sender, _) = broadcast::channel(1024);
        Self {
            redis,
            channel: format!("{key_prefix}{CHANNEL}"),
            sender,
        }
    }

    /// The full channel name.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Tells every replica about committed changes. A failure is logged, not returned: the
    /// change is committed, and event streams re-read the database periodically.
    pub async fn publish(&self, changes: &[StatusChange]) {
        if changes.is_empty() {
            return;
        }
        let result: anyhow::Result<()> = async {
            let mut connection = self.redis.get().await?;
            // One channel, so one slot: a pipeline either way.
            let publish = if connection.is_cluster() {
                "SPUBLISH"
            } else {
                "PUBLISH"
            };
            let mut pipe = redis::pipe();
            for change in changes {
                pipe.cmd(publish)
                    .arg(&self.channel)
                    .arg(serde_json::to_string(change)?)
                    .ignore();
            }
            let () = pipe.query_async(&mut connection).await?;
            Ok(())
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(
                error = format!("{error:#}"),
                "cannot publish status changes"
            );
        }
    }

    /// Changes as they arrive on this replica.
    pub fn subscribe(&self) -> broadcast::Receiver<StatusChange> {
        self.sender.subscribe()
    }

    /// Subscribes to the channel now, on the Redis of the pool (so a change published after
    /// this returns is seen); the returned [`Subscriber`] forwards messages once running.
    pub async fn subscriber(&self) -> anyhow::Result<Subscriber> {
        let source = match self.redis.target() {
            RedisTarget::Node(url) => {
                let client = redis::Client::open(url.as_str())?;
                let first = connect(&client, &self.channel).await?;
                Source::Node { client, first }
            }
            RedisTarget::Cluster(urls) => {
                Source::Cluster(subscribe_sharded(urls, &self.channel, self.sender.clone()).await?)
            }
        };
        Ok(Subscriber {
            source,
            channel: self.channel.clone(),
            sender: self.sender.clone(),
        })
    }
}

/// The one task per replica that reads the channel.
pub struct Subscriber {
    source: Source,
    channel: String,
    sender: broadcast::Sender<StatusChange>,
}

enum Source {
    Node {
        client: redis::Client,
        first: redis::aio::PubSub,
    },
    /// The cluster client delivers the messages itself (its push sender) and subscribes again
    /// by itself after a node is lost or the slot moves: the task only keeps the connection.
    Cluster(redis::cluster_async::ClusterConnection),
}

impl Subscriber {
    /// Forwards messages until `shutdown`, reconnecting after failures.
    pub async fn run(self, shutdown: CancellationToken) {
        let (client, first) = match self.source {
            Source::Node { client, first } => (client, first),
            Source::Cluster(connection) => {
                shutdown.cancelled().await;
                drop(connection);
                return;
            }
        };
        let mut pubsub = Some(first);
        let mut backoff = Duration::from_millis(100);
        loop {
            let connection = match pubsub.take() {
                Some(connection) => connection,
                None => match connect(&client, &self.channel).await {
                    Ok(connection) => {
                        backoff = Duration::from_millis(100);
                        connection
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot subscribe to status changes");
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                },
            };
            let mut messages = connection.into_on_message();
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    message = messages.next() => match message {
                        Some(message) => forward(&self.sender, message.get_payload_bytes()),
                        None => {
                            tracing::warn!("status change subscription lost; reconnecting");
                            break;
                        }
                    }
                }
            }
        }
    }
}

async fn connect(client: &redis::Client, channel: &str) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// Sends one published payload to this replica's watchers.
fn forward(sender: &broadcast::Sender<StatusChange>, payload: &[u8]) {
    match serde_json::from_slice::<StatusChange>(payload) {
        // No receiver is fine: nobody is watching right now.
        Ok(change) => {
            let _ = sender.send(change);
        }
        Err(error) => tracing::warn!(%error, "malformed status change"),
    }
}

/// A cluster connection (RESP3, which cluster pub/sub needs) subscribed to the sharded `channel`,
/// forwarding its messages to `sender`.
async fn subscribe_sharded(
    urls: &[String],
    channel: &str,
    sender: broadcast::Sender<StatusChange>,
) -> redis::RedisResult<redis::cluster_async::ClusterConnection> {
    let client = redis::cluster::ClusterClientBuilder::new(urls.to_vec())
        .use_protocol(redis::ProtocolVersion::RESP3)
        .push_sender(move |push: redis::PushInfo| {
            if push.kind == redis::PushKind::SMessage
                && let Some(redis::Value::BulkString(payload)) = push.data.get(1)
            {
                forward(&sender, payload);
            }
            Ok::<(), std::convert::Infallible>(())
        })
        .build()?;
    let mut connection = client.get_async_connection().await?;
    connection.ssubscribe(channel).await?;
    Ok(connection)
}
