//! The `users` table. Email and username are unique case-insensitively (lower() indexes).

use sqlx::PgExecutor;
use time::OffsetDateTime;

use super::DbError;
use crate::domain::UserId;

/// A row of `users`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: OffsetDateTime,
}

const COLUMNS: &str = "id, username, email, password_hash, role, created_at";

#[tracing::instrument(skip_all)]
pub async fn find_by_email(
    executor: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<UserRow>, DbError> {
    sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE lower(email) = lower($1)"
    )))
    .bind(email.trim())
    .fetch_optional(executor)
    .await
    .map_err(DbError::from)
}

#[tracing::instrument(skip_all, fields(user_id = %id))]
pub async fn find_by_id(
    executor: impl PgExecutor<'_>,
    id: UserId,
) -> Result<Option<UserRow>, DbError> {
    sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await
    .map_err(DbError::from)
}

/// Which of `email` and `username` are already taken (case-insensitively).
#[tracing::instrument(skip_all)]
pub async fn taken(
    executor: impl PgExecutor<'_>,
    email: &str,
    username: &str,
) -> Result<(bool, bool), DbError> {
    sqlx::query_as::<_, (bool, bool)>(
        "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1)), \
                EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($2))",
    )
    .bind(email)
    .bind(username)
    .fetch_one(executor)
    .await
    .map_err(DbError::from)
}

/// Inserts an account with id `id`; a unique violation says which field clashed
/// ([`DbError::EmailTaken`], [`DbError::UsernameTaken`]).
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub async fn insert(
    executor: impl PgExecutor<'_>,
    id: UserId,
    username: &str,
    email: &str,
    password_hash: &str,
    role: &str,
) -> Result<UserRow, DbError> {
    sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (id, username, email, password_hash, role) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(username)
    .bind(email)
    .bind(password_hash)
    .bind(role)
    .fetch_one(executor)
    .await
    .map_err(|error| match unique_violation(&error).as_deref() {
        Some("users_email_lower_key") => DbError::EmailTaken,
        Some("users_username_lower_key") => DbError::UsernameTaken,
        _ => DbError::from(error),
    })
}

fn unique_violation(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(database) if database.is_unique_violation() => {
            database.constraint().map(str::to_owned)
        }
        _ => None,
    }
}
