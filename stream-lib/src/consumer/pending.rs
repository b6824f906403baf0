//! Pending-entry work: claiming retries that are due, reclaiming entries of consumers that
//! died, and the heartbeat that keeps this consumer's entries its own.

use std::{sync::LazyLock, time::Duration};

use redis::{RedisResult, Script, Value};

use super::{Context, Control, Delivery, millis};
use crate::wire::{as_array, as_string, as_u64, parse_entry};

static CLAIM_DUE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/claim_due.lua")));
static RECLAIM: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/reclaim.lua")));
static TOUCH: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/touch.lua")));

/// Pending entries examined per reclaim script call.
const RECLAIM_SCAN: usize = 512;

/// Claims up to `limit` retries that are due; also says when the next one is due.
pub(crate) async fn claim_due(
    ctx: &Context,
    ctl: &mut Control,
    limit: usize,
) -> RedisResult<(Vec<Delivery>, Option<Duration>)> {
    let reply: Value = CLAIM_DUE
        .key(&ctx.stream_key)
        .key(&ctx.retries_key)
        .key(&ctx.attempts_key)
        .arg(&ctx.settings.group)
        .arg(&ctx.settings.consumer)
        .arg(limit.max(1))
        .invoke_async(ctl)
        .await?;
    let parts = as_array(&reply);
    let mut due = Vec::new();
    for item in parts.first().map(as_array).unwrap_or_default() {
        let parts = as_array(item);
        let (Some(entry), Some(failed)) = (
            parts.first().and_then(parse_entry),
            parts.get(1).and_then(as_u64),
        ) else {
            continue;
        };
        let attempt = u32::try_from(failed).unwrap_or(u32::MAX).saturating_add(1);
        due.push(Delivery { entry, attempt });
    }
    let next = match parts.get(1) {
        Some(Value::Int(ms)) if *ms >= 0 => Some(Duration::from_millis(ms.unsigned_abs())),
        _ => None,
    };
    Ok((due, next))
}

/// Takes over up to `limit` entries pending longer than the claim idle time that no retry is
/// waiting for (their consumer died or froze). Their delivery count counts toward the
/// attempts.
pub(crate) async fn reclaim(
    ctx: &Context,
    ctl: &mut Control,
    cursor: &mut String,
    limit: usize,
) -> RedisResult<Vec<Delivery>> {
    let mut claimed = Vec::new();
    loop {
        let left = limit.saturating_sub(claimed.len());
        if left == 0 {
            return Ok(claimed);
        }
        let reply: RedisResult<Value> = RECLAIM
            .key(&ctx.stream_key)
            .key(&ctx.retries_key)
            .key(&ctx.attempts_key)
            .arg(&ctx.settings.group)
            .arg(&ctx.settings.consumer)
            .arg(millis(ctx.settings.claim_idle))
            .arg(cursor.as_str())
            .arg(left)
            .arg(RECLAIM_SCAN)
            .invoke_async(ctl)
            .await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) => {
                *cursor = "0-0".to_owned();
                return Err(error);
            }
        };
        let parts = as_array(&reply);
        *cursor = parts
            .first()
            .and_then(as_string)
            .unwrap_or_else(|| "0-0".to_owned());
        for item in parts.get(1).map(as_array).unwrap_or_default() {
            let fields = as_array(item);
            let Some(entry) = fields.first().and_then(parse_entry) else {
                continue;
            };
            let deliveries = fields.get(1).and_then(as_u64).unwrap_or(1);
            let failed = fields.get(2).and_then(as_u64).unwrap_or(0);
            let attempt = deliveries.max(failed + 1);
            tracing::info!(stream = %ctx.settings.stream, id = %entry.id, attempt, "reclaimed an idle entry");
            ctx.count("stream_events_reclaimed_total", 1);
            claimed.push(Delivery {
                entry,
                attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
            });
        }
        if cursor == "0-0" {
            return Ok(claimed);
        }
    }
}

/// Sets the idle time of `ids` this consumer still owns to `idle` without counting a delivery:
/// zero is the heartbeat, the claim idle time hands them to the next consumer at once.
/// Returns the ids another consumer owns now.
pub(crate) async fn touch(
    ctx: &Context,
    ctl: &mut Control,
    ids: &[&str],
    idle: Duration,
) -> RedisResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    TOUCH
        .key(&ctx.stream_key)
        .arg(&ctx.settings.group)
        .arg(&ctx.settings.consumer)
        .arg(millis(idle))
        .arg(ids)
        .invoke_async(ctl)
        .await
}
