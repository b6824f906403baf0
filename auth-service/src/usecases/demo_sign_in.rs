//! Signing in as the demo user, without a password, when demo users are on (404 otherwise).

use sqlx::PgPool;

use crate::{
    db::users::{self, UserRow},
    error::ApiError,
    seed::DEMO_ACCOUNTS,
    sessions::{Issued, Sessions},
    state::DemoUsers,
    usecases::start_session::signed_in,
};

const NOT_FOUND: &str = "demo accounts are not enabled";

/// Starts a session for `demo`.
#[tracing::instrument(skip_all, fields(user_id = tracing::field::Empty))]
pub async fn demo_sign_in(
    pool: &PgPool,
    sessions: &Sessions,
    DemoUsers(enabled): DemoUsers,
) -> Result<(UserRow, Issued), ApiError> {
    if !enabled {
        return Err(ApiError::NotFound(NOT_FOUND));
    }
    let (_, email, _) = DEMO_ACCOUNTS[0];
    let user = users::find_by_email(pool, email)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    signed_in(pool, sessions, user).await
}
