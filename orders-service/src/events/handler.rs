//! The `orders-service` group on `inventory_stream`: keeps the catalog copy and moves orders on
//! the inventory's answers. The consumer applies a batch in one transaction (it records the
//! inbox and commits), so a redelivery changes nothing; live status updates go out only after
//! that commit ([`Tx::after_commit`]).

use std::time::Duration;

use sqlx::PgConnection;
use stream_lib::{Envelope, Handle, HandlerError, Handlers, Tx};
use uuid::Uuid;

use crate::{
    db::{
        catalog,
        orders::{self, Transition},
    },
    domain::OrderStatus,
    events::{
        OUTBOX, OrderCancelled, ProductCreated, ProductDeleted, ProductUpdated, StockRejected,
        StockReleased, StockReserved,
    },
    live::{Live, StatusChange},
};

/// Handles every event type orders-service reads.
#[derive(Clone)]
pub struct InventoryHandler {
    pub live: Live,
    pub reservation_ttl: Duration,
}

impl InventoryHandler {
    /// The consumer's registry: one typed handler per event type read.
    pub fn handlers(self) -> Handlers {
        Handlers::new()
            .on::<ProductCreated, _>(self.clone())
            .on::<ProductUpdated, _>(self.clone())
            .on::<ProductDeleted, _>(self.clone())
            .on::<StockReserved, _>(self.clone())
            .on::<StockRejected, _>(self.clone())
            .on::<StockReleased, _>(self)
    }

    /// Tells every replica about `change` once the batch committed.
    fn announce(&self, tx: &mut Tx, change: Option<StatusChange>) {
        if let Some(change) = change {
            let live = self.live.clone();
            tx.after_commit(async move { live.publish(&[change]).await });
        }
    }
}

impl Handle<ProductCreated> for InventoryHandler {
    async fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        ProductCreated(product): ProductCreated,
        _meta: &'a Envelope,
    ) -> Result<(), HandlerError> {
        catalog::upsert(tx, &product).await?;
        Ok(())
    }
}

impl Handle<ProductUpdated> for InventoryHandler {
    async fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        ProductUpdated(product): ProductUpdated,
        _meta: &'a Envelope,
    ) -> Result<(), HandlerError> {
        catalog::upsert(tx, &product).await?;
        Ok(())
    }
}

impl Handle<ProductDeleted> for InventoryHandler {
    async fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        deleted: ProductDeleted,
        _meta: &'a Envelope,
    ) -> Result<(), HandlerError> {
        catalog::delete(tx, &deleted).await?;
        Ok(())
    }
}

impl Handle<StockReserved> for InventoryHandler {
    async fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        reserved: StockReserved,
        meta: &'a Envelope,
    ) -> Result<(), HandlerError> {
        let change = self
            .reserved(tx, reserved.order_id, &meta.correlation_id)
            .await?;
        self.announce(tx, change);
        Ok(())
    }
}

impl Handle<StockRejected> for InventoryHandler {
    async fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        StockRejected { order_id, reason }: StockRejected,
        meta: &'a Envelope,
    ) -> Result<(), HandlerError> {
        let transition = Transition {
            reason: Some(reason),
            ..Transition::new(OrderStatus::Pending, OrderStatus::Rejected)
        };
        let order = orders::transition(tx, order_id, &transition, &meta.correlation_id).await?;
        if order.is_none() {
            tracing::info!(%order_id, "stock.rejected for an order no longer PENDING");
        }
        let change = order.map(|order| order.to_change()).transpose()?;
        self.announce(tx, change);
        Ok(())
    }
}

impl Handle<StockReleased> for InventoryHandler {
    /// The release closes the loop of a cancellation or expiry: nothing left to do.
    async fn handle<'a>(
        &'a self,
        _tx: &'a mut Tx,
        released: StockReleased,
        _meta: &'a Envelope,
    ) -> Result<(), HandlerError> {
        tracing::debug!(order_id = %released.order_id, "stock.released recorded");
        Ok(())
    }
}

impl InventoryHandler {
    /// PENDING -> CONFIRMED; a reservation for an order that was cancelled or rejected meanwhile
    /// (or that this service does not know) is given back with `order.cancelled`.
    async fn reserved(
        &self,
        connection: &mut PgConnection,
        order_id: Uuid,
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
                OUTBOX
                    .enqueue(connection, correlation_id, &OrderCancelled { order_id })
                    .await?;
            }
            // Already CONFIRMED (a second reservation message), PAID or EXPIRED: nothing to do.
            Some(status) => {
                tracing::info!(%order_id, %status, "stock.reserved ignored");
            }
        }
        Ok(None)
    }
}
