//! The events products-service publishes on `inventory_stream` (it owns their payloads), the
//! fields it reads from `orders_stream` (a tolerant reader), and the consumer's handler.

pub mod consumed;
pub mod handler;
pub mod publish;
pub mod published;
#[cfg(test)]
mod schemas;

pub use handler::InventoryHandler;

use stream_lib::{INVENTORY_STREAM, outbox::Outbox};

/// This service's name: the `source` of its events and its consumer group on `orders_stream`.
pub const SERVICE_NAME: &str = "products-service";

/// Where this service's events go: `inventory_stream`, through the outbox, in the transaction
/// of the change that causes them.
pub const OUTBOX: Outbox = Outbox::new(SERVICE_NAME, INVENTORY_STREAM);
