//! Idempotency keys, scoped per user: the first request with a key stores its fingerprint and
//! response in the same transaction as the order; a repeat gets that response back. Keys are
//! forgotten once older than their time to live ([`prune_expired`], run by the sweeper).

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// What claiming a key found.
pub enum Claim {
    /// The key is new and now held by this transaction.
    New,
    /// A committed earlier request used the key.
    Seen {
        request_hash: String,
        response: Option<(u16, serde_json::Value)>,
    },
}

/// Claims `key` for `user_id`. A concurrent request with the same key waits on the unique index
/// until the first transaction ends, then sees its row.
pub async fn claim(
    connection: &mut PgConnection,
    user_id: Uuid,
    key: &str,
    request_hash: &str,
) -> Result<Claim, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .execute(&mut *connection)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::New);
    }
    let (request_hash, status, body): (String, Option<i16>, Option<serde_json::Value>) =
        sqlx::query_as(
            "SELECT request_hash, response_status, response_body
             FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_one(&mut *connection)
        .await?;
    let response = match (status, body) {
        (Some(status), Some(body)) => Some((u16::try_from(status).unwrap_or(500), body)),
        _ => None,
    };
    Ok(Claim::Seen {
        request_hash,
        response,
    })
}

/// Stores the response of the request that claimed the key.
pub async fn complete(
    connection: &mut PgConnection,
    user_id: Uuid,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE idempotency_keys SET response_status = $3, response_body = $4
         WHERE user_id = $1 AND key = $2",
    )
    .bind(user_id)
    .bind(key)
    .bind(i16::try_from(status).unwrap_or(500))
    .bind(body)
    .execute(connection)
    .await?;
    Ok(())
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
