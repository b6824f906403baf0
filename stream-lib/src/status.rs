//! `stream-admin status`: each stream's health ([`crate::admin::stream_health`]) with, per
//! group, its oldest pending entry and how long ago that entry was written (the XPENDING
//! summary's smallest id), the age an alert on a stuck group watches.

use redis::Value;
use serde::Serialize;

use crate::{
    StreamKeys,
    admin::{GroupHealth, stream_health},
    gauges::age_of_entry_id,
    wire::{as_array, as_string, is_nogroup},
};

/// One stream, its groups with their oldest pending entry.
#[derive(Debug, Clone, Serialize)]
pub struct StreamStatus {
    pub stream: String,
    pub length: u64,
    pub groups: Vec<GroupStatus>,
}

/// One group: its health and its oldest pending entry (both `None` when nothing is pending).
#[derive(Debug, Clone, Serialize)]
pub struct GroupStatus {
    #[serde(flatten)]
    pub health: GroupHealth,
    pub oldest_pending_id: Option<String>,
    /// Seconds since the oldest pending entry was written, by this host's clock.
    pub oldest_pending_age_seconds: Option<f64>,
}

/// The status of the given logical streams (missing streams have length 0 and no groups).
pub async fn stream_status(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    streams: &[&str],
) -> Result<Vec<StreamStatus>, redis::RedisError> {
    let mut statuses = Vec::new();
    for stream in stream_health(&mut *connection, keys, streams).await? {
        let key = keys.key(&stream.stream);
        let mut groups = Vec::with_capacity(stream.groups.len());
        for health in stream.groups {
            let oldest = oldest_pending(&mut *connection, &key, &health.name).await?;
            groups.push(GroupStatus {
                oldest_pending_age_seconds: oldest.as_deref().map(age_of_entry_id),
                oldest_pending_id: oldest,
                health,
            });
        }
        statuses.push(StreamStatus {
            stream: stream.stream,
            length: stream.length,
            groups,
        });
    }
    Ok(statuses)
}

/// The smallest pending id of `group` on `key` (XPENDING summary); `None` when none is pending.
async fn oldest_pending(
    connection: &mut impl redis::aio::ConnectionLike,
    key: &str,
    group: &str,
) -> Result<Option<String>, redis::RedisError> {
    match redis::cmd("XPENDING")
        .arg(key)
        .arg(group)
        .query_async::<Value>(connection)
        .await
    {
        Ok(summary) => Ok(as_array(&summary).get(1).and_then(as_string)),
        Err(error) if is_nogroup(&error) => Ok(None),
        Err(error) => Err(error),
    }
}
