//! The dead-letter stream: what a dead letter holds, and how one is written.
//!
//! A dead letter keeps every field of the original entry and adds [`DEAD_LETTER_FIELDS`]. The
//! dead-letter stream lives in another cluster slot than the streams it collects from, so
//! writing one is two steps: XADD the dead letter, then XACK the original. A crash between
//! them delivers the original again and may dead-letter it twice; readers deduplicate by
//! `origin_stream` + `origin_id` ([`crate::admin`] does).

use redis::aio::ConnectionLike;

use crate::{envelope::format_timestamp, wire::RawEntry};

/// The fields a dead letter adds to the original envelope.
pub const DEAD_LETTER_FIELDS: [&str; 6] = [
    "origin_stream",
    "origin_id",
    "group",
    "attempts",
    "error",
    "failed_at",
];

/// Where a dead letter comes from and why it died.
pub(crate) struct Origin<'a> {
    /// Logical name of the origin stream (as operators read it).
    pub stream: &'a str,
    pub group: &'a str,
    pub attempts: u32,
    pub error: &'a str,
}

/// XADDs the dead letter of `entry` to `dead_letter_key`; returns its id. The caller acks the
/// original afterwards.
pub(crate) async fn write(
    connection: &mut impl ConnectionLike,
    dead_letter_key: &str,
    entry: &RawEntry,
    origin: &Origin<'_>,
) -> redis::RedisResult<String> {
    let mut xadd = redis::cmd("XADD");
    xadd.arg(dead_letter_key).arg("*");
    for (name, value) in &entry.fields {
        if !DEAD_LETTER_FIELDS.contains(&name.as_str()) {
            xadd.arg(name).arg(value);
        }
    }
    xadd.arg("origin_stream")
        .arg(origin.stream)
        .arg("origin_id")
        .arg(&entry.id)
        .arg("group")
        .arg(origin.group)
        .arg("attempts")
        .arg(origin.attempts)
        .arg("error")
        .arg(origin.error)
        .arg("failed_at")
        .arg(format_timestamp(time::OffsetDateTime::now_utc()));
    xadd.query_async(connection).await
}
