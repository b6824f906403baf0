//! The inventory side of every order, as the `products-service` group on `orders_stream`.
//!
//! Each event is handled in one transaction that records its id in the inbox, applies the effect
//! and enqueues the reply, so a redelivery changes nothing and a crash leaves nothing half done.
//! Stock is only ever taken by a conditional `UPDATE ... WHERE stock >= quantity` (never read
//! then written), so no unit is sold twice whatever the concurrency.

use std::collections::HashSet;

use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool, types::Json};
use stream_lib::{Envelope, Event, Handler, HandlerError, inbox};
use uuid::Uuid;

use super::{
    SERVICE_NAME,
    consumed::{OrderCancelled, OrderExpired, OrderPaid, OrderPlaced},
    publish::publish_reply,
    published::{
        OrderLine, ProductSnapshot, RejectionReason, StockRejected, StockReleased, StockReserved,
    },
};

/// How often a failed reservation whose failure cannot be explained afterwards (the stock came
/// back in between) is tried again before it is rejected as out of stock.
const RESERVE_ATTEMPTS: usize = 3;

/// Handles `order.placed`, `order.cancelled`, `order.expired` and `order.paid`.
#[derive(Clone)]
pub struct InventoryHandler {
    pool: PgPool,
}

impl InventoryHandler {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl Handler for InventoryHandler {
    fn handles(&self, event_type: &str) -> bool {
        [
            OrderPlaced::TYPE,
            OrderCancelled::TYPE,
            OrderExpired::TYPE,
            OrderPaid::TYPE,
        ]
        .contains(&event_type)
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            OrderPlaced::TYPE => self.place(event, decode(event)?).await,
            OrderCancelled::TYPE => {
                let OrderCancelled { order_id } = decode(event)?;
                self.release(event, order_id).await
            }
            OrderExpired::TYPE => {
                let OrderExpired { order_id } = decode(event)?;
                self.release(event, order_id).await
            }
            OrderPaid::TYPE => self.sell(event, decode(event)?).await,
            other => Err(HandlerError::permanent(anyhow::anyhow!(
                "unexpected event type {other}"
            ))),
        }
    }
}

/// The typed payload; one that does not decode is a permanent failure.
fn decode<E: Event>(event: &Envelope) -> Result<E, HandlerError> {
    event.decode().map_err(HandlerError::permanent)
}

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
/// with one conditional update per line, in one statement.
///
/// `locked` takes the row locks in product-id order before the update touches a row: an
/// `UPDATE ... FROM unnest(...)` locks rows in whatever order its plan scans `products`, so two
/// orders over the same products could otherwise lock them in opposite orders and deadlock.
const RESERVE_SQL: &str = "\
WITH locked AS (
    SELECT id FROM products WHERE id = ANY($4::uuid[]) ORDER BY id FOR UPDATE
), reservation AS (
    INSERT INTO reservations (order_id, status, lines) VALUES ($1, 'reserved', $3)
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id
), taken AS (
    UPDATE products AS p
    SET stock = p.stock - l.quantity, version = p.version + 1, updated_at = now()
    FROM unnest($4::uuid[], $5::int4[], $6::numeric[]) AS l(product_id, quantity, unit_price)
    WHERE p.id = l.product_id
      AND p.id IN (SELECT id FROM locked)
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
/// Rows are locked in product-id order first, as in [`RESERVE_SQL`].
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

impl InventoryHandler {
    async fn place(&self, event: &Envelope, placed: OrderPlaced) -> Result<(), HandlerError> {
        let lines = checked_lines(placed.lines.clone()).map_err(HandlerError::permanent)?;
        let correlation = event.correlation_id.as_str();

        for _ in 0..RESERVE_ATTEMPTS {
            let mut transaction = self.pool.begin().await?;
            if !inbox::record(&mut transaction, SERVICE_NAME, event.event_id).await? {
                return Ok(());
            }
            let rows: Vec<ReserveRow> = sqlx::query_as(RESERVE_SQL)
                .bind(placed.order_id)
                .bind(placed.user_id)
                .bind(Json(&lines))
                .bind(lines.iter().map(|l| l.product_id).collect::<Vec<_>>())
                .bind(lines.iter().map(|l| l.quantity).collect::<Vec<_>>())
                .bind(lines.iter().map(|l| l.unit_price).collect::<Vec<_>>())
                .fetch_all(&mut *transaction)
                .await?;
            if !rows.first().is_some_and(|row| row.fresh) {
                tracing::info!(
                    order_id = %placed.order_id,
                    "order.placed for an order already seen (reserved, rejected or released \
                     before it was placed): ignored"
                );
                transaction.commit().await?;
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
            if taken.len() == lines.len() {
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
                publish_reply(&mut transaction, correlation, &reserved, &changed).await?;
                transaction.commit().await?;
                tracing::info!(order_id = %placed.order_id, "stock reserved");
                return Ok(());
            }
            // Some line could not be taken: undo the others, then say why in a fresh transaction.
            transaction.rollback().await?;
            if self.reject(event, &placed, &lines).await? {
                return Ok(());
            }
        }
        // The failure never showed up afterwards: the stock moved back and forth meanwhile.
        self.record_rejection(event, &placed, &lines, RejectionReason::OutOfStock, None)
            .await
    }

    /// Works out why the reservation failed and records the rejection. `Ok(false)` when every
    /// line looks satisfiable now (the caller tries the reservation again).
    async fn reject(
        &self,
        event: &Envelope,
        placed: &OrderPlaced,
        lines: &[OrderLine],
    ) -> Result<bool, HandlerError> {
        let ids: Vec<Uuid> = lines.iter().map(|line| line.product_id).collect();
        let products: Vec<(Uuid, Uuid, Decimal, i32, bool)> = sqlx::query_as(
            "SELECT id, seller_id, price, stock, deleted_at IS NOT NULL \
             FROM products WHERE id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let failure = lines.iter().find_map(|line| {
            let reason = match products.iter().find(|p| p.0 == line.product_id) {
                None => Some(RejectionReason::ProductUnavailable),
                Some((_, _, _, _, true)) => Some(RejectionReason::ProductUnavailable),
                Some((_, seller, ..)) if *seller == placed.user_id => {
                    Some(RejectionReason::OwnProduct)
                }
                Some((_, _, price, ..)) if *price != line.unit_price => {
                    Some(RejectionReason::PriceChanged)
                }
                Some((.., stock, _)) if *stock < line.quantity => Some(RejectionReason::OutOfStock),
                Some(_) => None,
            };
            reason.map(|reason| (reason, line.product_id))
        });
        let Some((reason, product_id)) = failure else {
            return Ok(false);
        };
        self.record_rejection(event, placed, lines, reason, Some(product_id))
            .await?;
        Ok(true)
    }

    /// In one transaction: the inbox record, a `rejected` reservation (so a later release of
    /// this order changes nothing) and the `stock.rejected` reply.
    async fn record_rejection(
        &self,
        event: &Envelope,
        placed: &OrderPlaced,
        lines: &[OrderLine],
        reason: RejectionReason,
        product_id: Option<Uuid>,
    ) -> Result<(), HandlerError> {
        let mut transaction = self.pool.begin().await?;
        if !inbox::record(&mut transaction, SERVICE_NAME, event.event_id).await? {
            return Ok(());
        }
        let recorded = sqlx::query(
            "INSERT INTO reservations (order_id, status, lines) VALUES ($1, 'rejected', $2) \
             ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(placed.order_id)
        .bind(Json(lines))
        .execute(&mut *transaction)
        .await?;
        if recorded.rows_affected() == 1 {
            let rejected = StockRejected {
                order_id: placed.order_id,
                reason,
                product_id,
            };
            publish_reply(&mut transaction, &event.correlation_id, &rejected, &[]).await?;
            tracing::info!(order_id = %placed.order_id, ?reason, "stock rejected");
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn release(&self, event: &Envelope, order_id: Uuid) -> Result<(), HandlerError> {
        let mut transaction = self.pool.begin().await?;
        if !inbox::record(&mut transaction, SERVICE_NAME, event.event_id).await? {
            return Ok(());
        }
        let restored: Vec<StockRow> = sqlx::query_as(RELEASE_SQL)
            .bind(order_id)
            .fetch_all(&mut *transaction)
            .await?;
        if restored.is_empty() {
            tracing::info!(
                %order_id,
                event_type = %event.event_type,
                "nothing held for this order (never placed, rejected, released or sold)"
            );
        } else {
            publish_release(&mut transaction, &event.correlation_id, order_id, &restored).await?;
            tracing::info!(%order_id, "stock released");
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn sell(&self, event: &Envelope, order: OrderPaid) -> Result<(), HandlerError> {
        let mut transaction = self.pool.begin().await?;
        if !inbox::record(&mut transaction, SERVICE_NAME, event.event_id).await? {
            return Ok(());
        }
        let sold = sqlx::query(
            "UPDATE reservations SET status = 'sold', updated_at = now() \
             WHERE order_id = $1 AND status = 'reserved'",
        )
        .bind(order.order_id)
        .execute(&mut *transaction)
        .await?;
        if sold.rows_affected() == 0 {
            tracing::warn!(order_id = %order.order_id, "order.paid for an order holding no stock");
        }
        transaction.commit().await?;
        Ok(())
    }
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
