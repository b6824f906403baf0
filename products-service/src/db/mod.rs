//! SQL of products-service: listings (with their outbox events) and the catalog queries.

pub mod products;

pub use products::{NewProduct, ProductChanges, ProductRow};
