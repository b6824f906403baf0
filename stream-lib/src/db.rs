//! How stream-lib begins a transaction: on a task of its own, so that a handler deadline or a
//! shutdown dropping the caller midway cannot leave the pooled session inside a transaction sqlx
//! does not track (sqlx 0.9's `Pool::begin` is not cancel-safe on PostgreSQL,
//! transact-rs/sqlx#4393; the next borrower's statements would run inside it). The services use
//! web-kit's `db::begin`, which does the same.

use sqlx::{PgPool, Postgres, Transaction};

/// A transaction on a connection of `pool`; a caller dropped while the `BEGIN` is in flight
/// leaves the task to finish it and drop the transaction, which rolls it back.
#[allow(clippy::disallowed_methods)] // the one place stream-lib may call `Pool::begin`
pub(crate) async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    match tokio::spawn(async move { pool.begin().await }).await {
        Ok(begun) => begun,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // Only a runtime shutting down cancels the task.
        Err(_) => Err(sqlx::Error::PoolClosed),
    }
}
