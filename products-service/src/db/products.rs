//! Listings: one by id, the lock a change takes, the writes, the category counts. Each runs on
//! the executor it is given (a use case's transaction or the pool) and returns sqlx's error;
//! who may write, the transaction and the event each write publishes are the use cases'.
//! The catalog pages are in [`super::catalog`].

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

use crate::domain::{
    Category, Description, ImageUrl, NewListing, Price, ProductChanges, ProductId, ProductName,
    Stock, UserId,
};

/// A listing as stored (live ones only ever leave this module).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub id: ProductId,
    pub seller_id: UserId,
    pub seller_name: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Decimal,
    pub stock: i32,
    pub image_url: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A listing to insert: its id, its seller and its fields.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub id: ProductId,
    pub seller_id: UserId,
    pub seller_name: String,
    pub listing: NewListing,
}

/// Who sells a live listing, and its version.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Owner {
    pub seller_id: UserId,
    pub version: i64,
}

/// Inserts a listing (`ON CONFLICT DO NOTHING` on its id). `None` when the id already existed
/// (the seed's idempotence relies on it).
#[tracing::instrument(skip_all, fields(product_id = %product.id, seller_id = %product.seller_id))]
pub async fn insert(
    executor: impl PgExecutor<'_>,
    product: &NewProduct,
) -> Result<Option<ProductRow>, sqlx::Error> {
    let listing = &product.listing;
    sqlx::query_as(concat!(
        "INSERT INTO products (id, seller_id, seller_name, name, description, category, price, \
         stock, image_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO NOTHING RETURNING ",
        columns!()
    ))
    .bind(product.id)
    .bind(product.seller_id)
    .bind(&product.seller_name)
    .bind(listing.name.as_str())
    .bind(listing.description.as_str())
    .bind(listing.category.as_str())
    .bind(listing.price.value())
    .bind(listing.stock.value())
    .bind(listing.image_url.as_ref().map(ImageUrl::as_str))
    .fetch_optional(executor)
    .await
}

/// A live listing by id.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn find(
    executor: impl PgExecutor<'_>,
    id: ProductId,
) -> Result<Option<ProductRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM products WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// Locks a live listing for a change (`FOR UPDATE`, until the caller's transaction ends) and
/// says who sells it at which version; `None` when it is unknown or deleted.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn lock(
    connection: &mut PgConnection,
    id: ProductId,
) -> Result<Option<Owner>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seller_id, version FROM products WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(connection)
    .await
}

/// Applies `changes` to a listing and bumps its version.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn update(
    executor: impl PgExecutor<'_>,
    id: ProductId,
    changes: &ProductChanges,
) -> Result<ProductRow, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE products SET name = COALESCE($2, name), description = COALESCE($3, description), \
         category = COALESCE($4, category), price = COALESCE($5, price), \
         stock = COALESCE($6, stock), \
         image_url = CASE WHEN $7 THEN $8 ELSE image_url END, \
         version = version + 1, updated_at = now() \
         WHERE id = $1 RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(changes.name.as_ref().map(ProductName::as_str))
    .bind(changes.description.as_ref().map(Description::as_str))
    .bind(changes.category.as_ref().map(Category::as_str))
    .bind(changes.price.map(Price::value))
    .bind(changes.stock.map(Stock::value))
    .bind(changes.image_url.is_some())
    .bind(
        changes
            .image_url
            .as_ref()
            .and_then(|url| url.as_ref().map(ImageUrl::as_str)),
    )
    .fetch_one(executor)
    .await
}

/// Soft-deletes a listing and returns its new version. The row stays, so late order events
/// still find it; the catalog no longer shows it.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn soft_delete(executor: impl PgExecutor<'_>, id: ProductId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE products SET deleted_at = now(), updated_at = now(), version = version + 1 \
         WHERE id = $1 RETURNING version",
    )
    .bind(id)
    .fetch_one(executor)
    .await
}

/// One category and how many live listings it has.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct CategoryCount {
    pub name: String,
    pub count: i64,
}

/// Categories of live listings, largest first: exact, from the counts the triggers of migration
/// V4 keep in step with every change.
#[tracing::instrument(skip_all)]
pub async fn categories(executor: impl PgExecutor<'_>) -> Result<Vec<CategoryCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT category AS name, listings AS count FROM category_counts WHERE listings > 0 \
         ORDER BY listings DESC, category",
    )
    .fetch_all(executor)
    .await
}
