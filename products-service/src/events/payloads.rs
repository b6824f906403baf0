//! Payload structs. Published ones are this service's contract with orders-service; consumed ones
//! declare only the fields products-service reads.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `product.created` and `product.updated`: orders-service keeps its catalog copy from these
/// (apply only when `version` is newer than the copy's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductChanged {
    pub product_id: Uuid,
    pub seller_id: Uuid,
    pub name: String,
    pub price: Decimal,
    pub stock: i32,
    pub version: i64,
}

/// `product.deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDeleted {
    pub product_id: Uuid,
    pub version: i64,
}

/// One line of an order, in `order.placed` and `stock.reserved`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: Uuid,
    pub quantity: i32,
    pub unit_price: Decimal,
}

/// `stock.reserved`: every line is held, at these unit prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockReserved {
    pub order_id: Uuid,
    pub lines: Vec<OrderLine>,
}

/// Why an order could not be reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    OutOfStock,
    PriceChanged,
    ProductUnavailable,
    OwnProduct,
}

/// `stock.rejected`: nothing is held; `product_id` names the first line that failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockRejected {
    pub order_id: Uuid,
    pub reason: RejectionReason,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub product_id: Option<Uuid>,
}

/// `stock.released`: the order's units are back on sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockReleased {
    pub order_id: Uuid,
}

/// The fields read from `order.placed`.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub lines: Vec<OrderLine>,
}

/// The field read from `order.cancelled`, `order.expired` and `order.paid`.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderRef {
    pub order_id: Uuid,
}
