//! The maintenance tick: trim what every group acked, forget long-gone consumers, refresh the
//! gauges, prune the inbox.

use std::{sync::LazyLock, time::Duration};

use redis::{RedisResult, Script};

use super::{Context, Control, millis};

static TRIM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/trim.lua")));
static FORGET_CONSUMERS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/forget_consumers.lua")));

/// A consumer idle this long with nothing pending is removed from the group (consumer names are
/// unique per process, so every restart leaves one behind).
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// Inbox rows deleted per statement (short statements, no long lock).
const PRUNE_BATCH: u32 = 1000;

pub(crate) async fn maintain(ctx: &Context, ctl: &mut Control) -> RedisResult<()> {
    let forgotten: i64 = FORGET_CONSUMERS
        .key(&ctx.stream_key)
        .arg(&ctx.settings.group)
        .arg(&ctx.settings.consumer)
        .arg(millis(FORGET_AFTER.max(ctx.settings.claim_idle * 10)))
        .invoke_async(ctl)
        .await?;
    if forgotten > 0 {
        tracing::info!(stream = %ctx.settings.stream, count = forgotten, "idle consumers without pending entries removed from the group");
    }
    match TRIM.key(&ctx.stream_key).invoke_async::<i64>(ctl).await {
        Ok(count) if count > 0 => {
            tracing::debug!(stream = %ctx.settings.stream, count, "stream trimmed");
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(stream = %ctx.settings.stream, error = %error, "trim failed"),
    }
    gauges(ctx, ctl).await;
    prune_inbox(ctx).await;
    Ok(())
}

async fn gauges(ctx: &Context, ctl: &mut Control) {
    let stream = ctx.settings.stream.as_str();
    match crate::admin::stream_health(ctl, &ctx.keys, &[stream]).await {
        Ok(health) => {
            for group in health.iter().flat_map(|stream| &stream.groups) {
                let labels = [("stream", stream.to_owned()), ("group", group.name.clone())];
                metrics::gauge!("stream_group_pending", &labels).set(group.pending as f64);
                if let Some(lag) = group.lag {
                    metrics::gauge!("stream_group_lag", &labels).set(lag as f64);
                }
            }
        }
        Err(error) => tracing::debug!(error = %error, "stream health unavailable"),
    }
    let dead: RedisResult<u64> = redis::cmd("XLEN")
        .arg(&ctx.dead_letter_key)
        .query_async(ctl)
        .await;
    if let Ok(dead) = dead {
        metrics::gauge!("stream_dead_letters").set(dead as f64);
    }
}

/// Deletes inbox rows older than the inbox retention, in small batches.
async fn prune_inbox(ctx: &Context) {
    let pruned = crate::inbox::prune(
        &ctx.pool,
        &ctx.settings.group,
        ctx.settings.inbox_retention,
        PRUNE_BATCH,
    )
    .await;
    match pruned {
        Ok(0) => {}
        Ok(count) => tracing::debug!(group = %ctx.settings.group, count, "inbox pruned"),
        Err(error) => {
            tracing::warn!(group = %ctx.settings.group, error = %error, "inbox prune failed")
        }
    }
}
