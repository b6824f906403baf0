//! Operator views of the streams: health per stream and group, the dead letters, and replay of a
//! dead letter onto its origin stream with its original `event_id`.
//!
//! The dead-letter stream and the origin streams live in different cluster slots, so nothing
//! here touches two of them in one command: a replay XADDs the original, then XDELs the dead
//! letter (at least once; the consumer's inbox absorbs a repeat). A dead letter can be written
//! twice for one origin entry (see [`crate::dead_letter`]); listings and `replay_all`
//! deduplicate by `origin_stream` + `origin_id`.

use std::collections::{BTreeMap, HashSet};

use redis::Value;
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
    /// The fields in their stored order (what a replay writes back).
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub(crate) ordered_fields: Vec<(String, String)>,
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

/// Up to `count` dead letters, oldest first, one per origin entry (a second dead letter of the
/// same `origin_stream` + `origin_id` is left out).
pub async fn dead_letters(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    count: usize,
) -> Result<Vec<DeadLetter>, redis::RedisError> {
    let letters = read_dead_letters(connection, keys, "-", "+", count).await?;
    let mut seen = HashSet::new();
    Ok(letters
        .into_iter()
        .filter(|letter| seen.insert((letter.origin_stream.clone(), letter.origin_id.clone())))
        .collect())
}

/// Dead letters with ids from `start` to `end` (XRANGE bounds), oldest first, as stored.
async fn read_dead_letters(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    start: &str,
    end: &str,
    count: usize,
) -> Result<Vec<DeadLetter>, redis::RedisError> {
    let entries: Value = redis::cmd("XRANGE")
        .arg(keys.key(DEAD_LETTER_STREAM))
        .arg(start)
        .arg(end)
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
                ordered_fields: entry.fields,
                id: entry.id,
            }
        })
        .collect())
}

/// Puts dead letter `id` back on its origin stream with its original fields (same `event_id`),
/// then removes it from the dead-letter stream. `Ok(None)` when no such dead letter exists
/// (already replayed); otherwise the new entry id on the origin stream.
pub async fn replay(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    id: &str,
) -> Result<Option<String>, redis::RedisError> {
    let Some(letter) = read_dead_letters(&mut *connection, keys, id, id, 1)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    replay_letter(connection, keys, &letter).await.map(Some)
}

async fn replay_letter(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    letter: &DeadLetter,
) -> Result<String, redis::RedisError> {
    if letter.origin_stream.is_empty() {
        return Err(redis::RedisError::from((
            redis::ErrorKind::Client,
            "dead letter has no origin_stream",
            letter.id.clone(),
        )));
    }
    let mut xadd = redis::cmd("XADD");
    xadd.arg(keys.key(&letter.origin_stream)).arg("*");
    // The original fields in their stored order, without what the dead letter added.
    let mut fields = 0;
    for (name, value) in &letter.ordered_fields {
        if !DEAD_LETTER_FIELDS.contains(&name.as_str()) {
            xadd.arg(name).arg(value);
            fields += 1;
        }
    }
    if fields == 0 {
        return Err(redis::RedisError::from((
            redis::ErrorKind::Client,
            "dead letter has no original fields",
            letter.id.clone(),
        )));
    }
    let new_id: String = xadd.query_async(&mut *connection).await?;
    let _: u64 = redis::cmd("XDEL")
        .arg(keys.key(DEAD_LETTER_STREAM))
        .arg(&letter.id)
        .query_async(connection)
        .await?;
    Ok(new_id)
}

/// Replays the dead letters that existed when it started (up to the last id at the start,
/// oldest first, one per origin entry; a duplicate is deleted without a replay), then stops:
/// entries that fail again meanwhile are not replayed a second time. Returns how many were
/// replayed.
pub async fn replay_all(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
) -> Result<usize, redis::RedisError> {
    let last: Value = redis::cmd("XREVRANGE")
        .arg(keys.key(DEAD_LETTER_STREAM))
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(&mut *connection)
        .await?;
    let Some(last) = parse_entries(&last)
        .into_iter()
        .next()
        .map(|entry| entry.id)
    else {
        return Ok(0);
    };
    let mut replayed = 0;
    let mut seen = HashSet::new();
    let mut start = "-".to_owned();
    loop {
        let batch = read_dead_letters(&mut *connection, keys, &start, &last, 100).await?;
        let Some(tail) = batch.last() else {
            return Ok(replayed);
        };
        start = format!("({}", tail.id);
        for letter in &batch {
            if seen.insert((letter.origin_stream.clone(), letter.origin_id.clone())) {
                replay_letter(&mut *connection, keys, letter).await?;
                replayed += 1;
            } else {
                let _: u64 = redis::cmd("XDEL")
                    .arg(keys.key(DEAD_LETTER_STREAM))
                    .arg(&letter.id)
                    .query_async(&mut *connection)
                    .await?;
            }
        }
        if tail.id == last {
            return Ok(replayed);
        }
    }
}
