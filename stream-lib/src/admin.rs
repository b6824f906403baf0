//! Operator views of the streams: health per stream and group, the dead letters, and replay of a
//! dead letter onto its origin stream with its original `event_id`.

use std::{collections::BTreeMap, sync::LazyLock};

use redis::{Script, Value};
use serde::Serialize;

use crate::{
    DEAD_LETTER_STREAM, StreamKeys,
    dead_letter::DEAD_LETTER_FIELDS,
    wire::{as_array, as_pairs, as_string, as_u64, parse_entries},
};

/// One stream and its groups.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamHealth {
    pub stream: String,
    pub length: u64,
    pub groups: Vec<GroupHealth>,
}

/// One consumer group of a stream.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    let mut health = Vec::with_capacity(streams.len());
    for stream in streams {
        let key = keys.key(stream);
        let length: u64 = redis::cmd("XLEN")
            .arg(&key)
            .query_async(&mut *connection)
            .await?;
        let groups: Value = match redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&key)
            .query_async(&mut *connection)
            .await
        {
            Ok(groups) => groups,
            // XINFO on a missing key is an error; a missing stream simply has no groups.
            Err(error) if error.to_string().contains("no such key") => Value::Nil,
            Err(error) => return Err(error),
        };
        let groups = as_array(&groups)
            .iter()
            .map(|group| {
                let fields = as_pairs(group);
                let get = |name: &str| {
                    fields
                        .iter()
                        .find(|(field, _)| field == name)
                        .map(|(_, value)| *value)
                };
                GroupHealth {
                    name: get("name").and_then(as_string).unwrap_or_default(),
                    consumers: get("consumers").and_then(as_u64).unwrap_or(0),
                    pending: get("pending").and_then(as_u64).unwrap_or(0),
                    lag: get("lag").and_then(as_u64),
                    last_delivered_id: get("last-delivered-id")
                        .and_then(as_string)
                        .unwrap_or_default(),
                }
            })
            .collect();
        health.push(StreamHealth {
            stream: (*stream).to_owned(),
            length,
            groups,
        });
    }
    Ok(health)
}

/// Up to `count` dead letters, oldest first.
pub async fn dead_letters(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    count: usize,
) -> Result<Vec<DeadLetter>, redis::RedisError> {
    let entries: Value = redis::cmd("XRANGE")
        .arg(keys.key(DEAD_LETTER_STREAM))
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(count.max(1))
        .query_async(connection)
        .await?;
    Ok(parse_entries(&entries)
        .into_iter()
        .map(|entry| {
            let field = |name: &str| entry.field(name).unwrap_or_default().to_owned();
            DeadLetter {
                event_id: field("event_id"),
                event_type: field("type"),
                origin_stream: field("origin_stream"),
                origin_id: field("origin_id"),
                group: field("group"),
                attempts: entry
                    .field("attempts")
                    .and_then(|attempts| attempts.parse().ok())
                    .unwrap_or(0),
                error: field("error"),
                failed_at: field("failed_at"),
                fields: entry.fields.iter().cloned().collect(),
                id: entry.id,
            }
        })
        .collect())
}

/// Puts dead letter `id` back on its origin stream with its original fields (same `event_id`)
/// and removes it from the dead-letter stream, atomically. `Ok(None)` when no such dead letter
/// exists (already replayed); otherwise the new entry id on the origin stream.
pub async fn replay(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    id: &str,
) -> Result<Option<String>, redis::RedisError> {
    let mut invocation = REPLAY.key(keys.key(DEAD_LETTER_STREAM));
    invocation.arg(id).arg(keys.prefix());
    for field in DEAD_LETTER_FIELDS {
        invocation.arg(field);
    }
    invocation.invoke_async(connection).await
}

/// Replays every dead letter (in batches, oldest first); returns how many were replayed.
pub async fn replay_all(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
) -> Result<usize, redis::RedisError> {
    let mut replayed = 0;
    loop {
        let batch = dead_letters(&mut *connection, keys, 100).await?;
        if batch.is_empty() {
            return Ok(replayed);
        }
        for letter in batch {
            if replay(&mut *connection, keys, &letter.id).await?.is_some() {
                replayed += 1;
            }
        }
    }
}

/// KEYS: dead-letter stream. ARGV: id, key prefix, the dead-letter field names... Copies the
/// original fields back to `prefix .. origin_stream` and deletes the dead letter.
static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then return false end
local fields = found[1][2]
local added = {}
for i = 3, #ARGV do added[ARGV[i]] = true end
local origin
local args = {}
for i = 1, #fields, 2 do
  local name = fields[i]
  if name == 'origin_stream' then origin = fields[i + 1] end
  if not added[name] then
    args[#args + 1] = name
    args[#args + 1] = fields[i + 1]
  end
end
if not origin or origin == '' then
  return redis.error_reply('dead letter ' .. ARGV[1] .. ' has no origin_stream')
end
local new_id = redis.call('XADD', ARGV[2] .. origin, '*', unpack(args))
redis.call('XDEL', KEYS[1], ARGV[1])
return new_id
",
    )
});
