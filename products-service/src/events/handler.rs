//! The inventory side of every order, as the `products-service` group on `orders_stream`.
//!
//! The consumer applies a batch of entries in one transaction (it records the inbox and
//! commits); each handler here applies its effect and enqueues the reply inside it, so a
//! redelivery changes nothing and a crash leaves nothing half done. Stock is only ever taken by
//! a conditional `UPDATE ... WHERE stock >= quantity` on rows this transaction has locked, so no
//! unit is sold twice whatever the concurrency.

use std::collections::HashSet;

use rust_decimal::Decimal;
use sqlx::{PgConnection, types::Json};
use stream_lib::{Envelope, Handle, HandlerError, Handlers, Tx};
use uuid::Uuid;

use super::{
    consumed::{OrderCancelled, OrderExpired, OrderPaid, OrderPlaced},
    publish::publish_reply,
    published::{
        OrderLine, ProductSnapshot, RejectionReason, StockRejected, StockReleased, StockReserved,
    },
};

/// Handles `order.placed`, `order.cancelled`, `order.expired` and `order.paid`.
#[derive(Debug, Clone, Copy, Default)]
pub struct InventoryHandler;

impl InventoryHandler {
    /// The consumer's registry: one typed handler per event type read.
    pub fn handlers() -> Handlers {
        Handlers::new()
            .on::<OrderPlaced, _>(Self)
            .on::<OrderCancelled, _>(Self)
            .on::<OrderExpired, _>(Self)
            .on::<OrderPaid, _>(Self)
    }
}

impl Handle<OrderPlaced> for InventoryHandler {
    async fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        placed: OrderPlaced,
        meta: &'a Envelope,
    ) -> Result<(), HandlerError> {
        place(tx, &placed, &meta.correlation_id).await
    }
}

impl Handle<OrderCancelled> for InventoryHandler {
    async fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        cancelled: OrderCancelled,
        meta: &'a Envelope,
    ) -> Result<(), HandlerError> {
        release(tx, cancelled.order_id, meta).await
    }
}

impl Handle<OrderExpired> for InventoryHandler {
    async fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        expired: OrderExpired,
        meta: &'a Envelope,
    ) -> Result<(), HandlerError> {
        release(tx, expired.order_id, meta).await
    }
}

impl Handle<OrderPaid> for InventoryHandler {
    async fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        paid: OrderPaid,
        _meta: &'a Envelope,
    ) -> Result<(), HandlerError> {
        sell(tx, paid.order_id).await
    }
}

/// A listing as the reservation sees it, locked for the rest of the transaction.
#[derive(sqlx::FromRow)]
struct LockedProduct {
    id: Uuid,
    seller_id: Uuid,
    price: Decimal,
    stock: i32,
    deleted: bool,
}

/// Locks the order's listings in product-id order (so two orders over the same products never
/// lock them in opposite orders) and reads their latest committed state: what this transaction
/// decides from it stays true until it commits.
const LOCK_SQL: &str = "\
SELECT id, seller_id, price, stock, deleted_at IS NOT NULL AS deleted
FROM products WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE";

/// A product row changed by a stock movement.
#[derive(sqlx::FromRow)]
struct StockRow {
    id: Uuid,
    seller_id: Uuid,
    name: String,
    price: Decimal,
    stock: i32,
    version: i64,
    deleted: bool,
}

impl StockRow {
    fn changed(&self) -> ProductSnapshot {
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

/// The reservation statement's result: whether this order was new here, and each line taken.
#[derive(sqlx::FromRow)]
struct ReserveRow {
    fresh: bool,
    id: Option<Uuid>,
    seller_id: Option<Uuid>,
    name: Option<String>,
    price: Option<Decimal>,
    stock: Option<i32>,
    version: Option<i64>,
}

/// Records the order (unless a reservation or a tombstone for it exists) and takes every line
/// with one conditional update per line, in one statement. The rows are already locked by
/// [`LOCK_SQL`] and every line checked against them, so either every line is taken or (the
/// order was seen before) none.
const RESERVE_SQL: &str = "\
WITH reservation AS (
    INSERT INTO reservations (order_id, status, lines) VALUES ($1, 'reserved', $3)
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id
), taken AS (
    UPDATE products AS p
    SET stock = p.stock - l.quantity, version = p.version + 1, updated_at = now()
    FROM unnest($4::uuid[], $5::int4[], $6::numeric[]) AS l(product_id, quantity, unit_price)
    WHERE p.id = l.product_id
      AND EXISTS (SELECT 1 FROM reservation)
      AND p.deleted_at IS NULL
      AND p.stock >= l.quantity
      AND p.price = l.unit_price
      AND p.seller_id <> $2
    RETURNING p.id, p.seller_id, p.name, p.price, p.stock, p.version
)
SELECT EXISTS (SELECT 1 FROM reservation) AS fresh,
       taken.id, taken.seller_id, taken.name, taken.price, taken.stock, taken.version
FROM (SELECT 1) AS one LEFT JOIN taken ON true";

/// Releases a held reservation exactly once (compare-and-set on its status) and puts its units
/// back; for an order never seen it leaves a tombstone so a late `order.placed` is ignored.
/// Rows are locked in product-id order first, as in [`LOCK_SQL`].
const RELEASE_SQL: &str = "\
WITH released AS (
    INSERT INTO reservations AS r (order_id, status, lines) VALUES ($1, 'released', '[]'::jsonb)
    ON CONFLICT (order_id) DO UPDATE SET status = 'released', updated_at = now()
    WHERE r.status = 'reserved'
    RETURNING r.lines
), locked AS (
    SELECT p.id
    FROM products AS p, released, jsonb_to_recordset(released.lines) AS l(product_id uuid)
    WHERE p.id = l.product_id
    ORDER BY p.id
    FOR UPDATE OF p
)
UPDATE products AS p
SET stock = p.stock + l.quantity, version = p.version + 1, updated_at = now()
FROM released, jsonb_to_recordset(released.lines) AS l(product_id uuid, quantity int4)
WHERE p.id = l.product_id
  AND p.id IN (SELECT id FROM locked)
RETURNING p.id, p.seller_id, p.name, p.price, p.stock, p.version,
          p.deleted_at IS NOT NULL AS deleted";

/// Why `line` cannot be taken from the locked listings, if it cannot.
fn refusal(line: &OrderLine, buyer: Uuid, products: &[LockedProduct]) -> Option<RejectionReason> {
    match products.iter().find(|p| p.id == line.product_id) {
        None => Some(RejectionReason::ProductUnavailable),
        Some(p) if p.deleted => Some(RejectionReason::ProductUnavailable),
        Some(p) if p.seller_id == buyer => Some(RejectionReason::OwnProduct),
        Some(p) if p.price != line.unit_price => Some(RejectionReason::PriceChanged),
        Some(p) if p.stock < line.quantity => Some(RejectionReason::OutOfStock),
        Some(_) => None,
    }
}

/// Reserves every line of `placed` or rejects the order, with the reply in the outbox.
async fn place(
    tx: &mut PgConnection,
    placed: &OrderPlaced,
    correlation: &str,
) -> Result<(), HandlerError> {
    let lines = checked_lines(placed.lines.clone()).map_err(HandlerError::permanent)?;
    let ids: Vec<Uuid> = lines.iter().map(|line| line.product_id).collect();
    let products: Vec<LockedProduct> = sqlx::query_as(LOCK_SQL)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
    let failure = lines.iter().find_map(|line| {
        refusal(line, placed.user_id, &products).map(|reason| (reason, line.product_id))
    });
    if let Some((reason, product_id)) = failure {
        return reject(tx, placed, &lines, reason, product_id, correlation).await;
    }

    let rows: Vec<ReserveRow> = sqlx::query_as(RESERVE_SQL)
        .bind(placed.order_id)
        .bind(placed.user_id)
        .bind(Json(&lines))
        .bind(&ids)
        .bind(lines.iter().map(|l| l.quantity).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.unit_price).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
    if !rows.first().is_some_and(|row| row.fresh) {
        tracing::info!(
            order_id = %placed.order_id,
            "order.placed for an order already seen (reserved, rejected or released \
             before it was placed): ignored"
        );
        return Ok(());
    }
    let taken: Vec<StockRow> = rows
        .into_iter()
        .filter_map(|row| {
            Some(StockRow {
                id: row.id?,
                seller_id: row.seller_id?,
                name: row.name?,
                price: row.price?,
                stock: row.stock?,
                version: row.version?,
                deleted: false,
            })
        })
        .collect();
    if taken.len() != lines.len() {
        // Cannot happen while the rows are locked; never commit a partial reservation.
        return Err(HandlerError::transient(anyhow::anyhow!(
            "order {}: {} of {} lines taken from locked rows",
            placed.order_id,
            taken.len(),
            lines.len()
        )));
    }
    let reserved = StockReserved {
        order_id: placed.order_id,
        lines: lines
            .iter()
            .map(|line| OrderLine {
                unit_price: taken
                    .iter()
                    .find(|row| row.id == line.product_id)
                    .map_or(line.unit_price, |row| row.price),
                ..line.clone()
            })
            .collect(),
    };
    let changed: Vec<ProductSnapshot> = taken.iter().map(StockRow::changed).collect();
    publish_reply(tx, correlation, &reserved, &changed).await?;
    tracing::info!(order_id = %placed.order_id, "stock reserved");
    Ok(())
}

/// A `rejected` reservation (so a later release of this order changes nothing) and the
/// `stock.rejected` reply; nothing when the order was seen before.
async fn reject(
    tx: &mut PgConnection,
    placed: &OrderPlaced,
    lines: &[OrderLine],
    reason: RejectionReason,
    product_id: Uuid,
    correlation: &str,
) -> Result<(), HandlerError> {
    let recorded = sqlx::query(
        "INSERT INTO reservations (order_id, status, lines) VALUES ($1, 'rejected', $2) \
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(placed.order_id)
    .bind(Json(lines))
    .execute(&mut *tx)
    .await?;
    if recorded.rows_affected() == 1 {
        let rejected = StockRejected {
            order_id: placed.order_id,
            reason,
            product_id: Some(product_id),
        };
        publish_reply(tx, correlation, &rejected, &[]).await?;
        tracing::info!(order_id = %placed.order_id, ?reason, "stock rejected");
    }
    Ok(())
}

/// `order.cancelled` and `order.expired`: gives back what the order holds.
async fn release(
    tx: &mut PgConnection,
    order_id: Uuid,
    meta: &Envelope,
) -> Result<(), HandlerError> {
    let restored: Vec<StockRow> = sqlx::query_as(RELEASE_SQL)
        .bind(order_id)
        .fetch_all(&mut *tx)
        .await?;
    if restored.is_empty() {
        tracing::info!(
            %order_id,
            event_type = %meta.event_type,
            "nothing held for this order (never placed, rejected, released or sold)"
        );
    } else {
        publish_release(tx, &meta.correlation_id, order_id, &restored).await?;
        tracing::info!(%order_id, "stock released");
    }
    Ok(())
}

/// `order.paid`: the held units are sold.
async fn sell(tx: &mut PgConnection, order_id: Uuid) -> Result<(), HandlerError> {
    let sold = sqlx::query(
        "UPDATE reservations SET status = 'sold', updated_at = now() \
         WHERE order_id = $1 AND status = 'reserved'",
    )
    .bind(order_id)
    .execute(&mut *tx)
    .await?;
    if sold.rows_affected() == 0 {
        tracing::warn!(%order_id, "order.paid for an order holding no stock");
    }
    Ok(())
}

async fn publish_release(
    transaction: &mut PgConnection,
    correlation: &str,
    order_id: Uuid,
    restored: &[StockRow],
) -> Result<(), sqlx::Error> {
    // A deleted listing gets its units back silently: an update would resurrect it downstream.
    let changed: Vec<ProductSnapshot> = restored
        .iter()
        .filter(|row| !row.deleted)
        .map(StockRow::changed)
        .collect();
    publish_reply(
        transaction,
        correlation,
        &StockReleased { order_id },
        &changed,
    )
    .await
}

/// Lines sorted by product id, each product once with a positive quantity; anything else is a
/// malformed `order.placed` that no retry can fix.
fn checked_lines(mut lines: Vec<OrderLine>) -> anyhow::Result<Vec<OrderLine>> {
    if lines.is_empty() {
        anyhow::bail!("order.placed without lines");
    }
    if let Some(line) = lines.iter().find(|line| line.quantity <= 0) {
        anyhow::bail!(
            "order.placed with quantity {} for {}",
            line.quantity,
            line.product_id
        );
    }
    let distinct: HashSet<Uuid> = lines.iter().map(|line| line.product_id).collect();
    if distinct.len() != lines.len() {
        anyhow::bail!("order.placed lists a product twice");
    }
    lines.sort_by_key(|line| line.product_id);
    Ok(lines)
}
