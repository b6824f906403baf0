//! Writes this service's events into the outbox, inside the caller's transaction.

use sqlx::PgConnection;
use stream_lib::{Envelope, Event, INVENTORY_STREAM, outbox};

use super::{
    SERVICE_NAME,
    published::{ProductSnapshot, ProductUpdated},
};

fn envelope(event: &impl Event, correlation_id: &str) -> Result<Envelope, sqlx::Error> {
    Envelope::of(event, SERVICE_NAME, correlation_id)
        .map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

/// Enqueues one event for `inventory_stream`; it is published only if the transaction commits.
pub async fn publish(
    connection: &mut PgConnection,
    correlation_id: &str,
    event: &impl Event,
) -> Result<(), sqlx::Error> {
    let envelope = envelope(event, correlation_id)?;
    outbox::enqueue(connection, INVENTORY_STREAM, &envelope).await
}

/// Enqueues a reply and the `product.updated` of every listing whose stock it moved, in one
/// statement: the consumer's hot path writes one outbox round trip per order, not one per event.
pub async fn publish_reply(
    connection: &mut PgConnection,
    correlation_id: &str,
    reply: &impl Event,
    updated: &[ProductSnapshot],
) -> Result<(), sqlx::Error> {
    let mut envelopes = vec![envelope(reply, correlation_id)?];
    for product in updated {
        envelopes.push(envelope(&ProductUpdated(product.clone()), correlation_id)?);
    }
    outbox::enqueue_many(connection, INVENTORY_STREAM, &envelopes).await
}
