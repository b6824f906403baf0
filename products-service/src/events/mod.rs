//! The events products-service exchanges: the payloads it publishes on `inventory_stream` (it
//! owns them, `published`), the fields it reads from `orders_stream` (a tolerant reader,
//! `consumed`), how its use cases write events into the outbox (`publish`), and the consumer's
//! handler (`handler`, named after the stream it reads).

pub mod consumed;
pub mod handler;
pub mod publish;
pub mod published;
#[cfg(test)]
mod schemas;

pub use handler::OrdersStreamHandler;

use stream_lib::{INVENTORY_STREAM, outbox::Outbox};

use crate::SERVICE_NAME;

/// Where this service's events go: `inventory_stream`, through the outbox, in the transaction
/// of the change that causes them.
pub const OUTBOX: Outbox = Outbox::new(SERVICE_NAME, INVENTORY_STREAM);
