//! The stock movements of the orders consumer, set-based: each function takes a whole run of a
//! batch and runs one statement for it, inside the batch's transaction. Listings are always
//! locked in id order, so two transactions over the same listings never wait on each other in
//! a circle within one statement.

use std::collections::HashSet;

use rust_decimal::Decimal;
use sqlx::{PgConnection, types::Json};
use uuid::Uuid;

use crate::events::published::OrderLine;

/// A listing as a reservation sees it, locked for the rest of the transaction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedListing {
    pub id: Uuid,
    pub seller_id: Uuid,
    pub price: Decimal,
    pub stock: i32,
    pub deleted: bool,
}

/// Locks the listings `ids` in id order and reads their latest committed state: what the
/// transaction decides from it stays true until it commits.
pub async fn lock_listings(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<LockedListing>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, seller_id, price, stock, deleted_at IS NOT NULL AS deleted \
         FROM products WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
    )
    .bind(ids)
    .fetch_all(connection)
    .await
}

/// The orders among `order_ids` seen before (reserved, rejected, released, sold or tombstoned).
pub async fn seen_orders(
    connection: &mut PgConnection,
    order_ids: &[Uuid],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let seen: Vec<Uuid> =
        sqlx::query_scalar("SELECT order_id FROM reservations WHERE order_id = ANY($1::uuid[])")
            .bind(order_ids)
            .fetch_all(connection)
            .await?;
    Ok(seen.into_iter().collect())
}

/// What a run decided for one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Reserved,
    Rejected,
}

impl Outcome {
    fn status(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Rejected => "rejected",
        }
    }
}

/// What [`record_decisions`] wrote.
#[derive(Debug)]
pub struct Recorded {
    /// The orders recorded (the others were seen before, meanwhile).
    pub orders: HashSet<Uuid>,
    /// Listings the recorded reservations wanted units of, and those that had them.
    pub wanted: i64,
    pub taken: i64,
}

#[derive(sqlx::FromRow)]
struct RecordedRow {
    order_id: Option<Uuid>,
    wanted: i64,
    taken: i64,
}

/// Records every decision (unless its order was seen before) and takes the units of the
/// reserved ones, in one statement; the listings must be locked by [`lock_listings`].
pub async fn record_decisions(
    connection: &mut PgConnection,
    decisions: &[(Uuid, Outcome, &[OrderLine])],
) -> Result<Recorded, sqlx::Error> {
    let rows: Vec<RecordedRow> = sqlx::query_as(include_str!("sql/take_stock.sql"))
        .bind(decisions.iter().map(|d| d.0).collect::<Vec<Uuid>>())
        .bind(
            decisions
                .iter()
                .map(|d| d.1.status())
                .collect::<Vec<&str>>(),
        )
        .bind(decisions.iter().map(|d| Json(d.2)).collect::<Vec<_>>())
        .fetch_all(connection)
        .await?;
    Ok(Recorded {
        orders: rows.iter().filter_map(|row| row.order_id).collect(),
        wanted: rows.first().map_or(0, |row| row.wanted),
        taken: rows.first().map_or(0, |row| row.taken),
    })
}

/// Releases what the orders `order_ids` (each once) hold, leaving tombstones for orders never
/// seen; returns the orders whose units went back.
pub async fn release(
    connection: &mut PgConnection,
    order_ids: &[Uuid],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let released: Vec<Uuid> = sqlx::query_scalar(include_str!("sql/release_stock.sql"))
        .bind(order_ids)
        .fetch_all(connection)
        .await?;
    Ok(released.into_iter().collect())
}

/// Turns the held reservations among `order_ids` into sales; returns the orders sold.
pub async fn sell(
    connection: &mut PgConnection,
    order_ids: &[Uuid],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let sold: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE reservations SET status = 'sold', updated_at = now() \
         WHERE order_id = ANY($1::uuid[]) AND status = 'reserved' RETURNING order_id",
    )
    .bind(order_ids)
    .fetch_all(connection)
    .await?;
    Ok(sold.into_iter().collect())
}
