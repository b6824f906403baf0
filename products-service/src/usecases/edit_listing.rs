//! Changing a listing (its seller or an administrator, optionally only at the version read):
//! the change and its `product.updated` event in one transaction; on any refusal nothing
//! changes.

use sqlx::PgPool;

use super::lock_listing::lock_for_change;
use crate::{
    db::{ProductRow, products},
    domain::{Actor, ProductChanges, ProductId},
    error::ApiError,
    events::publish::{ListingEvent, publish_listing},
};

/// Applies `changes` to the listing `id`; a change of nothing is a 400.
#[tracing::instrument(skip_all, fields(product_id = %id, user_id = %actor.user_id))]
pub async fn edit_listing(
    pool: &PgPool,
    actor: Actor,
    id: ProductId,
    expected_version: Option<i64>,
    changes: &ProductChanges,
    correlation_id: &str,
) -> Result<ProductRow, ApiError> {
    if changes.is_empty() {
        return Err(ApiError::BadRequest {
            code: "nothing_to_update",
            message: "send at least one of name, description, category, price, stock, image_url"
                .into(),
        });
    }
    let mut transaction = web_kit::db::begin(pool).await?;
    lock_for_change(&mut transaction, id, actor, expected_version).await?;
    let row = products::update(&mut *transaction, id, changes).await?;
    publish_listing(
        &mut transaction,
        correlation_id,
        ListingEvent::Updated(&row),
    )
    .await?;
    transaction.commit().await?;
    Ok(row)
}
