//! The two statements of a placement (their SQL is in `sql/`): claiming the Idempotency-Key
//! while reading the catalog copy, then writing the order, its lines, its first history row and
//! the key's answer. With BEGIN, the `order.placed` outbox row and COMMIT, placing an order is
//! five round trips (`usecases::place_order`); each statement is prepared once per connection
//! (sqlx's persistent statements, its default) and only bound and executed after that.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::catalog::CatalogProduct;

/// What [`claim_and_read_catalog`] found.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The key is new and now held by this transaction (false without a key).
    pub claimed: bool,
    /// The transaction's timestamp (`now()`), which the order is stamped with.
    pub now: OffsetDateTime,
    /// The catalog copy's rows of the ordered products (present or tombstoned).
    pub products: Vec<CatalogProduct>,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    claimed: bool,
    now: OffsetDateTime,
    product_id: Option<Uuid>,
    seller_id: Option<Uuid>,
    name: Option<String>,
    price: Option<Decimal>,
    deleted: Option<bool>,
}

/// Claims `key` (with the request's fingerprint) for `user_id` and reads `product_ids` from the
/// catalog copy, in one round trip. A key held by a concurrent placement waits for it to end,
/// then is not claimed: read its answer with [`super::idempotency::find`].
pub async fn claim_and_read_catalog(
    connection: &mut PgConnection,
    user_id: Uuid,
    key: Option<(&str, &str)>,
    product_ids: &[Uuid],
) -> Result<Claimed, sqlx::Error> {
    let rows: Vec<ClaimedRow> = sqlx::query_as(include_str!("sql/claim_and_read_catalog.sql"))
        .bind(user_id)
        .bind(key.map(|(key, _)| key))
        .bind(key.map_or("", |(_, fingerprint)| fingerprint))
        .bind(product_ids)
        .fetch_all(connection)
        .await?;
    let first = rows.first().ok_or(sqlx::Error::RowNotFound)?;
    let (claimed, now) = (first.claimed, first.now);
    let products = rows
        .into_iter()
        .filter_map(|row| {
            Some(CatalogProduct {
                product_id: row.product_id?,
                seller_id: row.seller_id,
                name: row.name,
                price: row.price,
                deleted: row.deleted.unwrap_or(false),
            })
        })
        .collect();
    Ok(Claimed {
        claimed,
        now,
        products,
    })
}

/// A line of a new order, priced from the catalog copy.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub product_id: Uuid,
    pub name: String,
    pub unit_price: Decimal,
    pub quantity: i32,
}

/// A PENDING order as [`write_order`] writes it.
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub total: Decimal,
    pub correlation_id: &'a str,
    /// The transaction's timestamp ([`Claimed::now`]).
    pub created_at: OffsetDateTime,
    pub items: &'a [NewItem],
    /// How many orders PENDING or CONFIRMED the buyer may hold, this one included.
    pub max_open: u32,
}

/// The answer an Idempotency-Key keeps for a repeat of the request.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub key: &'a str,
    pub status: u16,
    pub body: &'a serde_json::Value,
}

/// Writes `order` PENDING with its lines and first history row, and stores `answer` with its
/// key, in one statement; `false` (and nothing written) when the buyer already holds
/// `max_open` orders PENDING or CONFIRMED. The `order.placed` outbox row is the caller's.
pub async fn write_order(
    connection: &mut PgConnection,
    order: &NewOrder<'_>,
    answer: Option<Answer<'_>>,
) -> Result<bool, sqlx::Error> {
    let items = order.items;
    let positions: Vec<i32> = (0..).take(items.len()).collect();
    let product_ids: Vec<Uuid> = items.iter().map(|item| item.product_id).collect();
    let names: Vec<&str> = items.iter().map(|item| item.name.as_str()).collect();
    let prices: Vec<Decimal> = items.iter().map(|item| item.unit_price).collect();
    let quantities: Vec<i32> = items.iter().map(|item| item.quantity).collect();
    sqlx::query_scalar(include_str!("sql/write_order.sql"))
        .bind(order.id)
        .bind(order.user_id)
        .bind(order.total)
        .bind(order.correlation_id)
        .bind(i64::from(order.max_open))
        .bind(order.created_at)
        .bind(&positions)
        .bind(&product_ids)
        .bind(&names)
        .bind(&prices)
        .bind(&quantities)
        .bind(answer.map(|answer| answer.key))
        .bind(answer.map(|answer| i16::try_from(answer.status).unwrap_or(500)))
        .bind(answer.map(|answer| answer.body))
        .fetch_one(connection)
        .await
}
