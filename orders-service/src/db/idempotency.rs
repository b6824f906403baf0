//! Idempotency keys, scoped per user: the first request with a key stores its fingerprint and
//! response in the same transaction as the order; a repeat gets that response back. Keys are
//! forgotten once older than their time to live ([`prune_expired`], run by the sweeper).

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// What an earlier request with a key left: its fingerprint and, once it committed, its answer.
#[derive(Debug, Clone)]
pub struct Seen {
    pub request_hash: String,
    pub response: Option<(u16, serde_json::Value)>,
}

/// The stored request and answer of `key` for `user_id` (claimed with
/// `db::place::claim_and_read_catalog`, answered in `db::place::write_order`). Run it as its own
/// statement after a claim that found the key taken: its snapshot then sees the committed row.
pub async fn find(
    connection: &mut PgConnection,
    user_id: Uuid,
    key: &str,
) -> Result<Option<Seen>, sqlx::Error> {
    let row: Option<(String, Option<i16>, Option<serde_json::Value>)> = sqlx::query_as(
        "SELECT request_hash, response_status, response_body
         FROM idempotency_keys WHERE user_id = $1 AND key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(|(request_hash, status, body)| Seen {
        request_hash,
        response: match (status, body) {
            (Some(status), Some(body)) => Some((u16::try_from(status).unwrap_or(500), body)),
            _ => None,
        },
    }))
}

/// Most keys one [`prune_expired`] statement deletes: its row locks are few and brief.
pub const PRUNE_BATCH: i64 = 1000;

/// Deletes up to [`PRUNE_BATCH`] of the oldest keys created more than `ttl` ago, in one
/// statement of its own (its own transaction), skipping rows another session holds; returns how
/// many it deleted.
pub async fn prune_expired(pool: &PgPool, ttl: Duration) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query(
        "DELETE FROM idempotency_keys WHERE (user_id, key) IN (
             SELECT user_id, key FROM idempotency_keys
             WHERE created_at < now() - make_interval(secs => $1::float8)
             ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(ttl.as_secs_f64())
    .bind(PRUNE_BATCH)
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}
