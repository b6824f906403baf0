//! Listings: one by id, the category counts, and the writes, each write in one transaction with
//! its `product.*` event in the outbox. The catalog pages are in [`super::catalog`].

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    domain::{Category, Description, ImageUrl, Price, ProductName, Stock},
    error::ApiError,
    events::{
        OUTBOX,
        published::{ProductCreated, ProductDeleted, ProductSnapshot, ProductUpdated},
    },
};

/// A listing as stored (live ones only ever leave this module).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub id: Uuid,
    pub seller_id: Uuid,
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

impl ProductRow {
    /// The `product.created` / `product.updated` payload of this row.
    pub fn changed(&self) -> ProductSnapshot {
        ProductSnapshot {
            product_id: self.id,
            seller_id: self.seller_id,
            name: self.name.clone(),
            price: self.price,
            stock: self.stock,
            version: self.version,
        }
    }
}

/// A listing to create; every field already valid.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub seller_name: String,
    pub name: ProductName,
    pub description: Description,
    pub category: Category,
    pub price: Price,
    pub stock: Stock,
    pub image_url: Option<ImageUrl>,
}

/// A partial update; `None` leaves a field as it is (`image_url: Some(None)` removes the image).
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub category: Option<Category>,
    pub price: Option<Price>,
    pub stock: Option<Stock>,
    pub image_url: Option<Option<ImageUrl>>,
}

impl ProductChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.category.is_none()
            && self.price.is_none()
            && self.stock.is_none()
            && self.image_url.is_none()
    }
}

/// Who is changing a listing.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: Uuid,
    pub is_admin: bool,
}

/// Inserts a listing (`ON CONFLICT DO NOTHING` on its id) and enqueues `product.created`.
/// Returns `None` when the id already existed (the seed's idempotence relies on it).
pub async fn insert(
    connection: &mut PgConnection,
    product: &NewProduct,
    correlation_id: &str,
) -> Result<Option<ProductRow>, sqlx::Error> {
    let row: Option<ProductRow> = sqlx::query_as(concat!(
        "INSERT INTO products (id, seller_id, seller_name, name, description, category, price, \
         stock, image_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO NOTHING RETURNING ",
        columns!()
    ))
    .bind(product.id)
    .bind(product.seller_id)
    .bind(&product.seller_name)
    .bind(product.name.as_str())
    .bind(product.description.as_str())
    .bind(product.category.as_str())
    .bind(product.price.value())
    .bind(product.stock.value())
    .bind(product.image_url.as_ref().map(ImageUrl::as_str))
    .fetch_optional(&mut *connection)
    .await?;
    if let Some(row) = &row {
        OUTBOX
            .enqueue(connection, correlation_id, &ProductCreated(row.changed()))
            .await?;
    }
    Ok(row)
}

/// Creates a listing and its `product.created` event in one transaction.
pub async fn create(
    pool: &PgPool,
    product: &NewProduct,
    correlation_id: &str,
) -> Result<ProductRow, ApiError> {
    let mut transaction = web_kit::db::begin(pool).await?;
    let row = insert(&mut transaction, product, correlation_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a fresh UUIDv7 collided with an existing product"))?;
    transaction.commit().await?;
    Ok(row)
}

/// A live listing by id.
pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<ProductRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM products WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Locks a live listing and checks that `actor` may change it at `expected_version`:
/// 404 unknown or deleted, 403 someone else's, 412 stale.
async fn lock_for_change(
    connection: &mut PgConnection,
    id: Uuid,
    actor: Actor,
    expected_version: Option<i64>,
) -> Result<(), ApiError> {
    let current: Option<(Uuid, i64)> = sqlx::query_as(
        "SELECT seller_id, version FROM products WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *connection)
    .await?;
    let (seller_id, version) = current.ok_or(ApiError::NotFound)?;
    if seller_id != actor.user_id && !actor.is_admin {
        return Err(ApiError::Forbidden);
    }
    if expected_version.is_some_and(|expected| expected != version) {
        return Err(ApiError::VersionConflict { current: version });
    }
    Ok(())
}

/// Applies `changes` (owner or admin, optionally only at `expected_version`) and enqueues
/// `product.updated`, in one transaction. On any refusal nothing changes.
pub async fn update(
    pool: &PgPool,
    id: Uuid,
    actor: Actor,
    expected_version: Option<i64>,
    changes: &ProductChanges,
    correlation_id: &str,
) -> Result<ProductRow, ApiError> {
    let mut transaction = web_kit::db::begin(pool).await?;
    lock_for_change(&mut transaction, id, actor, expected_version).await?;
    let row: ProductRow = sqlx::query_as(concat!(
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
    .fetch_one(&mut *transaction)
    .await?;
    OUTBOX
        .enqueue(
            &mut transaction,
            correlation_id,
            &ProductUpdated(row.changed()),
        )
        .await?;
    transaction.commit().await?;
    Ok(row)
}

/// Soft-deletes a listing (owner or admin) and enqueues `product.deleted`, in one transaction.
/// The row stays, so late order events still find it; the catalog no longer shows it.
pub async fn delete(
    pool: &PgPool,
    id: Uuid,
    actor: Actor,
    expected_version: Option<i64>,
    correlation_id: &str,
) -> Result<(), ApiError> {
    let mut transaction = web_kit::db::begin(pool).await?;
    lock_for_change(&mut transaction, id, actor, expected_version).await?;
    let version: i64 = sqlx::query_scalar(
        "UPDATE products SET deleted_at = now(), updated_at = now(), version = version + 1 \
         WHERE id = $1 RETURNING version",
    )
    .bind(id)
    .fetch_one(&mut *transaction)
    .await?;
    OUTBOX
        .enqueue(
            &mut transaction,
            correlation_id,
            &ProductDeleted {
                product_id: id,
                version,
            },
        )
        .await?;
    transaction.commit().await?;
    Ok(())
}

/// One category and how many live listings it has.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct CategoryCount {
    pub name: String,
    pub count: i64,
}

/// Categories of live listings, largest first: exact, from the counts the triggers of migration
/// V4 keep in step with every change.
pub async fn categories(pool: &PgPool) -> Result<Vec<CategoryCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT category AS name, listings AS count FROM category_counts WHERE listings > 0 \
         ORDER BY listings DESC, category",
    )
    .fetch_all(pool)
    .await
}
