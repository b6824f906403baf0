//! The events orders-service exchanges: the payloads it publishes on `orders_stream` (it owns
//! them, `published`), the fields it reads from `inventory_stream` (a tolerant reader,
//! `consumed`), how its use cases write events into the outbox (`publish`), and the consumer's
//! handler (`handler`, named after the stream it reads).

pub mod consumed;
pub mod handler;
pub mod publish;
pub mod published;
#[cfg(test)]
mod schemas;

pub use consumed::{
    ProductCreated, ProductDeleted, ProductSnapshot, ProductUpdated, StockRejected, StockReleased,
    StockReserved,
};
pub use handler::InventoryStreamHandler;
pub use published::{OrderCancelled, OrderExpired, OrderLine, OrderPaid, OrderPlaced};

use stream_lib::{ORDERS_STREAM, outbox::Outbox};

use crate::SERVICE_NAME;

/// Where this service's events go: `orders_stream`, through the outbox, in the transaction of
/// the change that causes them.
pub const OUTBOX: Outbox = Outbox::new(SERVICE_NAME, ORDERS_STREAM);
