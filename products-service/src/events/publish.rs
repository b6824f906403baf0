//! The consumer's replies, written into the outbox inside the batch transaction.

use sqlx::PgConnection;
use stream_lib::Event;

use super::{
    OUTBOX,
    published::{ProductSnapshot, ProductUpdated},
};

/// Enqueues a reply and the `product.updated` of every listing whose stock it moved.
pub async fn publish_reply(
    connection: &mut PgConnection,
    correlation_id: &str,
    reply: &impl Event,
    updated: &[ProductSnapshot],
) -> Result<(), sqlx::Error> {
    OUTBOX
        .enqueue(&mut *connection, correlation_id, reply)
        .await?;
    let updated: Vec<ProductUpdated> = updated.iter().cloned().map(ProductUpdated).collect();
    OUTBOX
        .enqueue_all(connection, correlation_id, &updated)
        .await?;
    Ok(())
}
