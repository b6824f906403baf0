//! Operator views of the streams: health per stream and group, the dead letters, and replay of a
//! dead letter onto its origin stream with its original `event_id`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::StreamKeys;

/// One stream and its groups.
#[derive(Debug, Clone, Serialize)]
pub struct StreamHealth {
    pub stream: String,
    pub length: u64,
    pub groups: Vec<GroupHealth>,
}

/// One consumer group of a stream.
#[derive(Debug, Clone, Serialize)]
pub struct GroupHealth {
    pub name: String,
    pub consumers: u64,
    pub pending: u64,
    /// Entries not yet delivered to the group (`None` when Redis cannot tell).
    pub lag: Option<u64>,
    pub last_delivered_id: String,
}

/// An entry of `dead_letter_stream`.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    /// Its id in the dead-letter stream.
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub origin_stream: String,
    pub origin_id: String,
    pub group: String,
    pub attempts: u32,
    pub error: String,
    pub failed_at: String,
    /// Every field of the entry, as stored.
    pub fields: BTreeMap<String, String>,
}

/// Health of the given logical streams (missing streams have length 0 and no groups).
pub async fn stream_health(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    streams: &[&str],
) -> Result<Vec<StreamHealth>, redis::RedisError> {
    let _ = (connection, keys, streams);
    todo!("stream-lib: stream_health")
}

/// Up to `count` dead letters, oldest first.
pub async fn dead_letters(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    count: usize,
) -> Result<Vec<DeadLetter>, redis::RedisError> {
    let _ = (connection, keys, count);
    todo!("stream-lib: dead_letters")
}

/// Puts dead letter `id` back on its origin stream with its original fields (same `event_id`)
/// and removes it from the dead-letter stream, atomically. `Ok(None)` when no such dead letter
/// exists (already replayed); otherwise the new entry id on the origin stream.
pub async fn replay(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    id: &str,
) -> Result<Option<String>, redis::RedisError> {
    let _ = (connection, keys, id);
    todo!("stream-lib: replay")
}
