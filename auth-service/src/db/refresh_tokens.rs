//! The `refresh_tokens` table: hashed, single-use tokens grouped in families for reuse detection.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbError;
use crate::domain::UserId;

/// A row of `refresh_tokens`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: UserId,
    pub expires_at: OffsetDateTime,
    /// The absolute end of the session (family): rotation never goes past it.
    pub session_expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub access_jti: Option<String>,
    pub access_expires_at: Option<OffsetDateTime>,
}

const COLUMNS: &str = "id, family_id, user_id, expires_at, session_expires_at, used_at, \
                       revoked_at, access_jti, access_expires_at";

/// A new refresh token and the access token issued with it.
pub struct NewRefreshToken<'a> {
    pub user_id: UserId,
    pub family_id: Uuid,
    pub token_hash: &'a [u8],
    pub expires_at: OffsetDateTime,
    pub session_expires_at: OffsetDateTime,
    pub access_jti: &'a str,
    pub access_expires_at: OffsetDateTime,
}

/// An access token handed out by a revoked family, to deny-list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssuedAccess {
    pub access_jti: String,
    pub access_expires_at: OffsetDateTime,
}

/// The statement that stores a token (`$1` its id, `$3` the user; a macro, so that
/// [`insert_first`] can prefix it and stay a literal).
macro_rules! insert_sql {
    () => {
        "INSERT INTO refresh_tokens \
         (id, family_id, user_id, token_hash, expires_at, session_expires_at, access_jti, \
          access_expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    };
}

/// Stores a token of an existing family (a rotation).
#[tracing::instrument(skip_all, fields(user_id = %token.user_id, family_id = %token.family_id))]
pub async fn insert(
    executor: impl PgExecutor<'_>,
    token: NewRefreshToken<'_>,
) -> Result<(), DbError> {
    store(executor, insert_sql!(), &token).await
}

/// Stores the first token of a new family (a sign-in) and deletes the user's expired tokens,
/// in one statement: one round trip and one commit, no transaction around it.
#[tracing::instrument(skip_all, fields(user_id = %token.user_id, family_id = %token.family_id))]
pub async fn insert_first(
    executor: impl PgExecutor<'_>,
    token: NewRefreshToken<'_>,
) -> Result<(), DbError> {
    const SQL: &str = concat!(
        "WITH expired AS (DELETE FROM refresh_tokens WHERE user_id = $3 AND expires_at < now()) ",
        insert_sql!()
    );
    store(executor, SQL, &token).await
}

async fn store(
    executor: impl PgExecutor<'_>,
    sql: &'static str,
    token: &NewRefreshToken<'_>,
) -> Result<(), DbError> {
    sqlx::query(sql)
        .bind(Uuid::now_v7())
        .bind(token.family_id)
        .bind(token.user_id)
        .bind(token.token_hash)
        .bind(token.expires_at)
        .bind(token.session_expires_at)
        .bind(token.access_jti)
        .bind(token.access_expires_at)
        .execute(executor)
        .await?;
    Ok(())
}

/// The token with that hash, locked for the rest of the transaction.
#[tracing::instrument(skip_all)]
pub async fn find_for_update(
    connection: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<RefreshTokenRow>, DbError> {
    sqlx::query_as::<_, RefreshTokenRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE"
    )))
    .bind(token_hash)
    .fetch_optional(connection)
    .await
    .map_err(DbError::from)
}

/// Marks a token spent; false when it already was (a concurrent rotation won).
#[tracing::instrument(skip_all, fields(token_id = %id))]
pub async fn mark_used(executor: impl PgExecutor<'_>, id: Uuid) -> Result<bool, DbError> {
    let result = sqlx::query(
        "UPDATE refresh_tokens SET used_at = now() \
         WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(id)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes every live token of a family (logout, or reuse of a spent token) and returns the
/// access tokens the family handed out that have not expired yet (all of them, so a retried
/// logout deny-lists them again).
#[tracing::instrument(skip_all, fields(family_id = %family_id))]
pub async fn revoke_family(
    executor: impl PgExecutor<'_>,
    family_id: Uuid,
) -> Result<Vec<IssuedAccess>, DbError> {
    sqlx::query_as::<_, IssuedAccess>(
        "WITH revoked AS ( \
             UPDATE refresh_tokens SET revoked_at = now() \
             WHERE family_id = $1 AND revoked_at IS NULL \
             RETURNING id \
         ) \
         SELECT access_jti, access_expires_at FROM refresh_tokens \
         WHERE family_id = $1 AND access_jti IS NOT NULL AND access_expires_at > now()",
    )
    .bind(family_id)
    .fetch_all(executor)
    .await
    .map_err(DbError::from)
}

/// Revokes every live token of a user (sign out everywhere) and returns the access tokens they
/// handed out that have not expired yet.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn revoke_user(
    executor: impl PgExecutor<'_>,
    user_id: UserId,
) -> Result<Vec<IssuedAccess>, DbError> {
    sqlx::query_as::<_, IssuedAccess>(
        "WITH revoked AS ( \
             UPDATE refresh_tokens SET revoked_at = now() \
             WHERE user_id = $1 AND revoked_at IS NULL \
             RETURNING id \
         ) \
         SELECT access_jti, access_expires_at FROM refresh_tokens \
         WHERE user_id = $1 AND access_jti IS NOT NULL AND access_expires_at > now()",
    )
    .bind(user_id)
    .fetch_all(executor)
    .await
    .map_err(DbError::from)
}

/// The family of the token with that hash, if any.
#[tracing::instrument(skip_all)]
pub async fn family_of(
    executor: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<Uuid>, DbError> {
    sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(executor)
        .await
        .map_err(DbError::from)
}
