//! The copy of the catalog kept from `product.*` events. Each write applies only if its version
//! is newer than the stored one, so events arriving out of order or twice are harmless.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::events::{ProductDeleted, ProductSnapshot};

/// A product as an order sees it (read by `db::place::claim_and_read_catalog`).
#[derive(Debug, Clone)]
pub struct CatalogProduct {
    pub product_id: Uuid,
    pub seller_id: Option<Uuid>,
    pub name: Option<String>,
    pub price: Option<Decimal>,
    pub deleted: bool,
}

/// Applies `product.created` / `product.updated` if newer; `true` when it changed the row.
pub async fn upsert(
    connection: &mut PgConnection,
    product: &ProductSnapshot,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO catalog_products (product_id, seller_id, name, price, stock, version)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (product_id) DO UPDATE
             SET seller_id = EXCLUDED.seller_id, name = EXCLUDED.name, price = EXCLUDED.price,
                 stock = EXCLUDED.stock, version = EXCLUDED.version, deleted = FALSE,
                 updated_at = now()
             WHERE catalog_products.version < EXCLUDED.version",
    )
    .bind(product.product_id)
    .bind(product.seller_id)
    .bind(&product.name)
    .bind(product.price)
    .bind(i32::try_from(product.stock).unwrap_or(i32::MAX))
    .bind(product.version)
    .execute(connection)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Applies `product.deleted` unless a newer version is stored (a deletion at the same version
/// as the last update still applies). Unknown products get a tombstone, so an older
/// `product.created` arriving late does not bring them back.
pub async fn delete(
    connection: &mut PgConnection,
    product: &ProductDeleted,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO catalog_products (product_id, version, deleted) VALUES ($1, $2, TRUE)
         ON CONFLICT (product_id) DO UPDATE
             SET deleted = TRUE, version = EXCLUDED.version, updated_at = now()
             WHERE catalog_products.version <= EXCLUDED.version",
    )
    .bind(product.product_id)
    .bind(product.version)
    .execute(connection)
    .await?;
    Ok(result.rows_affected() == 1)
}
