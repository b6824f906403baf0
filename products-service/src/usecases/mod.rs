//! The service's use cases that are more than one query: the rules live here, the SQL in `db`.

pub mod browse_catalog;
pub mod move_stock;

pub use browse_catalog::{CatalogCaches, CatalogPage, browse_catalog};
