//! Starting a session (a new refresh-token family) and issuing one access and refresh token pair
//! into a family, the step sign-up, sign-in, the demo sign-in and refresh share.

use anyhow::Context;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    db::{self, refresh_tokens, users::UserRow},
    error::ApiError,
    sessions::{Issued, Sessions, hash_token},
};

/// The end of every way in (sign-up, sign-in, the demo): `user` proved who they are; their id
/// goes on the caller's span (`user_id`) and a new session starts for them.
pub async fn signed_in(
    pool: &PgPool,
    sessions: &Sessions,
    user: UserRow,
) -> Result<(UserRow, Issued), ApiError> {
    tracing::Span::current().record("user_id", tracing::field::display(user.id));
    let issued = start_session(pool, sessions, &user).await?;
    Ok((user, issued))
}

/// Starts a new session for `user`, after deleting its expired tokens.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn start_session(
    pool: &PgPool,
    sessions: &Sessions,
    user: &UserRow,
) -> Result<Issued, ApiError> {
    refresh_tokens::delete_expired(pool, user.id).await?;
    let mut transaction = db::begin(pool).await?;
    let issued = issue(
        &mut transaction,
        sessions,
        user,
        (Uuid::now_v7(), sessions.session_expires_at()),
        Sessions::new_refresh_token(),
    )
    .await?;
    db::commit(transaction).await?;
    Ok(issued)
}

/// Signs an access token for `user` and stores `refresh_token` with it in the family
/// `(family_id, session_expires_at)`.
#[tracing::instrument(skip_all, fields(user_id = %user.id, %family_id))]
pub async fn issue(
    connection: &mut PgConnection,
    sessions: &Sessions,
    user: &UserRow,
    (family_id, session_expires_at): (Uuid, OffsetDateTime),
    refresh_token: String,
) -> Result<Issued, ApiError> {
    let (claims, access_token) = sessions.sign_new(user)?;
    let expires_at = sessions.refresh_expires_at(session_expires_at);
    let access_expires_at = OffsetDateTime::from_unix_timestamp(claims.exp)
        .context("access token expiry out of range")?;
    refresh_tokens::insert(
        &mut *connection,
        refresh_tokens::NewRefreshToken {
            user_id: user.id,
            family_id,
            token_hash: &hash_token(&refresh_token),
            expires_at,
            session_expires_at,
            access_jti: &claims.jti,
            access_expires_at,
        },
    )
    .await?;
    Ok(Issued {
        access_token,
        refresh_token,
        refresh_expires_at: expires_at,
        claims,
    })
}
