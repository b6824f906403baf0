//! Listing a product for sale: the caller becomes its seller; the listing and its
//! `product.created` event are written in one transaction.

use sqlx::{PgConnection, PgPool};

use crate::{
    db::{NewProduct, ProductRow, products},
    domain::{NewListing, ProductId, UserId},
    error::ApiError,
    events::publish::{ListingEvent, publish_listing},
};

/// Who lists the product: the signed-in caller.
#[derive(Debug, Clone)]
pub struct Seller {
    pub id: UserId,
    /// Shown beside the listing.
    pub name: String,
}

/// Creates a listing of `seller`'s with a fresh id.
#[tracing::instrument(skip_all, fields(seller_id = %seller.id, product_id = tracing::field::Empty))]
pub async fn create_listing(
    pool: &PgPool,
    seller: Seller,
    listing: NewListing,
    correlation_id: &str,
) -> Result<ProductRow, ApiError> {
    let product = NewProduct {
        id: ProductId::generate(),
        seller_id: seller.id,
        seller_name: seller.name,
        listing,
    };
    tracing::Span::current().record("product_id", tracing::field::display(product.id));
    let mut transaction = web_kit::db::begin(pool).await?;
    let row = insert_listing(&mut transaction, &product, correlation_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a fresh UUIDv7 collided with an existing product"))?;
    transaction.commit().await?;
    Ok(row)
}

/// Inserts `product` and enqueues its `product.created`, in the caller's transaction; `None`
/// (and no event) when a listing with its id exists already, which keeps the seed idempotent.
#[tracing::instrument(skip_all, fields(product_id = %product.id))]
pub async fn insert_listing(
    connection: &mut PgConnection,
    product: &NewProduct,
    correlation_id: &str,
) -> Result<Option<ProductRow>, sqlx::Error> {
    let row = products::insert(&mut *connection, product).await?;
    if let Some(row) = &row {
        publish_listing(connection, correlation_id, ListingEvent::Created(row)).await?;
    }
    Ok(row)
}
