//! The signed-in user's account; a token whose account is gone is no longer valid.

use sqlx::PgPool;

use crate::{
    db::users::{self, UserRow},
    domain::UserId,
    error::ApiError,
};

/// The account of `user_id` (401 when it no longer exists).
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn current_user(pool: &PgPool, user_id: UserId) -> Result<UserRow, ApiError> {
    users::find_by_id(pool, user_id)
        .await?
        .ok_or(ApiError::Auth(auth_kit::AuthError::Invalid))
}
