//! The event schemas orders-service owns in `docs/events` (see `stream_lib::contract`): the
//! payloads it publishes on `orders_stream` and what its group reads from `inventory_stream`.
//! `scripts/event-schemas` writes them; these tests fail when they differ from the Rust types.

use std::{collections::BTreeSet, time::Duration};

use rust_decimal::Decimal;
use stream_lib::{
    INVENTORY_STREAM, ORDERS_STREAM,
    contract::{SchemaFiles, declared_types, docs_dir, sample_errors},
};
use uuid::Uuid;

use super::{InventoryStreamHandler, consumed, published::*};
use crate::{SERVICE_NAME, live::Live};

fn schemas() -> SchemaFiles {
    SchemaFiles::new()
        .publishes::<OrderPlaced>(ORDERS_STREAM)
        .publishes::<OrderCancelled>(ORDERS_STREAM)
        .publishes::<OrderExpired>(ORDERS_STREAM)
        .publishes::<OrderPaid>(ORDERS_STREAM)
        .reads::<consumed::ProductCreated>(INVENTORY_STREAM, SERVICE_NAME)
        .reads::<consumed::ProductUpdated>(INVENTORY_STREAM, SERVICE_NAME)
        .reads::<consumed::ProductDeleted>(INVENTORY_STREAM, SERVICE_NAME)
        .reads::<consumed::StockReserved>(INVENTORY_STREAM, SERVICE_NAME)
        .reads::<consumed::StockRejected>(INVENTORY_STREAM, SERVICE_NAME)
        .reads::<consumed::StockReleased>(INVENTORY_STREAM, SERVICE_NAME)
}

#[test]
fn the_committed_event_schemas_are_generated_from_every_event_type_in_the_code() {
    let declared = [
        (ORDERS_STREAM.to_owned(), include_str!("published.rs")),
        (
            format!("{INVENTORY_STREAM}/{SERVICE_NAME}"),
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
    // The pool connects lazily: nothing here talks to Redis.
    let target = web_kit::redis_pool::RedisTarget::new("redis://127.0.0.1:6379", &[]);
    let redis = web_kit::redis_pool::RedisPool::new(target, None).expect("a lazy pool");
    let handler = InventoryStreamHandler {
        live: Live::new(redis, "schemas-test:"),
        reservation_ttl: Duration::from_secs(60),
    };
    let handled: BTreeSet<String> = handler.handlers().types().map(str::to_owned).collect();
    assert_eq!(handled, declared_types(include_str!("consumed.rs")));
}

#[test]
fn every_payload_published_fits_its_own_schema_and_every_readers() {
    let order_id = Uuid::now_v7();
    let placed = OrderPlaced {
        order_id,
        user_id: Uuid::now_v7(),
        lines: vec![OrderLine {
            product_id: Uuid::now_v7(),
            quantity: 3,
            unit_price: Decimal::new(2499, 2),
        }],
    };
    let root = docs_dir(env!("CARGO_MANIFEST_DIR"));
    let checked = sample_errors(&root, ORDERS_STREAM)
        .check(&placed)
        .check(&OrderCancelled { order_id })
        .check(&OrderExpired { order_id })
        .check(&OrderPaid { order_id })
        .finish(&declared_types(include_str!("published.rs")));
    if let Err(problems) = checked {
        panic!("{problems}");
    }
}
