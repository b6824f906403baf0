//! The administrators' view of the event streams: every stream's health, the dead letters, and
//! the replay of one dead letter onto its origin stream (with its original event id, so a
//! replay is applied once however often it is asked). The caller is an administrator (the
//! route's `AdminUser`).

use stream_lib::{
    DEAD_LETTER_STREAM, INVENTORY_STREAM, ORDERS_STREAM, StreamKeys, StreamRedis,
    admin::{DeadLetter, StreamHealth},
};

use crate::error::ApiError;

/// Dead letters shown when the caller names no count, and the most one page shows.
pub const DEAD_LETTERS_SHOWN: usize = 50;
pub const MAX_DEAD_LETTERS: usize = 500;

/// Length and groups of both streams and of the dead-letter stream.
#[tracing::instrument(skip_all)]
pub async fn stream_health(
    redis: &StreamRedis,
    keys: &StreamKeys,
) -> Result<Vec<StreamHealth>, ApiError> {
    let mut connection = redis.control().await?;
    let streams = [ORDERS_STREAM, INVENTORY_STREAM, DEAD_LETTER_STREAM];
    Ok(stream_lib::admin::stream_health(&mut connection, keys, &streams).await?)
}

/// The oldest dead letters: `count` of them (default [`DEAD_LETTERS_SHOWN`], 1 to
/// [`MAX_DEAD_LETTERS`]; larger asks are cut).
#[tracing::instrument(skip_all, fields(count))]
pub async fn dead_letters(
    redis: &StreamRedis,
    keys: &StreamKeys,
    count: Option<usize>,
) -> Result<Vec<DeadLetter>, ApiError> {
    let count = count
        .unwrap_or(DEAD_LETTERS_SHOWN)
        .clamp(1, MAX_DEAD_LETTERS);
    let mut connection = redis.control().await?;
    Ok(stream_lib::admin::dead_letters(&mut connection, keys, count).await?)
}

/// Replays the dead letter `id` and returns the id of the entry appended to its origin stream;
/// 404 when there is no such dead letter (already replayed, or not a stream id at all).
#[tracing::instrument(skip_all, fields(dead_letter = %id))]
pub async fn replay_dead_letter(
    redis: &StreamRedis,
    keys: &StreamKeys,
    id: &str,
) -> Result<String, ApiError> {
    if !is_stream_id(id) {
        return Err(ApiError::NotFound("no such dead letter"));
    }
    let mut connection = redis.control().await?;
    stream_lib::admin::replay(&mut connection, keys, id)
        .await?
        .ok_or(ApiError::NotFound("no such dead letter"))
}

/// `<ms>-<seq>`, as Redis stream ids are: two 64-bit numbers (Redis refuses a larger one with an
/// error, which is no dead letter).
fn is_stream_id(id: &str) -> bool {
    let number =
        |part: &str| part.bytes().all(|b| b.is_ascii_digit()) && part.parse::<u64>().is_ok();
    id.split_once('-')
        .is_some_and(|(ms, seq)| number(ms) && number(seq))
}
