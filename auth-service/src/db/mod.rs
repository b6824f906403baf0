//! SQL, one module per table. Queries are checked at run time (no build-time database). Every
//! function returns [`DbError`], which says what a failure means to a use case (the database is
//! unreachable, a unique field is taken, or the statement failed), so neither sqlx's errors nor
//! HTTP statuses cross this boundary.

pub mod refresh_tokens;
pub mod users;

use sqlx::{PgPool, Postgres};

/// A transaction of this service's database ([`begin`], [`commit`]).
pub type Transaction = sqlx::Transaction<'static, Postgres>;

/// Why a database call failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// PostgreSQL is unreachable, saturated or shutting down: the caller may retry later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Another account has this email (case-insensitively).
    #[error("the email is taken")]
    EmailTaken,
    /// Another account has this username (case-insensitively).
    #[error("the username is taken")]
    UsernameTaken,
    /// The statement failed for another reason (a bug, a broken invariant).
    #[error("a query failed")]
    Query(#[source] sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        if web_kit::error::is_unavailable_sqlx(&error) {
            Self::Unavailable(error)
        } else {
            Self::Query(error)
        }
    }
}

/// Begins a transaction (cancel-safe: [`web_kit::db::begin`]).
pub async fn begin(pool: &PgPool) -> Result<Transaction, DbError> {
    Ok(web_kit::db::begin(pool).await?)
}

/// Commits `transaction`.
pub async fn commit(transaction: Transaction) -> Result<(), DbError> {
    Ok(transaction.commit().await?)
}
