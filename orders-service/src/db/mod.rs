//! SQL: orders and their transitions, the catalog copy, idempotency keys.

pub mod batch;
pub mod catalog;
pub mod idempotency;
pub mod orders;
pub mod place;
