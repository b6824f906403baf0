//! Shutdown: unblock the read in flight and hand back what this consumer holds, so the next
//! consumer takes it over at once instead of after the claim idle time.

use std::sync::atomic::{AtomicI64, Ordering};

use redis::RedisResult;

use super::{Context, Control, pending};

/// Makes the blocked XREADGROUP of connection `reader_id` return at once (as a timeout). On a
/// cluster the command goes to the master of the stream's slot, where the read blocks.
pub(crate) async fn unblock(ctx: &Context, ctl: &mut Control, reader_id: &AtomicI64) {
    let id = reader_id.load(Ordering::SeqCst);
    if id > 0 {
        let mut command = redis::cmd("CLIENT");
        command.arg("UNBLOCK").arg(id);
        let _: RedisResult<i64> = ctl.query_at(&ctx.stream_key, &command).await;
    }
}

/// Leaves `ids` pending, idle as long as the claim idle time: the next consumer's reclaim
/// takes them over at once.
pub(crate) async fn release(ctx: &Context, ctl: &mut Control, ids: &[&str]) {
    if ids.is_empty() {
        return;
    }
    tracing::info!(stream = %ctx.settings.stream, count = ids.len(), "leaving unfinished entries pending for another consumer");
    if let Err(error) = pending::touch(ctx, ctl, ids, ctx.settings.claim_idle).await {
        tracing::debug!(error = %error, "could not release unfinished entries; they wait for the claim idle time");
    }
}
