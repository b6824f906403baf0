//! How the use cases write this service's events into the outbox, inside the transaction of
//! the change that causes them: a listing's `product.*` event, and the consumer's replies (every
//! reply of a run in one statement, each with the correlation id of the order it answers). Stock
//! movements publish no `product.updated`: orders-service's catalog copy never reads the stock,
//! and the storefront reads it from this service's API.

use sqlx::PgConnection;

use super::{
    OUTBOX,
    published::{
        ProductCreated, ProductDeleted, ProductSnapshot, ProductUpdated, StockRejected,
        StockReleased, StockReserved,
    },
};
use crate::{db::ProductRow, domain::ProductId};

/// What just happened to a listing, as its `product.*` event tells it.
#[derive(Debug, Clone, Copy)]
pub enum ListingEvent<'a> {
    Created(&'a ProductRow),
    Updated(&'a ProductRow),
    /// Deleted, at this new version.
    Deleted {
        id: ProductId,
        version: i64,
    },
}

/// Enqueues the `product.*` event of `event`.
pub async fn publish_listing(
    connection: &mut PgConnection,
    correlation_id: &str,
    event: ListingEvent<'_>,
) -> Result<(), sqlx::Error> {
    match event {
        ListingEvent::Created(row) => {
            let created = ProductCreated(snapshot(row));
            OUTBOX.enqueue(connection, correlation_id, &created).await?
        }
        ListingEvent::Updated(row) => {
            let updated = ProductUpdated(snapshot(row));
            OUTBOX.enqueue(connection, correlation_id, &updated).await?
        }
        ListingEvent::Deleted { id, version } => {
            let deleted = ProductDeleted {
                product_id: id.as_uuid(),
                version,
            };
            OUTBOX.enqueue(connection, correlation_id, &deleted).await?
        }
    };
    Ok(())
}

/// The `product.created` / `product.updated` payload of a listing.
fn snapshot(row: &ProductRow) -> ProductSnapshot {
    ProductSnapshot {
        product_id: row.id.as_uuid(),
        seller_id: row.seller_id.as_uuid(),
        name: row.name.clone(),
        price: row.price,
        stock: row.stock,
        version: row.version,
    }
}

/// A reply to an `order.*` event.
#[derive(Debug, Clone)]
pub enum Reply {
    Reserved(StockReserved),
    Rejected(StockRejected),
    Released(StockReleased),
}

/// Enqueues `replies` (correlation id, reply), in order, with one statement.
pub async fn enqueue_replies(
    connection: &mut PgConnection,
    replies: &[(&str, Reply)],
) -> Result<(), sqlx::Error> {
    let envelopes = replies
        .iter()
        .map(|(correlation_id, reply)| match reply {
            Reply::Reserved(event) => OUTBOX.envelope(correlation_id, event),
            Reply::Rejected(event) => OUTBOX.envelope(correlation_id, event),
            Reply::Released(event) => OUTBOX.envelope(correlation_id, event),
        })
        .collect::<Result<Vec<_>, _>>()?;
    OUTBOX.enqueue_envelopes(connection, &envelopes).await
}
