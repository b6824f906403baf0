//! Writes this service's events into the outbox, inside the caller's transaction.

use serde::Serialize;
use sqlx::PgConnection;
use stream_lib::{Event, INVENTORY_STREAM, outbox};

use super::{PRODUCT_UPDATED, SERVICE_NAME, payloads::ProductChanged};

/// Enqueues one event for `inventory_stream`; it is published only if the transaction commits.
pub async fn publish(
    connection: &mut PgConnection,
    event_type: &str,
    correlation_id: &str,
    payload: &impl Serialize,
) -> Result<(), sqlx::Error> {
    let event = Event::new(event_type, SERVICE_NAME, correlation_id, payload)
        .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    outbox::enqueue(connection, INVENTORY_STREAM, &event).await
}

/// Enqueues `product.updated` for each changed listing.
pub async fn publish_updates(
    connection: &mut PgConnection,
    correlation_id: &str,
    products: &[ProductChanged],
) -> Result<(), sqlx::Error> {
    for product in products {
        publish(&mut *connection, PRODUCT_UPDATED, correlation_id, product).await?;
    }
    Ok(())
}
