//! The events orders-service exchanges: type strings, the payloads it publishes on
//! `orders_stream` (it owns them), the fields it reads from `inventory_stream`, and the consumer.

pub mod consumer;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `source` of every event this service publishes.
pub const SOURCE: &str = "orders-service";
/// This service's consumer group on `inventory_stream` (also its inbox consumer name).
pub const CONSUMER_GROUP: &str = "orders-service";

pub const ORDER_PLACED: &str = "order.placed";
pub const ORDER_CANCELLED: &str = "order.cancelled";
pub const ORDER_EXPIRED: &str = "order.expired";
pub const ORDER_PAID: &str = "order.paid";

pub const PRODUCT_CREATED: &str = "product.created";
pub const PRODUCT_UPDATED: &str = "product.updated";
pub const PRODUCT_DELETED: &str = "product.deleted";
pub const STOCK_RESERVED: &str = "stock.reserved";
pub const STOCK_REJECTED: &str = "stock.rejected";
pub const STOCK_RELEASED: &str = "stock.released";

/// `order.placed`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub lines: Vec<OrderLine>,
}

/// One line of `order.placed`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: Uuid,
    pub quantity: i32,
    pub unit_price: Decimal,
}

/// `order.cancelled`, `order.expired`, `order.paid`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderRef {
    pub order_id: Uuid,
}

/// `product.created` / `product.updated` (the fields this service reads).
#[derive(Debug, Deserialize)]
pub struct ProductChanged {
    pub product_id: Uuid,
    pub seller_id: Uuid,
    pub name: String,
    pub price: Decimal,
    pub stock: i64,
    pub version: i64,
}

/// `product.deleted`.
#[derive(Debug, Deserialize)]
pub struct ProductDeleted {
    pub product_id: Uuid,
    pub version: i64,
}

/// `stock.reserved`, `stock.released` (only the order id is read).
#[derive(Debug, Deserialize)]
pub struct StockAnswer {
    pub order_id: Uuid,
}

/// `stock.rejected`.
#[derive(Debug, Deserialize)]
pub struct StockRejected {
    pub order_id: Uuid,
    pub reason: String,
}
