//! The events orders-service publishes on `orders_stream`: it owns these payloads, its contract
//! with products-service. One type per `type` string, even where two types carry the same
//! fields (a cancellation and an expiry both only name the order).

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use stream_lib::Event;
use uuid::Uuid;

/// `order.placed`: the inventory reserves every line or rejects the order.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub lines: Vec<OrderLine>,
}

impl Event for OrderPlaced {
    const TYPE: &'static str = "order.placed";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// One line of `order.placed`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrderLine {
    pub product_id: Uuid,
    pub quantity: i32,
    pub unit_price: Decimal,
}

/// `order.cancelled`: by the buyer, or a PENDING order that timed out; whatever it holds (or
/// will hold) goes back on sale.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrderCancelled {
    pub order_id: Uuid,
}

impl Event for OrderCancelled {
    const TYPE: &'static str = "order.cancelled";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// `order.expired`: a CONFIRMED order was not paid within its reservation time.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrderExpired {
    pub order_id: Uuid,
}

impl Event for OrderExpired {
    const TYPE: &'static str = "order.expired";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// `order.paid`: the held units are sold.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrderPaid {
    pub order_id: Uuid,
}

impl Event for OrderPaid {
    const TYPE: &'static str = "order.paid";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}
