//! Settling entries: ack what committed (one XACK), schedule the retry of a transient failure
//! (only the owner may), dead-letter the rest (XADD the dead letter, then XACK).

use std::{sync::LazyLock, time::Duration};

use redis::{RedisResult, Script, Value};

use super::{Context, Control, Work};
use crate::{
    dead_letter::{self, Origin},
    handler::HandlerError,
    wire::{RawEntry, as_array, as_u64},
};

/// Redis round trips a settlement tries before leaving the entry pending (reclaimed later).
const SETTLE_TRIES: usize = 5;
const SETTLE_PAUSE: Duration = Duration::from_millis(200);

static SCHEDULE_RETRY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/schedule_retry.lua")));

/// Acks `ids` and forgets their attempt counts, in one MULTI (both keys share the stream's
/// slot). Redis errors are retried a few times; then the entries stay pending and are
/// delivered again (the inbox absorbs the repeat).
pub(crate) async fn ack(ctx: &Context, ctl: &mut Control, ids: &[&str]) -> bool {
    if ids.is_empty() {
        return true;
    }
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("XACK")
        .arg(&ctx.stream_key)
        .arg(&ctx.settings.group)
        .arg(ids)
        .ignore()
        .cmd("HDEL")
        .arg(&ctx.attempts_key)
        .arg(ids)
        .ignore();
    for _ in 0..SETTLE_TRIES {
        match pipe.query_async::<()>(ctl).await {
            Ok(()) => return true,
            Err(error) => {
                tracing::warn!(stream = %ctx.settings.stream, error = %error, count = ids.len(), "ack failed; retrying");
                tokio::time::sleep(SETTLE_PAUSE).await;
            }
        }
    }
    false
}

/// Acks the entries that committed and counts them.
pub(crate) async fn handled(ctx: &Context, ctl: &mut Control, works: &[Work]) {
    let ids: Vec<&str> = works.iter().map(|work| work.entry.id.as_str()).collect();
    if ack(ctx, ctl, &ids).await {
        ctx.count("stream_events_processed_total", works.len() as u64);
    }
}

/// A failed entry: a transient failure with attempts left is scheduled for a retry, anything
/// else is dead-lettered.
pub(crate) async fn failed(ctx: &Context, ctl: &mut Control, work: Work, error: HandlerError) {
    let Work {
        entry,
        envelope,
        attempt,
        ..
    } = work;
    let message = format!("{error:#}");
    match error {
        HandlerError::Permanent(_) => {
            tracing::error!(stream = %ctx.settings.stream, id = %entry.id, event_id = %envelope.event_id, event_type = %envelope.event_type, attempt, error = %message, "handler failed for good; dead-lettering");
            dead_letter(ctx, ctl, &entry, attempt, &message).await;
        }
        HandlerError::Transient(_) | HandlerError::Unavailable(_) => {
            match schedule_retry(ctx, ctl, &entry.id, attempt).await {
                Some(Scheduled::Retry { failed, delay_ms }) => {
                    ctx.count("stream_events_retried_total", 1);
                    tracing::warn!(stream = %ctx.settings.stream, id = %entry.id, event_id = %envelope.event_id, event_type = %envelope.event_type, attempt = failed, delay_ms, error = %message, "handler failed; retry scheduled");
                }
                Some(Scheduled::OutOfAttempts { failed }) => {
                    tracing::error!(stream = %ctx.settings.stream, id = %entry.id, event_id = %envelope.event_id, event_type = %envelope.event_type, attempt = failed, error = %message, "handler failed its last attempt; dead-lettering");
                    dead_letter(ctx, ctl, &entry, failed, &message).await;
                }
                Some(Scheduled::NotOwner) => {
                    tracing::warn!(stream = %ctx.settings.stream, id = %entry.id, "another consumer owns the entry now; its retry is theirs");
                }
                // Left pending: reclaimed after the claim idle time, its delivery counted.
                None => {}
            }
        }
    }
}

enum Scheduled {
    Retry { failed: u32, delay_ms: u64 },
    OutOfAttempts { failed: u32 },
    NotOwner,
}

/// Records the failed attempt and the due time of the next one, durably, in Redis, if this
/// consumer still owns the entry. `None` when Redis cannot be reached.
async fn schedule_retry(
    ctx: &Context,
    ctl: &mut Control,
    id: &str,
    attempt: u32,
) -> Option<Scheduled> {
    let retry = &ctx.settings.retry;
    let jitter = retry.jitter.clamp(0.0, 1.0);
    for _ in 0..SETTLE_TRIES {
        let spread = if jitter > 0.0 {
            1.0 + rand::random_range(-jitter..=jitter)
        } else {
            1.0
        };
        let reply: RedisResult<Value> = SCHEDULE_RETRY
            .key(&ctx.stream_key)
            .key(&ctx.retries_key)
            .key(&ctx.attempts_key)
            .arg(&ctx.settings.group)
            .arg(&ctx.settings.consumer)
            .arg(id)
            .arg(attempt)
            .arg(retry.max_attempts.max(1))
            .arg(super::millis(retry.base))
            .arg(retry.factor.max(1.0))
            .arg(super::millis(retry.cap))
            .arg(spread)
            .invoke_async(ctl)
            .await;
        match reply {
            Ok(reply) => {
                let parts = as_array(&reply);
                let failed = parts.first().and_then(as_u64).unwrap_or(0);
                let failed = u32::try_from(failed).unwrap_or(u32::MAX);
                return Some(match parts.get(1) {
                    Some(Value::Int(-2)) => Scheduled::NotOwner,
                    Some(Value::Int(-1)) => Scheduled::OutOfAttempts { failed },
                    other => Scheduled::Retry {
                        failed,
                        delay_ms: other.and_then(as_u64).unwrap_or(0),
                    },
                });
            }
            Err(error) => {
                tracing::warn!(id, error = %error, "cannot schedule the retry yet");
                tokio::time::sleep(SETTLE_PAUSE).await;
            }
        }
    }
    None
}

/// Writes the dead letter, then acks the original (and forgets its retry bookkeeping). At
/// least once: a failure between the two steps leaves the original pending, and it may be
/// dead-lettered again (admin deduplicates by origin).
pub(crate) async fn dead_letter(
    ctx: &Context,
    ctl: &mut Control,
    entry: &RawEntry,
    attempts: u32,
    error: &str,
) {
    let origin = Origin {
        stream: &ctx.settings.stream,
        group: &ctx.settings.group,
        attempts,
        error,
    };
    for _ in 0..SETTLE_TRIES {
        match dead_letter::write(ctl, &ctx.dead_letter_key, entry, &origin).await {
            Ok(_) => {
                let mut pipe = redis::pipe();
                pipe.atomic()
                    .cmd("XACK")
                    .arg(&ctx.stream_key)
                    .arg(&ctx.settings.group)
                    .arg(&entry.id)
                    .ignore()
                    .cmd("HDEL")
                    .arg(&ctx.attempts_key)
                    .arg(&entry.id)
                    .ignore()
                    .cmd("ZREM")
                    .arg(&ctx.retries_key)
                    .arg(&entry.id)
                    .ignore();
                for _ in 0..SETTLE_TRIES {
                    match pipe.query_async::<()>(ctl).await {
                        Ok(()) => {
                            ctx.count("stream_events_dead_lettered_total", 1);
                            return;
                        }
                        Err(error) => {
                            tracing::warn!(id = %entry.id, error = %error, "dead letter written; cannot ack the original yet");
                            tokio::time::sleep(SETTLE_PAUSE).await;
                        }
                    }
                }
                return;
            }
            Err(error) => {
                tracing::warn!(id = %entry.id, error = %error, "cannot dead-letter yet");
                tokio::time::sleep(SETTLE_PAUSE).await;
            }
        }
    }
}
