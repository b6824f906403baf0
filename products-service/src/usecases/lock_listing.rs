//! Before a listing changes: it is locked for the rest of the transaction, and only its seller
//! or an administrator, at the version they read (when they name one), may go on.

use sqlx::PgConnection;

use crate::{
    db::products,
    domain::{Actor, ProductId},
    error::ApiError,
};

/// Locks the live listing `id` for `actor`'s change: 404 unknown or deleted, 403 someone
/// else's, 412 no longer at `expected_version`.
#[tracing::instrument(skip_all, fields(product_id = %id, user_id = %actor.user_id))]
pub async fn lock_for_change(
    connection: &mut PgConnection,
    id: ProductId,
    actor: Actor,
    expected_version: Option<i64>,
) -> Result<(), ApiError> {
    let owner = products::lock(connection, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !actor.may_change(owner.seller_id) {
        return Err(ApiError::Forbidden);
    }
    if expected_version.is_some_and(|expected| expected != owner.version) {
        return Err(ApiError::VersionConflict {
            current: owner.version,
        });
    }
    Ok(())
}
