//! products-service: the catalog, the stock, and the inventory side of every order.
//!
//! Listings live in this service's own PostgreSQL database (refinery migrations at start-up).
//! Every create, update and delete writes its `product.*` event through the transactional outbox
//! in the same transaction; a relay publishes them on `inventory_stream`. The consumer group
//! `products-service` reads `orders_stream`: `order.placed` reserves every line or none with
//! conditional updates, `order.cancelled` / `order.expired` release exactly once, `order.paid`
//! turns the reservation into a sale; each handler records the event id in the inbox and writes
//! its reply through the outbox in the same transaction, so redeliveries change nothing.
//!
//! Catalog reads ([`usecases::browse_catalog`]) start every page at a listing's sort key (no
//! OFFSET), rank small match sets and order large ones by an index, fall back to a typo-tolerant
//! search, and carry HTTP caching headers so a shared cache serves anonymous reads for a second.

pub mod cache;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
pub mod usecases;

/// This service's name: the `source` of its events, its consumer group on `orders_stream` (and
/// its inbox's consumer name), the prefix of its consumers' names, its OpenAPI title.
pub const SERVICE_NAME: &str = "products-service";
