//! Live status changes across replicas: after a transition commits, its [`StatusChange`] is
//! PUBLISHed on one Redis channel; every replica runs one subscriber task that fans the changes
//! out to its event-stream handlers through a tokio broadcast channel.

use std::time::Duration;

use futures::StreamExt;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

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
    redis: deadpool_redis::Pool,
    channel: String,
    sender: broadcast::Sender<StatusChange>,
}

impl Live {
    pub fn new(redis: deadpool_redis::Pool, key_prefix: &str) -> Self {
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
            let mut pipe = redis::pipe();
            for change in changes {
                pipe.publish(&self.channel, serde_json::to_string(change)?)
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

    /// Subscribes to the channel now (so a change published after this returns is seen); the
    /// returned [`Subscriber`] forwards messages once running.
    pub async fn subscriber(&self, redis_url: &str) -> anyhow::Result<Subscriber> {
        let client = redis::Client::open(redis_url)?;
        let first = connect(&client, &self.channel).await?;
        Ok(Subscriber {
            client,
            first,
            channel: self.channel.clone(),
            sender: self.sender.clone(),
        })
    }
}

/// The one task per replica that reads the channel.
pub struct Subscriber {
    client: redis::Client,
    first: redis::aio::PubSub,
    channel: String,
    sender: broadcast::Sender<StatusChange>,
}

impl Subscriber {
    /// Forwards messages until `shutdown`, reconnecting after failures.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut pubsub = Some(self.first);
        let mut backoff = Duration::from_millis(100);
        loop {
            let connection = match pubsub.take() {
                Some(connection) => connection,
                None => match connect(&self.client, &self.channel).await {
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
                        Some(message) => {
                            match serde_json::from_slice::<StatusChange>(message.get_payload_bytes()) {
                                // No receiver is fine: nobody is watching right now.
                                Ok(change) => { let _ = self.sender.send(change); }
                                Err(error) => tracing::warn!(%error, "malformed status change"),
                            }
                        }
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
