//! Signing out: revokes the presented refresh token's family and deny-lists the access tokens it
//! handed out, and the presented access token (if valid), until they expire. Idempotent.

use auth_kit::Claims;
use sqlx::PgPool;

use crate::{
    db::refresh_tokens,
    error::ApiError,
    sessions::{Sessions, denials, hash_token},
};

/// Ends the session of `refresh_token` and `access`, whichever are given.
#[tracing::instrument(skip_all, fields(user_id = access.map(|claims| tracing::field::display(claims.sub))))]
pub async fn sign_out(
    pool: &PgPool,
    sessions: &Sessions,
    access: Option<&Claims>,
    refresh_token: Option<&str>,
) -> Result<(), ApiError> {
    let mut issued = Vec::new();
    if let Some(token) = refresh_token
        && let Some(family_id) = refresh_tokens::family_of(pool, &hash_token(token)).await?
    {
        issued = refresh_tokens::revoke_family(pool, family_id).await?;
    }
    let mut denied: Vec<(&str, i64)> = denials(&issued);
    if let Some(claims) = access {
        denied.push((claims.jti.as_str(), claims.exp));
    }
    sessions.deny(&denied).await
}
