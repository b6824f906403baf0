//! The event schemas products-service owns in `docs/events` (see `stream_lib::contract`): the
//! payloads it publishes on `inventory_stream` and what its group reads from `orders_stream`.
//! `scripts/event-schemas` writes them; these tests fail when they differ from the Rust types.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use stream_lib::{
    INVENTORY_STREAM, ORDERS_STREAM,
    contract::{SchemaFiles, declared_types, docs_dir, sample_errors},
};
use uuid::Uuid;

use super::{OrdersStreamHandler, consumed, published::*};
use crate::SERVICE_NAME;

fn schemas() -> SchemaFiles {
    SchemaFiles::new()
        .publishes::<ProductCreated>(INVENTORY_STREAM)
        .publishes::<ProductUpdated>(INVENTORY_STREAM)
        .publishes::<ProductDeleted>(INVENTORY_STREAM)
        .publishes::<StockReserved>(INVENTORY_STREAM)
        .publishes::<StockRejected>(INVENTORY_STREAM)
        .publishes::<StockReleased>(INVENTORY_STREAM)
        .reads::<consumed::OrderPlaced>(ORDERS_STREAM, SERVICE_NAME)
        .reads::<consumed::OrderCancelled>(ORDERS_STREAM, SERVICE_NAME)
        .reads::<consumed::OrderExpired>(ORDERS_STREAM, SERVICE_NAME)
        .reads::<consumed::OrderPaid>(ORDERS_STREAM, SERVICE_NAME)
}

#[test]
fn the_committed_event_schemas_are_generated_from_every_event_type_in_the_code() {
    let declared = [
        (INVENTORY_STREAM.to_owned(), include_str!("published.rs")),
        (
            format!("{ORDERS_STREAM}/{SERVICE_NAME}"),
            include_str!("consumed.rs"),
        ),
    ];
    let write = std::env::var("EVENT_SCHEMAS").is_ok_and(|mode| mode == "write");
    let root = docs_dir(env!("CARGO_MANIFEST_DIR"));
    if let Err(problems) = schemas().check(&root, &declared, write) {
        panic!("{problems}");
    }
}

#[test]
fn every_event_type_read_has_a_handler() {
    let handled: BTreeSet<String> = OrdersStreamHandler::handlers()
        .types()
        .map(str::to_owned)
        .collect();
    assert_eq!(handled, declared_types(include_str!("consumed.rs")));
}

#[test]
fn every_payload_published_fits_its_own_schema_and_every_readers() {
    let snapshot = ProductSnapshot {
        product_id: Uuid::now_v7(),
        seller_id: Uuid::now_v7(),
        name: "Lamp".to_owned(),
        price: Decimal::new(1999, 2),
        stock: 0,
        version: 1,
    };
    let line = OrderLine {
        product_id: snapshot.product_id,
        quantity: 2,
        unit_price: Decimal::new(5, 0),
    };
    let order_id = Uuid::now_v7();
    let root = docs_dir(env!("CARGO_MANIFEST_DIR"));
    let checked = sample_errors(&root, INVENTORY_STREAM)
        .check(&ProductCreated(snapshot.clone()))
        .check(&ProductUpdated(snapshot.clone()))
        .check(&ProductDeleted {
            product_id: snapshot.product_id,
            version: 2,
        })
        .check(&StockReserved {
            order_id,
            lines: vec![line],
        })
        .check(&StockRejected {
            order_id,
            reason: RejectionReason::OutOfStock,
            product_id: Some(snapshot.product_id),
        })
        .check(&StockRejected {
            order_id,
            reason: RejectionReason::OwnProduct,
            product_id: None,
        })
        .check(&StockReleased { order_id })
        .finish(&declared_types(include_str!("published.rs")));
    if let Err(problems) = checked {
        panic!("{problems}");
    }
}
