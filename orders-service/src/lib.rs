//! orders-service: owns orders from PENDING to a final state. An order is placed against a copy
//! of the catalog kept from `product.*` events; `order.placed` goes out through the outbox in the
//! order's own transaction; the inventory's answers on `inventory_stream` (consumer group
//! `orders-service`, idempotent through the inbox) confirm or reject it; a sweeper expires
//! unpaid reservations and times out unanswered orders. Every transition is a compare-and-set
//! recorded in the status history, and is pushed live to buyers over Server-Sent Events through
//! a Redis pub/sub channel shared by all replicas.

pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod live;
pub mod placements;
pub mod routes;
pub mod startup;
pub mod state;
pub mod sweeper;
pub mod usecases;

/// This service's name: the `source` of its events, its consumer group on `inventory_stream` (and
/// its inbox's consumer name), the prefix of its consumers' names, its OpenAPI title.
pub const SERVICE_NAME: &str = "orders-service";
