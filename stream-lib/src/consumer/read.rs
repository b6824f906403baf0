//! Reading: one XREADGROUP per batch on a connection of its own, and the group's lifecycle
//! (created at id 0 with MKSTREAM, re-created the same way when it vanished).

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use redis::{RedisResult, Value};

use super::{Context, Control, millis};
use crate::{
    connection::{Blocking, StreamRedis},
    wire::{RawEntry, is_nogroup, parse_read_reply},
};

/// The blocking reader. Its connection's response timeout is longer than the block (a
/// timed-out blocking read could still move entries into the pending list unseen).
pub(crate) struct Reader {
    redis: StreamRedis,
    connection: Option<Blocking>,
    /// CLIENT ID of the connection (0: none), to unblock it at shutdown.
    id: Arc<AtomicI64>,
}

impl Reader {
    pub fn new(redis: StreamRedis) -> Self {
        Self {
            redis,
            connection: None,
            id: Arc::new(AtomicI64::new(0)),
        }
    }

    /// The CLIENT ID of the reading connection, if it is connected.
    pub fn client_id(&self) -> Arc<AtomicI64> {
        Arc::clone(&self.id)
    }

    /// Reads up to `count` new entries, blocking up to `block`.
    pub async fn read(
        &mut self,
        ctx: &Context,
        count: usize,
        block: Duration,
    ) -> RedisResult<Vec<RawEntry>> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => {
                let mut connection = self
                    .redis
                    .blocking(block.max(ctx.settings.block) + Duration::from_secs(10))
                    .await?;
                // On a cluster: the ID of the connection to the stream's master, where the
                // read blocks.
                let id: i64 = connection
                    .query_at(&ctx.stream_key, redis::cmd("CLIENT").arg("ID"))
                    .await?;
                self.id.store(id, Ordering::SeqCst);
                self.connection.insert(connection)
            }
        };
        let reply: RedisResult<Value> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&ctx.settings.group)
            .arg(&ctx.settings.consumer)
            .arg("COUNT")
            .arg(count.max(1))
            .arg("BLOCK")
            // BLOCK 0 would block for ever.
            .arg(millis(block).max(1))
            .arg("STREAMS")
            .arg(&ctx.stream_key)
            .arg(">")
            .query_async(connection)
            .await;
        match reply {
            Ok(reply) => Ok(parse_read_reply(&reply)),
            Err(error) => {
                if !is_nogroup(&error) {
                    self.connection = None;
                    self.id.store(0, Ordering::SeqCst);
                }
                Err(error)
            }
        }
    }
}

/// Creates the group reading from id 0 (and the stream with it); an existing group is fine.
/// Reading from 0 matters after Redis lost its data: every entry republished since is read.
pub(crate) async fn ensure_group(ctx: &Context, ctl: &mut Control) -> RedisResult<()> {
    let created: RedisResult<()> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&ctx.stream_key)
        .arg(&ctx.settings.group)
        .arg("0")
        .arg("MKSTREAM")
        .query_async(ctl)
        .await;
    match created {
        Ok(()) => {
            tracing::info!(stream = %ctx.settings.stream, group = %ctx.settings.group, "consumer group created");
            Ok(())
        }
        Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
        Err(error) => Err(error),
    }
}
