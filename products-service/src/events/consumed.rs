//! The events products-service reads from `orders_stream`, with only the fields it uses (a
//! tolerant reader: orders-service owns the payloads).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use stream_lib::Event;
use uuid::Uuid;

use super::published::OrderLine;

/// `order.placed`: reserve every line or reject the order.
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

/// `order.cancelled`: release what the order holds (or leave a tombstone).
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

/// `order.expired`: a confirmed order was not paid in time; release what it holds.
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
