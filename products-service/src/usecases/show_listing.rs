//! Reading one listing: a live one by id.

use sqlx::PgPool;

use crate::{
    db::{ProductRow, products},
    domain::ProductId,
    error::ApiError,
};

/// The live listing `id`; 404 when it is unknown or deleted.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn show_listing(pool: &PgPool, id: ProductId) -> Result<ProductRow, ApiError> {
    products::find(pool, id).await?.ok_or(ApiError::NotFound)
}
