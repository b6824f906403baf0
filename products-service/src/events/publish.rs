//! Writes this service's events into the outbox, inside the caller's transaction.

use serde::Serialize;
use sqlx::PgConnection;
use stream_lib::{Envelope, INVENTORY_STREAM, outbox};

use super::{PRODUCT_UPDATED, SERVICE_NAME, payloads::ProductChanged};

fn event(
    event_type: &str,
    correlation_id: &str,
    payload: &impl Serialize,
) -> Result<Envelope, sqlx::Error> {
    Envelope::new(event_type, SERVICE_NAME, correlation_id, payload)
        .map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

/// Enqueues one event for `inventory_stream`; it is published only if the transaction commits.
pub async fn publish(
    connection: &mut PgConnection,
    event_type: &str,
    correlation_id: &str,
    payload: &impl Serialize,
) -> Result<(), sqlx::Error> {
    let event = event(event_type, correlation_id, payload)?;
    outbox::enqueue(connection, INVENTORY_STREAM, &event).await
}

/// Enqueues a reply and the `product.updated` of every listing whose stock it moved, in one
/// statement: the consumer's hot path writes one outbox round trip per order, not one per event.
pub async fn publish_reply(
    connection: &mut PgConnection,
    correlation_id: &str,
    reply_type: &str,
    reply: &impl Serialize,
    updated: &[ProductChanged],
) -> Result<(), sqlx::Error> {
    let mut events = vec![event(reply_type, correlation_id, reply)?];
    for product in updated {
        events.push(event(PRODUCT_UPDATED, correlation_id, product)?);
    }
    outbox::enqueue_many(connection, INVENTORY_STREAM, &events).await
}
