//! The `products-service` group on `orders_stream`: the inventory side of every order.
//!
//! The consumer applies a batch of entries in one transaction (it records the inbox and
//! commits) and gives each run of consecutive entries of one type to its batch handler here,
//! which moves the stock of the whole run set-based and enqueues the replies inside that
//! transaction ([`crate::usecases::move_stock`]), so a redelivery changes nothing and a crash
//! leaves nothing half done. Stock is only ever taken from rows this transaction has locked, by
//! a conditional update, so no unit is sold twice whatever the concurrency.

use stream_lib::{Delivered, HandleBatch, HandlerError, Handlers, Tx};

use super::consumed::{OrderCancelled, OrderExpired, OrderPaid, OrderPlaced};
use crate::usecases::move_stock::{
    OrderRef, PlacedOrder, place_orders, release_orders, sell_orders,
};

/// Handles `order.placed`, `order.cancelled`, `order.expired` and `order.paid`, a run at a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrdersStreamHandler;

impl OrdersStreamHandler {
    /// The consumer's registry: one batch handler per event type read.
    pub fn handlers() -> Handlers {
        Handlers::new()
            .on_batch::<OrderPlaced, _>(Self)
            .on_batch::<OrderCancelled, _>(Self)
            .on_batch::<OrderExpired, _>(Self)
            .on_batch::<OrderPaid, _>(Self)
    }
}

impl HandleBatch<OrderPlaced> for OrdersStreamHandler {
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        placed: Vec<Delivered<'a, OrderPlaced>>,
    ) -> Result<(), HandlerError> {
        let orders = placed
            .into_iter()
            .map(|Delivered { event, meta }| PlacedOrder {
                order_id: event.order_id,
                buyer: event.user_id,
                lines: event.lines,
                correlation_id: meta.correlation_id.clone(),
            })
            .collect();
        place_orders(tx, orders).await
    }
}

impl HandleBatch<OrderCancelled> for OrdersStreamHandler {
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        cancelled: Vec<Delivered<'a, OrderCancelled>>,
    ) -> Result<(), HandlerError> {
        release_orders(tx, refs(cancelled, |event| event.order_id)).await
    }
}

impl HandleBatch<OrderExpired> for OrdersStreamHandler {
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        expired: Vec<Delivered<'a, OrderExpired>>,
    ) -> Result<(), HandlerError> {
        release_orders(tx, refs(expired, |event| event.order_id)).await
    }
}

impl HandleBatch<OrderPaid> for OrdersStreamHandler {
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        paid: Vec<Delivered<'a, OrderPaid>>,
    ) -> Result<(), HandlerError> {
        sell_orders(tx, refs(paid, |event| event.order_id)).await
    }
}

fn refs<E>(delivered: Vec<Delivered<'_, E>>, order_id: impl Fn(&E) -> uuid::Uuid) -> Vec<OrderRef> {
    delivered
        .into_iter()
        .map(|Delivered { event, meta }| OrderRef {
            order_id: order_id(&event),
            correlation_id: meta.correlation_id.clone(),
        })
        .collect()
}
