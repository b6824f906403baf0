//! Signing out everywhere: revokes every session of the user and deny-lists every access token
//! they handed out, and the presented one.

use auth_kit::Claims;
use sqlx::PgPool;

use crate::{
    db::refresh_tokens,
    domain::UserId,
    error::ApiError,
    sessions::{Sessions, denials},
};

/// Ends every session of `user_id`, whose presented access token is `access`.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn sign_out_everywhere(
    pool: &PgPool,
    sessions: &Sessions,
    user_id: UserId,
    access: &Claims,
) -> Result<(), ApiError> {
    let issued = refresh_tokens::revoke_user(pool, user_id).await?;
    let mut denied: Vec<(&str, i64)> = denials(&issued);
    denied.push((access.jti.as_str(), access.exp));
    tracing::info!(%user_id, sessions = issued.len(), "signed out everywhere");
    sessions.deny(&denied).await
}
