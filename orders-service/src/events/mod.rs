//! The events orders-service exchanges: the payloads it publishes on `orders_stream` (it owns
//! them), the fields it reads from `inventory_stream` (a tolerant reader), and the consumer.

pub mod consumed;
pub mod handler;
pub mod published;
#[cfg(test)]
mod schemas;

pub use consumed::{
    ProductCreated, ProductDeleted, ProductSnapshot, ProductUpdated, StockRejected, StockReleased,
    StockReserved,
};
pub use published::{OrderCancelled, OrderExpired, OrderLine, OrderPaid, OrderPlaced};

use stream_lib::{ORDERS_STREAM, outbox::Outbox};

/// The `source` of every event this service publishes.
pub const SOURCE: &str = "orders-service";
/// Where this service's events go: `orders_stream`, through the outbox, in the transaction of
/// the change that causes them.
pub const OUTBOX: Outbox = Outbox::new(SOURCE, ORDERS_STREAM);
/// This service's consumer group on `inventory_stream` (also its inbox consumer name).
pub const CONSUMER_GROUP: &str = "orders-service";
