//! The events orders-service reads from `inventory_stream`, with only the fields it uses (a
//! tolerant reader: products-service owns the payloads).

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use stream_lib::Event;
use uuid::Uuid;

/// A listing as `product.created` and `product.updated` carry it, for the catalog copy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProductSnapshot {
    pub product_id: Uuid,
    pub seller_id: Uuid,
    pub name: String,
    pub price: Decimal,
    pub stock: i64,
    pub version: i64,
}

/// `product.created`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ProductCreated(pub ProductSnapshot);

impl Event for ProductCreated {
    const TYPE: &'static str = "product.created";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.0.product_id)
    }
}

/// `product.updated`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ProductUpdated(pub ProductSnapshot);

impl Event for ProductUpdated {
    const TYPE: &'static str = "product.updated";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.0.product_id)
    }
}

/// `product.deleted`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProductDeleted {
    pub product_id: Uuid,
    pub version: i64,
}

impl Event for ProductDeleted {
    const TYPE: &'static str = "product.deleted";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.product_id)
    }
}

/// `stock.reserved` (only the order id is read): PENDING -> CONFIRMED.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StockReserved {
    pub order_id: Uuid,
}

impl Event for StockReserved {
    const TYPE: &'static str = "stock.reserved";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// `stock.rejected`: PENDING -> REJECTED with the inventory's reason.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StockRejected {
    pub order_id: Uuid,
    pub reason: String,
}

impl Event for StockRejected {
    const TYPE: &'static str = "stock.rejected";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// `stock.released` (only the order id is read): closes the loop of a cancellation or expiry.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StockReleased {
    pub order_id: Uuid,
}

impl Event for StockReleased {
    const TYPE: &'static str = "stock.released";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}
