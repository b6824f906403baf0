//! Retention: published outbox rows are kept at least the relay's retention (so a recovery can
//! republish them), then purged in small batches that never hold long locks.

use std::time::Duration;

use sqlx::PgPool;

/// Rows deleted per statement.
pub const PURGE_BATCH: u32 = 1000;
/// Statements per relay round, so a large backlog of old rows does not delay publishing.
pub const PURGE_BATCHES_PER_ROUND: u32 = 50;

/// Deletes rows published more than `older_than` ago, oldest first, `batch_size` per statement
/// (each its own short transaction), at most `max_batches` statements; returns how many rows
/// were deleted. Unpublished rows are never deleted.
pub async fn purge_published(
    pool: &PgPool,
    older_than: Duration,
    batch_size: u32,
    max_batches: u32,
) -> Result<u64, sqlx::Error> {
    let batch_size = batch_size.max(1);
    let mut deleted = 0;
    for _ in 0..max_batches {
        let done = sqlx::query(
            "DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox
                 WHERE published_at < now() - make_interval(secs => $1)
                 ORDER BY id LIMIT $2)",
        )
        .bind(older_than.as_secs_f64())
        .bind(i64::from(batch_size))
        .execute(pool)
        .await?
        .rows_affected();
        deleted += done;
        if done < u64::from(batch_size) {
            break;
        }
        tokio::task::yield_now().await;
    }
    Ok(deleted)
}
