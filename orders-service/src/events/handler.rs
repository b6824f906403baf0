//! The `orders-service` group on `inventory_stream`: keeps the catalog copy and moves orders on
//! the inventory's answers. The consumer applies a batch in one transaction (it records the
//! inbox and commits), so a redelivery changes nothing; live status updates go out only after
//! that commit ([`Tx::after_commit`]).
//!
//! Runs of one type are handled set-based ([`HandleBatch`]): a run of `stock.reserved` or
//! `stock.rejected` moves its orders with one statement (`db/sql/move_orders.sql`) and writes
//! its events with one more; a run of `product.created` or `product.updated` is one upsert of
//! the catalog copy (each product's highest version). A run gives the same outcome as its
//! entries one by one in stream order, as the consumer requires.

use std::{
    collections::{HashMap, HashSet, hash_map::Entry},
    time::Duration,
};

use stream_lib::{Delivered, Envelope, Handle, HandleBatch, HandlerError, Handlers, Tx};
use uuid::Uuid;

use crate::{
    db::{batch, catalog},
    domain::{OrderStatus, Transition},
    events::{
        OUTBOX, OrderCancelled, ProductCreated, ProductDeleted, ProductUpdated, StockRejected,
        StockReleased, StockReserved, publish::event_for,
    },
    live::{Live, StatusChange},
};

/// Handles every event type orders-service reads.
#[derive(Clone)]
pub struct InventoryStreamHandler {
    pub live: Live,
    pub reservation_ttl: Duration,
}

impl InventoryStreamHandler {
    /// The consumer's registry: one typed handler per event type read.
    pub fn handlers(self) -> Handlers {
        Handlers::new()
            .on_batch::<ProductCreated, _>(self.clone())
            .on_batch::<ProductUpdated, _>(self.clone())
            .on::<ProductDeleted, _>(self.clone())
            .on_batch::<StockReserved, _>(self.clone())
            .on_batch::<StockRejected, _>(self.clone())
            .on::<StockReleased, _>(self)
    }

    /// Tells every replica about `changes` once the batch committed.
    fn announce(&self, tx: &mut Tx, changes: Vec<StatusChange>) {
        if !changes.is_empty() {
            let live = self.live.clone();
            tx.after_commit(async move { live.publish(&changes).await });
        }
    }
}

impl HandleBatch<ProductCreated> for InventoryStreamHandler {
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        created: Vec<Delivered<'a, ProductCreated>>,
    ) -> Result<(), HandlerError> {
        catalog::upsert_all(tx, created.iter().map(|entry| &entry.event.0)).await?;
        Ok(())
    }
}

impl HandleBatch<ProductUpdated> for InventoryStreamHandler {
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        updated: Vec<Delivered<'a, ProductUpdated>>,
    ) -> Result<(), HandlerError> {
        catalog::upsert_all(tx, updated.iter().map(|entry| &entry.event.0)).await?;
        Ok(())
    }
}

impl Handle<ProductDeleted> for InventoryStreamHandler {
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

impl HandleBatch<StockReserved> for InventoryStreamHandler {
    /// PENDING -> CONFIRMED; a reservation for an order that was cancelled or rejected meanwhile
    /// (or that this service does not know) is given back with `order.cancelled`. A second
    /// reservation of an order already CONFIRMED, PAID or EXPIRED changes nothing.
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        reserved: Vec<Delivered<'a, StockReserved>>,
    ) -> Result<(), HandlerError> {
        let ids = distinct(reserved.iter().map(|entry| entry.event.order_id));
        let moves: Vec<(Uuid, Option<&str>)> = ids.iter().map(|id| (*id, None)).collect();
        let moved = batch::move_orders(
            tx,
            OrderStatus::Pending,
            OrderStatus::Confirmed,
            &moves,
            Some(self.reservation_ttl),
        )
        .await?;
        let moved_ids: HashSet<Uuid> = moved.iter().map(|order| order.id).collect();
        let late: Vec<Uuid> = ids
            .into_iter()
            .filter(|id| !moved_ids.contains(id))
            .collect();
        let mut replies = Vec::new();
        if !late.is_empty() {
            let statuses = batch::statuses(tx, &late).await?;
            let late: HashSet<Uuid> = late.into_iter().collect();
            for entry in reserved
                .iter()
                .filter(|entry| late.contains(&entry.event.order_id))
            {
                let order_id = entry.event.order_id;
                match statuses.get(&order_id) {
                    Some(OrderStatus::Cancelled | OrderStatus::Rejected) | None => {
                        let status = statuses.get(&order_id);
                        tracing::info!(%order_id, ?status, "late reservation; releasing it");
                        replies.push(
                            OUTBOX.envelope(
                                &entry.meta.correlation_id,
                                &OrderCancelled { order_id },
                            )?,
                        );
                    }
                    Some(status) => tracing::info!(%order_id, %status, "stock.reserved ignored"),
                }
            }
        }
        OUTBOX.enqueue_envelopes(tx, &replies).await?;
        let changes = moved
            .iter()
            .map(|order| order.to_change())
            .collect::<Result<_, _>>()?;
        self.announce(tx, changes);
        Ok(())
    }
}

impl HandleBatch<StockRejected> for InventoryStreamHandler {
    /// PENDING -> REJECTED with the inventory's reason (the first one, should an order be
    /// rejected twice in a run); an order no longer PENDING is left alone.
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        rejected: Vec<Delivered<'a, StockRejected>>,
    ) -> Result<(), HandlerError> {
        let mut correlation: HashMap<Uuid, &str> = HashMap::new();
        let mut moves = Vec::new();
        for entry in &rejected {
            if let Entry::Vacant(slot) = correlation.entry(entry.event.order_id) {
                slot.insert(&entry.meta.correlation_id);
                moves.push((entry.event.order_id, Some(entry.event.reason.as_str())));
            }
        }
        let moved = batch::move_orders(
            tx,
            OrderStatus::Pending,
            OrderStatus::Rejected,
            &moves,
            None,
        )
        .await?;
        let moved_ids: HashSet<Uuid> = moved.iter().map(|order| order.id).collect();
        let mut events = Vec::new();
        for (order_id, reason) in &moves {
            if !moved_ids.contains(order_id) {
                tracing::info!(%order_id, "stock.rejected for an order no longer PENDING");
                continue;
            }
            let transition = Transition {
                reason: reason.map(str::to_owned),
                ..Transition::new(OrderStatus::Pending, OrderStatus::Rejected)
            };
            if let Some(event) = event_for(&transition) {
                events.push(event.envelope(*order_id, correlation[order_id])?);
            }
        }
        OUTBOX.enqueue_envelopes(tx, &events).await?;
        let changes = moved
            .iter()
            .map(|order| order.to_change())
            .collect::<Result<_, _>>()?;
        self.announce(tx, changes);
        Ok(())
    }
}

impl Handle<StockReleased> for InventoryStreamHandler {
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

/// The ids in first-seen order, each once.
fn distinct(ids: impl Iterator<Item = Uuid>) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.filter(|id| seen.insert(*id)).collect()
}
