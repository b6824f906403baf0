//! One order's transition, as every use case that moves an order makes it (cancel, pay, the
//! sweeper's expiry and timeout): the compare-and-set with its history row, and the event the
//! transition publishes ([`event_for`]), in the caller's transaction.

use sqlx::PgConnection;

use crate::{
    db::orders::{self, OrderRow},
    domain::{OrderId, Transition},
    events::publish::event_for,
};

/// Moves `order_id` as `transition` says and enqueues the event it publishes; `None` when the
/// order was no longer in `transition.from` (another transition won): nothing written.
#[tracing::instrument(skip_all, fields(order_id = %order_id, to = %transition.to))]
pub async fn transition_order(
    connection: &mut PgConnection,
    order_id: OrderId,
    transition: &Transition,
    correlation_id: &str,
) -> Result<Option<OrderRow>, sqlx::Error> {
    let Some(order) = orders::transition(connection, order_id, transition).await? else {
        return Ok(None);
    };
    if let Some(event) = event_for(transition) {
        event
            .publish(connection, order_id.as_uuid(), correlation_id)
            .await?;
    }
    Ok(Some(order))
}
