//! The events products-service publishes on `inventory_stream` (it owns their payloads) and the
//! fields it reads from `orders_stream` (a tolerant reader), plus the consumer's handler.

pub mod handler;
pub mod payloads;
pub mod publish;

pub use handler::InventoryHandler;

/// This service's name: the `source` of its events and its consumer group on `orders_stream`.
pub const SERVICE_NAME: &str = "products-service";

/// Published.
pub const PRODUCT_CREATED: &str = "product.created";
pub const PRODUCT_UPDATED: &str = "product.updated";
pub const PRODUCT_DELETED: &str = "product.deleted";
pub const STOCK_RESERVED: &str = "stock.reserved";
pub const STOCK_REJECTED: &str = "stock.rejected";
pub const STOCK_RELEASED: &str = "stock.released";

/// Consumed.
pub const ORDER_PLACED: &str = "order.placed";
pub const ORDER_CANCELLED: &str = "order.cancelled";
pub const ORDER_EXPIRED: &str = "order.expired";
pub const ORDER_PAID: &str = "order.paid";
