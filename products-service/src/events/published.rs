//! The events products-service publishes on `inventory_stream`: it owns these payloads, which
//! are its contract with orders-service. One type per `type` string, even where two types carry
//! the same fields.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use stream_lib::Event;
use uuid::Uuid;

/// A listing as `product.created` and `product.updated` carry it: orders-service keeps its
/// catalog copy from these (applied only when `version` is newer than the copy's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductSnapshot {
    pub product_id: Uuid,
    pub seller_id: Uuid,
    pub name: String,
    pub price: Decimal,
    pub stock: i32,
    pub version: i64,
}

/// `product.created`: a new listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ProductCreated(pub ProductSnapshot);

impl Event for ProductCreated {
    const TYPE: &'static str = "product.created";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.0.product_id)
    }
}

/// `product.updated`: a listing changed by its seller or an admin (orders moving its stock
/// publish none: the copy downstream does not read the stock).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ProductUpdated(pub ProductSnapshot);

impl Event for ProductUpdated {
    const TYPE: &'static str = "product.updated";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.0.product_id)
    }
}

/// `product.deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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

/// One line of an order, in `order.placed` and `stock.reserved`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrderLine {
    pub product_id: Uuid,
    pub quantity: i32,
    pub unit_price: Decimal,
}

/// `stock.reserved`: every line is held, at these unit prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StockReserved {
    pub order_id: Uuid,
    pub lines: Vec<OrderLine>,
}

impl Event for StockReserved {
    const TYPE: &'static str = "stock.reserved";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// Why an order could not be reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    OutOfStock,
    PriceChanged,
    ProductUnavailable,
    OwnProduct,
}

/// `stock.rejected`: nothing is held; `product_id` names the first line that failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StockRejected {
    pub order_id: Uuid,
    pub reason: RejectionReason,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub product_id: Option<Uuid>,
}

impl Event for StockRejected {
    const TYPE: &'static str = "stock.rejected";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

/// `stock.released`: the order's units are back on sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StockReleased {
    pub order_id: Uuid,
}

impl Event for StockReleased {
    const TYPE: &'static str = "stock.released";
    fn aggregate_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_snapshot_event_is_the_flat_listing_on_the_wire() {
        let snapshot = ProductSnapshot {
            product_id: Uuid::now_v7(),
            seller_id: Uuid::now_v7(),
            name: "Lamp".to_owned(),
            price: Decimal::new(1999, 2),
            stock: 3,
            version: 2,
        };
        let wire = serde_json::to_value(ProductUpdated(snapshot.clone())).unwrap();
        assert_eq!(wire["product_id"], snapshot.product_id.to_string());
        assert_eq!(wire["price"], "19.99");
        assert_eq!(wire["stock"], 3);
        let back: ProductCreated = serde_json::from_value(wire).unwrap();
        assert_eq!(back.0, snapshot);
    }
}
