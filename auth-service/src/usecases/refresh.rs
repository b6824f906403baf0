//! Refreshing a session: spends the presented refresh token and issues its successor in the same
//! family, never past the session's absolute end. A spent or revoked token revokes the family
//! (someone replayed it: the thief or the victim), except a token spent less than
//! [`REUSE_GRACE`] ago, which gets the same successor again (two tabs refreshing at once).

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use crate::{
    db::{
        self,
        refresh_tokens::{self, RefreshTokenRow},
        users::{self, UserRow},
    },
    error::ApiError,
    sessions::{Issued, REUSE_GRACE, Sessions, denials, hash_token},
    usecases::start_session::issue,
};

/// Spends `refresh_token` and issues the next session of its family.
#[tracing::instrument(skip_all, fields(user_id = tracing::field::Empty, family_id = tracing::field::Empty))]
pub async fn refresh(
    pool: &PgPool,
    sessions: &Sessions,
    refresh_token: &str,
) -> Result<(UserRow, Issued), ApiError> {
    let mut transaction = db::begin(pool).await?;
    let Some(row) =
        refresh_tokens::find_for_update(&mut transaction, &hash_token(refresh_token)).await?
    else {
        return Err(ApiError::InvalidRefreshToken);
    };
    let span = tracing::Span::current();
    span.record("user_id", tracing::field::display(row.user_id));
    span.record("family_id", tracing::field::display(row.family_id));
    if let Some(replayed) =
        replay_successor(&mut transaction, sessions, &row, refresh_token).await?
    {
        db::commit(transaction).await?;
        tracing::info!(family_id = %row.family_id, "refresh token presented again within the grace period");
        return Ok(replayed);
    }
    if row.used_at.is_some() || row.revoked_at.is_some() {
        let issued = refresh_tokens::revoke_family(&mut *transaction, row.family_id).await?;
        db::commit(transaction).await?;
        tracing::warn!(
            family_id = %row.family_id,
            user_id = %row.user_id,
            "refresh token reused; family revoked"
        );
        // The family is revoked either way; without Redis its access tokens live out their TTL.
        let denied: Vec<_> = denials(&issued);
        if let Err(error) = sessions.deny(&denied).await {
            tracing::error!(error = %error, "cannot deny-list the reused family's access tokens");
        }
        return Err(ApiError::RefreshTokenReused);
    }
    let now = OffsetDateTime::now_utc();
    if row.expires_at <= now || row.session_expires_at <= now {
        return Err(ApiError::InvalidRefreshToken);
    }
    if !refresh_tokens::mark_used(&mut *transaction, row.id).await? {
        return Err(ApiError::RefreshTokenReused);
    }
    let Some(user) = users::find_by_id(&mut *transaction, row.user_id).await? else {
        return Err(ApiError::InvalidRefreshToken);
    };
    let issued = issue(
        &mut transaction,
        sessions,
        &user,
        (row.family_id, row.session_expires_at),
        sessions.successor_of(refresh_token),
    )
    .await?;
    db::commit(transaction).await?;
    Ok((user, issued))
}

/// A spent token presented again within [`REUSE_GRACE`] of its rotation: the same successor
/// (and its access token, signed again with the same id), when that successor is still unspent
/// and live.
#[tracing::instrument(skip_all, fields(user_id = %spent.user_id, family_id = %spent.family_id))]
async fn replay_successor(
    connection: &mut PgConnection,
    sessions: &Sessions,
    spent: &RefreshTokenRow,
    refresh_token: &str,
) -> Result<Option<(UserRow, Issued)>, ApiError> {
    let now = OffsetDateTime::now_utc();
    let Some(used_at) = spent.used_at else {
        return Ok(None);
    };
    if now - used_at > REUSE_GRACE || spent.revoked_at.is_some() {
        return Ok(None);
    }
    let successor = sessions.successor_of(refresh_token);
    let Some(next) =
        refresh_tokens::find_for_update(&mut *connection, &hash_token(&successor)).await?
    else {
        return Ok(None);
    };
    let (Some(jti), Some(access_expires_at)) = (next.access_jti, next.access_expires_at) else {
        return Ok(None);
    };
    if next.family_id != spent.family_id
        || next.used_at.is_some()
        || next.revoked_at.is_some()
        || next.expires_at <= now
    {
        return Ok(None);
    }
    let Some(user) = users::find_by_id(&mut *connection, next.user_id).await? else {
        return Ok(None);
    };
    let (claims, access_token) = sessions.sign_again(&user, jti, access_expires_at)?;
    Ok(Some((
        user,
        Issued {
            access_token,
            refresh_token: successor,
            refresh_expires_at: next.expires_at,
            claims,
        },
    )))
}
