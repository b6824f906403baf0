//! The `orders-service` group on `inventory_stream`: keeps the catalog copy and moves orders on
//! the inventory's answers. Each event is recorded in the inbox in the same transaction as its
//! effect, so a redelivery changes nothing.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use stream_lib::{Envelope, Event, Handler, HandlerError};

use crate::{
    db::{
        catalog,
        orders::{self, Transition},
    },
    domain::OrderStatus,
    events::{
        self, OrderCancelled, ProductCreated, ProductDeleted, ProductUpdated, StockRejected,
        StockReleased, StockReserved,
    },
    live::{Live, StatusChange},
};

/// Handles every event type orders-service reads.
#[derive(Clone)]
pub struct InventoryHandler {
    pub pool: PgPool,
    pub live: Live,
    pub reservation_ttl: Duration,
}

impl Handler for InventoryHandler {
    fn handles(&self, event_type: &str) -> bool {
        [
            ProductCreated::TYPE,
            ProductUpdated::TYPE,
            ProductDeleted::TYPE,
            StockReserved::TYPE,
            StockRejected::TYPE,
            StockReleased::TYPE,
        ]
        .contains(&event_type)
    }

    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let mut tx = self.pool.begin().await?;
        if !stream_lib::inbox::record(&mut tx, events::CONSUMER_GROUP, event.event_id).await? {
            tracing::debug!(event_id = %event.event_id, "already handled; skipped");
            return Ok(());
        }
        let change = self.apply(&mut tx, event).await?;
        tx.commit().await?;
        if let Some(change) = change {
            self.live.publish(&[change]).await;
        }
        Ok(())
    }
}

/// The typed payload; one that does not decode is a permanent failure.
fn decode<E: Event>(event: &Envelope) -> Result<E, HandlerError> {
    event
        .decode()
        .map_err(|error| HandlerError::permanent(anyhow::anyhow!("bad payload: {error}")))
}

impl InventoryHandler {
    async fn apply(
        &self,
        connection: &mut PgConnection,
        event: &Envelope,
    ) -> Result<Option<StatusChange>, HandlerError> {
        match event.event_type.as_str() {
            ProductCreated::TYPE => {
                let ProductCreated(product) = decode(event)?;
                catalog::upsert(connection, &product).await?;
                Ok(None)
            }
            ProductUpdated::TYPE => {
                let ProductUpdated(product) = decode(event)?;
                catalog::upsert(connection, &product).await?;
                Ok(None)
            }
            ProductDeleted::TYPE => {
                catalog::delete(connection, &decode::<ProductDeleted>(event)?).await?;
                Ok(None)
            }
            StockReserved::TYPE => {
                let StockReserved { order_id } = decode(event)?;
                self.reserved(connection, order_id, &event.correlation_id)
                    .await
            }
            StockRejected::TYPE => {
                let StockRejected { order_id, reason } = decode(event)?;
                let transition = Transition {
                    reason: Some(reason),
                    ..Transition::new(OrderStatus::Pending, OrderStatus::Rejected)
                };
                let order =
                    orders::transition(connection, order_id, &transition, &event.correlation_id)
                        .await?;
                if order.is_none() {
                    tracing::info!(%order_id, "stock.rejected for an order no longer PENDING");
                }
                Ok(order.map(|order| order.to_change()).transpose()?)
            }
            // The release closes the loop of a cancellation or expiry: nothing left to do.
            StockReleased::TYPE => {
                let StockReleased { order_id } = decode(event)?;
                tracing::debug!(%order_id, "stock.released recorded");
                Ok(None)
            }
            other => Err(HandlerError::permanent(anyhow::anyhow!(
                "unexpected event type {other}"
            ))),
        }
    }

    /// PENDING -> CONFIRMED; a reservation for an order that was cancelled or rejected meanwhile
    /// (or that this service does not know) is given back with `order.cancelled`.
    async fn reserved(
        &self,
        connection: &mut PgConnection,
        order_id: uuid::Uuid,
        correlation_id: &str,
    ) -> Result<Option<StatusChange>, HandlerError> {
        let transition = Transition {
            expires_in: Some(self.reservation_ttl),
            ..Transition::new(OrderStatus::Pending, OrderStatus::Confirmed)
        };
        if let Some(order) =
            orders::transition(connection, order_id, &transition, correlation_id).await?
        {
            return Ok(Some(order.to_change()?));
        }
        let status = match orders::find(connection, order_id).await? {
            Some(order) => Some(order.status()?),
            None => None,
        };
        match status {
            Some(OrderStatus::Cancelled | OrderStatus::Rejected) | None => {
                tracing::info!(%order_id, ?status, "late reservation; releasing it");
                orders::publish(connection, correlation_id, &OrderCancelled { order_id }).await?;
            }
            // Already CONFIRMED (a second reservation message), PAID or EXPIRED: nothing to do.
            Some(status) => {
                tracing::info!(%order_id, %status, "stock.reserved ignored");
            }
        }
        Ok(None)
    }
}
