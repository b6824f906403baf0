//! The copy of the catalog kept from `product.*` events. Each write applies only if its version
//! is newer than the stored one, so events arriving out of order or twice are harmless.

use std::collections::HashMap;

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

/// Applies a run of `product.created` / `product.updated` snapshots in one statement: each
/// product's highest version, if newer than the stored one (the same outcome as applying them
/// one by one with the rule that a snapshot applies only if newer). Returns how many rows it changed.
pub async fn upsert_all<'a>(
    connection: &mut PgConnection,
    products: impl Iterator<Item = &'a ProductSnapshot>,
) -> Result<u64, sqlx::Error> {
    let mut newest: HashMap<Uuid, &ProductSnapshot> = HashMap::new();
    for product in products {
        newest
            .entry(product.product_id)
            .and_modify(|kept| {
                if product.version > kept.version {
                    *kept = product;
                }
            })
            .or_insert(product);
    }
    let products: Vec<&ProductSnapshot> = newest.into_values().collect();
    let result = sqlx::query(include_str!("sql/upsert_catalog.sql"))
        .bind(products.iter().map(|p| p.product_id).collect::<Vec<_>>())
        .bind(products.iter().map(|p| p.seller_id).collect::<Vec<_>>())
        .bind(products.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
        .bind(products.iter().map(|p| p.price).collect::<Vec<_>>())
        .bind(
            products
                .iter()
                .map(|p| i32::try_from(p.stock).unwrap_or(i32::MAX))
                .collect::<Vec<_>>(),
        )
        .bind(products.iter().map(|p| p.version).collect::<Vec<_>>())
        .execute(connection)
        .await?;
    Ok(result.rows_affected())
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
