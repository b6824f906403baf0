//! Starting a session (a new refresh-token family) and issuing one access and refresh token pair
//! into a family, the step sign-up, sign-in, the demo sign-in and refresh share.

use anyhow::Context;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    db::{refresh_tokens, users::UserRow},
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

/// Starts a new session for `user` (a new family) and deletes its expired tokens, in one
/// statement.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn start_session(
    pool: &PgPool,
    sessions: &Sessions,
    user: &UserRow,
) -> Result<Issued, ApiError> {
    let family = (Uuid::now_v7(), sessions.session_expires_at());
    let pair = Pair::sign(sessions, user, family.1, Sessions::new_refresh_token())?;
    refresh_tokens::insert_first(pool, pair.row(user, family)).await?;
    Ok(pair.issued)
}

/// Signs an access token for `user` and stores `refresh_token` with it in the family
/// `(family_id, session_expires_at)`.
#[tracing::instrument(skip_all, fields(user_id = %user.id, family_id = %family.0))]
pub async fn issue(
    connection: &mut PgConnection,
    sessions: &Sessions,
    user: &UserRow,
    family: (Uuid, OffsetDateTime),
    refresh_token: String,
) -> Result<Issued, ApiError> {
    let pair = Pair::sign(sessions, user, family.1, refresh_token)?;
    refresh_tokens::insert(connection, pair.row(user, family)).await?;
    Ok(pair.issued)
}

/// A new access and refresh token pair, and what its row stores.
struct Pair {
    issued: Issued,
    token_hash: Vec<u8>,
    access_expires_at: OffsetDateTime,
}

impl Pair {
    fn sign(
        sessions: &Sessions,
        user: &UserRow,
        session_expires_at: OffsetDateTime,
        refresh_token: String,
    ) -> Result<Self, ApiError> {
        let (claims, access_token) = sessions.sign_new(user)?;
        let access_expires_at = OffsetDateTime::from_unix_timestamp(claims.exp)
            .context("access token expiry out of range")?;
        Ok(Self {
            token_hash: hash_token(&refresh_token),
            access_expires_at,
            issued: Issued {
                access_token,
                refresh_token,
                refresh_expires_at: sessions.refresh_expires_at(session_expires_at),
                claims,
            },
        })
    }

    /// The row of this pair's refresh token in the family `(family_id, session_expires_at)`.
    fn row(
        &self,
        user: &UserRow,
        (family_id, session_expires_at): (Uuid, OffsetDateTime),
    ) -> refresh_tokens::NewRefreshToken<'_> {
        refresh_tokens::NewRefreshToken {
            user_id: user.id,
            family_id,
            token_hash: &self.token_hash,
            expires_at: self.issued.refresh_expires_at,
            session_expires_at,
            access_jti: &self.issued.claims.jti,
            access_expires_at: self.access_expires_at,
        }
    }
}
