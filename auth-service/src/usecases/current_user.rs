//! The signed-in user's account; a token whose account is gone is no longer valid.

use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    db::users::{self, UserRow},
    error::ApiError,
};

/// The account of `user_id` (401 when it no longer exists).
pub async fn current_user(pool: &PgPool, user_id: Uuid) -> Result<UserRow, ApiError> {
    users::find_by_id(pool, user_id)
        .await?
        .ok_or(ApiError::Auth(auth_kit::AuthError::Invalid))
}
