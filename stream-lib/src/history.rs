//! An order's history on the streams (`stream-admin trace <order id>`): every entry whose payload
//! names the order, on `orders_stream`, `inventory_stream` and the dead-letter stream, in time
//! order, each with what became of it in the groups that read its stream.
//!
//! Reads only (XRANGE, XINFO GROUPS, XPENDING), one key per command, so it works the same on a
//! cluster. An order id is a UUIDv7: nothing about the order can be older than its id, so each
//! stream is read from the id's millisecond (less [`CLOCK_SKEW`]) on.

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    DEAD_LETTER_STREAM, INVENTORY_STREAM, ORDERS_STREAM, StreamKeys,
    outbox::recovery::EntryId,
    wire::{RawEntry, as_array, as_pairs, as_string, is_nogroup, parse_entries},
};

/// How much earlier than its order id's timestamp an event of the order may be stamped by
/// another service's clock.
pub const CLOCK_SKEW_MS: u64 = 60_000;

/// Entries read per XRANGE page.
const PAGE: usize = 500;

/// What became of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Acknowledged by every group that reads its stream.
    Delivered,
    /// Some group has not acknowledged it yet: unread, in its pending list, or due for a retry
    /// (or no group reads the stream).
    Pending,
    /// Given up on: a dead letter of it exists (or it is one).
    DeadLettered,
}

/// One group's view of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupView {
    pub group: String,
    /// `acked`, `pending` (delivered, not acknowledged) or `unread`.
    pub state: &'static str,
}

/// One entry about the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderEvent {
    /// The logical stream (`orders_stream`, `inventory_stream`, `dead_letter_stream`).
    pub stream: String,
    /// The entry id on that stream.
    pub id: String,
    /// `occurred_at` of the event (for a dead letter, of the original event).
    pub occurred_at: String,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The producing service (`source`).
    pub service: String,
    pub correlation_id: String,
    pub outcome: Outcome,
    /// Each group of the stream (none for a dead letter).
    pub groups: Vec<GroupView>,
    /// For a dead letter: the entry it holds (`origin_stream`/`origin_id`), the group that gave
    /// up, after how many attempts and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<DeadLetterOf>,
}

/// Where a dead letter came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetterOf {
    pub origin_stream: String,
    pub origin_id: String,
    pub group: String,
    pub attempts: String,
    pub error: String,
    pub failed_at: String,
}

/// Every entry about `order_id` on the order streams and the dead-letter stream, in time order
/// (`occurred_at`, then the stream's order).
pub async fn order_history(
    connection: &mut impl redis::aio::ConnectionLike,
    keys: &StreamKeys,
    order_id: Uuid,
) -> Result<Vec<OrderEvent>, redis::RedisError> {
    let start = start_id(order_id);
    let letters = about(
        read_from(connection, &keys.key(DEAD_LETTER_STREAM), &start).await?,
        order_id,
    );
    let mut events = Vec::new();
    for stream in [ORDERS_STREAM, INVENTORY_STREAM] {
        let key = keys.key(stream);
        let entries = about(read_from(connection, &key, &start).await?, order_id);
        if entries.is_empty() {
            continue;
        }
        let groups = groups(connection, &key).await?;
        for entry in entries {
            let dead = letters.iter().any(|letter| {
                letter.field("origin_stream") == Some(stream)
                    && letter.field("origin_id") == Some(entry.id.as_str())
            });
            let mut views = Vec::with_capacity(groups.len());
            for (group, last_delivered) in &groups {
                let state = group_state(connection, &key, group, last_delivered, &entry.id).await?;
                views.push(GroupView {
                    group: group.clone(),
                    state,
                });
            }
            let outcome = if dead {
                Outcome::DeadLettered
            } else if !views.is_empty() && views.iter().all(|view| view.state == "acked") {
                Outcome::Delivered
            } else {
                Outcome::Pending
            };
            events.push(event(stream, &entry, outcome, views, None));
        }
    }
    for letter in &letters {
        let field = |name: &str| letter.field(name).unwrap_or_default().to_owned();
        let origin = DeadLetterOf {
            origin_stream: field("origin_stream"),
            origin_id: field("origin_id"),
            group: field("group"),
            attempts: field("attempts"),
            error: field("error"),
            failed_at: field("failed_at"),
        };
        events.push(event(
            DEAD_LETTER_STREAM,
            letter,
            Outcome::DeadLettered,
            Vec::new(),
            Some(origin),
        ));
    }
    // Stable: entries of one stream keep the stream's order on a tie.
    events.sort_by_cached_key(|event| occurred(&event.occurred_at));
    Ok(events)
}

/// The XRANGE start for an order: its UUIDv7 millisecond less [`CLOCK_SKEW_MS`] (`-` for an id
/// of another version, which carries no time).
fn start_id(order_id: Uuid) -> String {
    match order_id.get_timestamp() {
        Some(timestamp) if order_id.get_version_num() == 7 => {
            let (seconds, nanos) = timestamp.to_unix();
            let ms = seconds * 1000 + u64::from(nanos) / 1_000_000;
            format!("{}-0", ms.saturating_sub(CLOCK_SKEW_MS))
        }
        _ => "-".to_owned(),
    }
}

/// Sort key: the event's time (unparseable times first, as they are oldest in doubt).
fn occurred(at: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
}

fn event(
    stream: &str,
    entry: &RawEntry,
    outcome: Outcome,
    groups: Vec<GroupView>,
    dead_letter: Option<DeadLetterOf>,
) -> OrderEvent {
    let field = |name: &str| entry.field(name).unwrap_or_default().to_owned();
    OrderEvent {
        stream: stream.to_owned(),
        id: entry.id.clone(),
        occurred_at: field("occurred_at"),
        event_id: field("event_id"),
        event_type: field("type"),
        service: field("source"),
        correlation_id: field("correlation_id"),
        outcome,
        groups,
        dead_letter,
    }
}

/// The entries whose payload's `order_id` is `order_id`.
fn about(entries: Vec<RawEntry>, order_id: Uuid) -> Vec<RawEntry> {
    let wanted = order_id.to_string();
    entries
        .into_iter()
        .filter(|entry| {
            entry
                .field("payload")
                .and_then(|payload| serde_json::from_str::<serde_json::Value>(payload).ok())
                .is_some_and(|payload| {
                    payload["order_id"]
                        .as_str()
                        .is_some_and(|id| id.eq_ignore_ascii_case(&wanted))
                })
        })
        .collect()
}

/// Every entry of `key` from `start` on, a page at a time.
async fn read_from(
    connection: &mut impl redis::aio::ConnectionLike,
    key: &str,
    start: &str,
) -> Result<Vec<RawEntry>, redis::RedisError> {
    let mut entries = Vec::new();
    let mut from = start.to_owned();
    loop {
        let page: redis::Value = redis::cmd("XRANGE")
            .arg(key)
            .arg(&from)
            .arg("+")
            .arg("COUNT")
            .arg(PAGE)
            .query_async(&mut *connection)
            .await?;
        let page = parse_entries(&page);
        let full = page.len() == PAGE;
        let Some(last) = page.last().and_then(|entry| EntryId::parse(&entry.id)) else {
            break;
        };
        entries.extend(page);
        if !full {
            break;
        }
        from = format!("({last}");
    }
    Ok(entries)
}

/// The groups of `key` with their last delivered id (none for a missing stream).
async fn groups(
    connection: &mut impl redis::aio::ConnectionLike,
    key: &str,
) -> Result<Vec<(String, EntryId)>, redis::RedisError> {
    let reply: redis::Value = match redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(key)
        .query_async(&mut *connection)
        .await
    {
        Ok(reply) => reply,
        Err(error) if error.to_string().contains("no such key") => redis::Value::Nil,
        Err(error) => return Err(error),
    };
    Ok(as_array(&reply)
        .iter()
        .filter_map(|group| {
            let fields = as_pairs(group);
            let get = |name: &str| {
                fields
                    .iter()
                    .find(|(field, _)| field == name)
                    .and_then(|(_, value)| as_string(value))
            };
            let last = get("last-delivered-id").and_then(|id| EntryId::parse(&id));
            Some((get("name")?, last.unwrap_or_default()))
        })
        .collect())
}

/// `unread` when the group has not reached the entry, `pending` when it is in the group's
/// pending list, `acked` otherwise.
async fn group_state(
    connection: &mut impl redis::aio::ConnectionLike,
    key: &str,
    group: &str,
    last_delivered: &EntryId,
    id: &str,
) -> Result<&'static str, redis::RedisError> {
    if EntryId::parse(id).is_some_and(|entry| entry > *last_delivered) {
        return Ok("unread");
    }
    let pending: redis::Value = match redis::cmd("XPENDING")
        .arg(key)
        .arg(group)
        .arg(id)
        .arg(id)
        .arg(1)
        .query_async(&mut *connection)
        .await
    {
        Ok(pending) => pending,
        Err(error) if is_nogroup(&error) => return Ok("unread"),
        Err(error) => return Err(error),
    };
    Ok(if as_array(&pending).is_empty() {
        "acked"
    } else {
        "pending"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_is_read_from_a_minute_before_its_ids_time() {
        let order = Uuid::parse_str("0193a5d0-0000-7000-8000-000000000000").unwrap();
        let ms = 0x0193_a5d0_0000_u64;
        assert_eq!(start_id(order), format!("{}-0", ms - CLOCK_SKEW_MS));
        assert_eq!(start_id(Uuid::new_v4()), "-");
    }
}
