//! Use cases: the rules of one behaviour (who may, what is checked, which transaction and
//! which event), called by the route handlers and the consumer's handler; the SQL they run is
//! in `db`, the events they write are built in `events::publish`.

pub mod browse_catalog;
pub mod create_listing;
pub mod delete_listing;
pub mod edit_listing;
pub mod list_categories;
pub mod lock_listing;
pub mod move_stock;
pub mod show_listing;

pub use browse_catalog::{CatalogCaches, CatalogPage, browse_catalog, browse_own_listings};
