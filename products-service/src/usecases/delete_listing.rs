//! Deleting a listing (its seller or an administrator, optionally only at the version read):
//! a soft delete and its `product.deleted` event in one transaction. Open reservations are
//! honoured: the row stays for the order events still to come.

use sqlx::PgPool;

use super::lock_listing::lock_for_change;
use crate::{
    db::products,
    domain::{Actor, ProductId},
    error::ApiError,
    events::publish::{ListingEvent, publish_listing},
};

/// Deletes the listing `id`.
#[tracing::instrument(skip_all, fields(product_id = %id, user_id = %actor.user_id))]
pub async fn delete_listing(
    pool: &PgPool,
    actor: Actor,
    id: ProductId,
    expected_version: Option<i64>,
    correlation_id: &str,
) -> Result<(), ApiError> {
    let mut transaction = web_kit::db::begin(pool).await?;
    lock_for_change(&mut transaction, id, actor, expected_version).await?;
    let version = products::soft_delete(&mut *transaction, id).await?;
    let deleted = ListingEvent::Deleted { id, version };
    publish_listing(&mut transaction, correlation_id, deleted).await?;
    transaction.commit().await?;
    Ok(())
}
