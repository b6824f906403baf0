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

use sqlx::PgConnection;
use uuid::Uuid;

/// The SQL of the inbox table, for a service's migration.
pub const INBOX_TABLE_SQL: &str = "CREATE TABLE inbox (
    consumer    TEXT        NOT NULL,
    event_id    UUID        NOT NULL,
    handled_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);";

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
