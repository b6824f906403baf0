//! The idempotent inbox: a consumer records each event id it handled in the same transaction as
//! the effect, so a redelivered event changes nothing.
//!
//! Each consuming service's migrations create the table:
//!
//! ```sql
//! CREATE TABLE inbox (
//!     consumer    TEXT        NOT NULL,
//!     event_id    UUID        NOT NULL,
//!     handled_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
//!     PRIMARY KEY (consumer, event_id)
//! );
//! ```

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The SQL of the inbox table, for a service's migration.
pub const INBOX_TABLE_SQL: &str = "CREATE TABLE inbox (
    consumer    TEXT        NOT NULL,
    event_id    UUID        NOT NULL,
    handled_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);";

/// The index [`prune`] reads (added by a later migration of each consuming service).
pub const INBOX_PRUNE_INDEX_SQL: &str =
    "CREATE INDEX inbox_handled_at ON inbox (consumer, handled_at);";

/// Records that `consumer` handled `event_id`, inside the caller's transaction. Returns `false`
/// when it was already recorded: the caller then skips the effect and commits (or rolls back)
/// nothing else.
pub async fn record(
    connection: &mut PgConnection,
    consumer: &str,
    event_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(consumer)
    .bind(event_id)
    .execute(connection)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Records that `consumer` handled every id of `event_ids` with one statement, inside the
/// caller's transaction; returns the ids that were new (in no particular order). An id already
/// recorded, or repeated in `event_ids`, is returned at most once: the caller applies the
/// effects of exactly the returned ids.
pub async fn record_batch(
    connection: &mut PgConnection,
    consumer: &str,
    event_ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    if event_ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[])
         ON CONFLICT DO NOTHING RETURNING event_id",
    )
    .bind(consumer)
    .bind(event_ids)
    .fetch_all(connection)
    .await
}

/// Deletes `consumer`'s inbox rows handled more than `older_than` ago, `batch_size` rows per
/// statement (each its own short transaction, so no long lock), until none is left; returns how
/// many were deleted. `older_than` must exceed the producers' outbox retention: a republished
/// event whose id was pruned would be applied again.
pub async fn prune(
    pool: &PgPool,
    consumer: &str,
    older_than: Duration,
    batch_size: u32,
) -> Result<u64, sqlx::Error> {
    let batch_size = batch_size.max(1);
    let mut deleted = 0;
    loop {
        let done = sqlx::query(
            "DELETE FROM inbox WHERE consumer = $1 AND event_id IN (
                 SELECT event_id FROM inbox
                 WHERE consumer = $1 AND handled_at < now() - make_interval(secs => $2)
                 LIMIT $3)",
        )
        .bind(consumer)
        .bind(older_than.as_secs_f64())
        .bind(i64::from(batch_size))
        .execute(pool)
        .await?
        .rows_affected();
        deleted += done;
        if done < u64::from(batch_size) {
            return Ok(deleted);
        }
        tokio::task::yield_now().await;
    }
}
