//! The consumer's replies, written into the outbox inside the batch transaction: every reply of
//! a run in one statement, each with the correlation id of the order it answers. Stock
//! movements publish no `product.updated`: orders-service's catalog copy never reads the stock,
//! and the storefront reads it from this service's API.

use sqlx::PgConnection;

use super::{
    OUTBOX,
    published::{StockRejected, StockReleased, StockReserved},
};

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
