//! Placing an order: prices from the catalog copy (never the client's), not your own listing,
//! the buyer's placement rate and open-orders cap, the Idempotency-Key (the same key and body
//! get the first answer), and the one transaction that writes it all with `order.placed`.
//!
//! The transaction is five round trips: BEGIN; claim the key while reading the catalog copy
//! (`db/sql/claim_and_read_catalog.sql`); write the order, its lines, its first history row and
//! the key's answer (`db/sql/write_order.sql`); the outbox row; COMMIT. The answer is built from
//! what is written (nothing is read back), and the pool hands out connections without a ping.
//!
//! [`place`] runs on a task of its own ([`spawn`]), so a client that hangs up mid-request
//! cannot cut it between two statements: it commits or rolls back as if the client had waited.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    db::{
        catalog::CatalogProduct,
        idempotency,
        orders::{ItemRow, OrderRow},
        place::{self, Answer, NewItem, NewOrder},
    },
    domain::{NewOrderLines, OrderStatus},
    error::ApiError,
    events::{self, OrderLine, OrderPlaced},
    placements::Placements,
};

/// The status a placement answers with.
pub const CREATED: u16 = 201;

/// An order to place, parsed at the edge.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub buyer: Uuid,
    pub lines: NewOrderLines,
    /// The Idempotency-Key and the fingerprint of the request's body.
    pub idempotency: Option<(String, String)>,
    pub correlation_id: String,
}

/// How a placement ended.
#[derive(Debug, Clone)]
pub enum Placed {
    /// A new PENDING order; the body as [`Render`] made it.
    New(serde_json::Value),
    /// A repeat of an earlier request with the same key and body: its answer, as first sent.
    Replayed {
        status: u16,
        body: serde_json::Value,
    },
}

/// Builds the answer's body from the order as written (the route's view of it).
pub type Render = fn(OrderRow, Vec<ItemRow>) -> Result<serde_json::Value, ApiError>;

/// Runs [`place`] on its own task and waits for it: dropping the returned future (the client
/// hung up, the request timed out) leaves the placement to finish on its own.
pub async fn spawn(
    pool: PgPool,
    placements: Placements,
    order: PlaceOrder,
    render: Render,
) -> Result<Placed, ApiError> {
    // In the request's span: its logs carry the request id, its events the request's trace.
    let placing = async move { place(&pool, &placements, order, render).await };
    tokio::spawn(tracing::Instrument::in_current_span(placing))
        .await
        .map_err(|error| ApiError::Other(anyhow::anyhow!("placing an order failed: {error}")))?
}

/// Places `order` (see the module's documentation for its rules and round trips).
#[tracing::instrument(skip_all, fields(buyer = %order.buyer))]
pub async fn place(
    pool: &PgPool,
    placements: &Placements,
    order: PlaceOrder,
    render: Render,
) -> Result<Placed, ApiError> {
    placements.take(order.buyer).await?;
    let key = order
        .idempotency
        .as_ref()
        .map(|(key, fingerprint)| (key.as_str(), fingerprint.as_str()));

    let mut tx = web_kit::db::begin(pool).await?;
    let claimed =
        place::claim_and_read_catalog(&mut tx, order.buyer, key, &order.lines.product_ids())
            .await?;
    if let Some((key, fingerprint)) = key
        && !claimed.claimed
    {
        let seen = idempotency::find(&mut tx, order.buyer, key).await?;
        tx.rollback().await?;
        return replay(seen, fingerprint);
    }
    let items = match price_lines(order.buyer, &order.lines, &claimed.products) {
        Ok(items) => items,
        Err(error) => {
            tx.rollback().await?;
            return Err(error);
        }
    };

    let id = Uuid::now_v7();
    let total: Decimal = items
        .iter()
        .map(|item| item.unit_price * Decimal::from(item.quantity))
        .sum();
    let max_open = placements.max_open_orders();
    let new = NewOrder {
        id,
        user_id: order.buyer,
        total,
        correlation_id: &order.correlation_id,
        created_at: claimed.now,
        items: &items,
        max_open,
    };
    let body = render(as_written(&new), rows_of(&new))?;
    let answer = key.map(|(key, _)| Answer {
        key,
        status: CREATED,
        body: &body,
    });
    if !place::write_order(&mut tx, &new, answer).await? {
        tx.rollback().await?;
        return Err(ApiError::TooManyOpenOrders(max_open));
    }
    let placed = OrderPlaced {
        order_id: id,
        user_id: order.buyer,
        lines: items
            .iter()
            .map(|item| OrderLine {
                product_id: item.product_id,
                quantity: item.quantity,
                unit_price: item.unit_price,
            })
            .collect(),
    };
    events::OUTBOX
        .enqueue(&mut tx, &order.correlation_id, &placed)
        .await?;
    tx.commit().await?;
    metrics::counter!("orders_placed_total").increment(1);
    tracing::info!(order_id = %id, lines = items.len(), "order placed");
    Ok(Placed::New(body))
}

/// The answer to a key already used: its first answer for the same body, 422 for another body,
/// 409 while the first request is still running.
fn replay(seen: Option<idempotency::Seen>, fingerprint: &str) -> Result<Placed, ApiError> {
    let Some(seen) = seen else {
        // Claimed and released (a rollback) between the claim and this read: ask again.
        return Err(ApiError::Conflict(
            "a request with this Idempotency-Key is still in progress".into(),
        ));
    };
    if seen.request_hash != fingerprint {
        return Err(ApiError::unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was already used for a different order",
        ));
    }
    let Some((status, body)) = seen.response else {
        return Err(ApiError::Conflict(
            "a request with this Idempotency-Key is still in progress".into(),
        ));
    };
    Ok(Placed::Replayed { status, body })
}

/// Names and prices every line from the catalog copy; unknown, deleted or own products -> 422.
fn price_lines(
    buyer: Uuid,
    lines: &NewOrderLines,
    catalog: &[CatalogProduct],
) -> Result<Vec<NewItem>, ApiError> {
    let products: HashMap<Uuid, &CatalogProduct> = catalog
        .iter()
        .map(|product| (product.product_id, product))
        .collect();
    let mut items = Vec::new();
    let mut unavailable = BTreeMap::new();
    let mut own = BTreeMap::new();
    for (index, (product_id, quantity)) in lines.lines().iter().enumerate() {
        let field = format!("items[{index}].product_id");
        match products.get(product_id) {
            Some(CatalogProduct {
                deleted: false,
                name: Some(name),
                price: Some(price),
                seller_id,
                ..
            }) => {
                if *seller_id == Some(buyer) {
                    own.insert(field, vec!["is your own listing".to_owned()]);
                }
                items.push(NewItem {
                    product_id: *product_id,
                    name: name.clone(),
                    unit_price: *price,
                    quantity: quantity.get(),
                });
            }
            _ => {
                unavailable.insert(field, vec!["is not for sale".to_owned()]);
            }
        }
    }
    if !unavailable.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "product_unavailable",
            message: "some products do not exist or are no longer for sale".into(),
            fields: Some(unavailable),
        });
    }
    if !own.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "own_product",
            message: "you cannot buy your own listing".into(),
            fields: Some(own),
        });
    }
    Ok(items)
}

/// The `orders` row `write_order` writes for `order`.
fn as_written(order: &NewOrder<'_>) -> OrderRow {
    OrderRow {
        id: order.id,
        user_id: order.user_id,
        status: OrderStatus::Pending.as_str().to_owned(),
        total: order.total,
        reason: None,
        expires_at: None,
        version: 1,
        correlation_id: order.correlation_id.to_owned(),
        created_at: order.created_at,
        updated_at: order.created_at,
    }
}

/// The `order_items` rows `write_order` writes for `order`, in position order.
fn rows_of(order: &NewOrder<'_>) -> Vec<ItemRow> {
    order
        .items
        .iter()
        .map(|item| ItemRow {
            order_id: order.id,
            product_id: item.product_id,
            name: item.name.clone(),
            unit_price: item.unit_price,
            quantity: item.quantity,
        })
        .collect()
}
