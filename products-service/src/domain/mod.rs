//! Domain types: values that are valid by construction (parse, don't validate), ids as types,
//! and a listing as its seller writes it.

pub mod catalog;
pub mod ids;
pub mod listing;
pub mod product;

pub use catalog::{CatalogFilter, Page, Sort};
pub use ids::{ProductId, UserId};
pub use listing::{Actor, NewListing, ProductChanges};
pub use product::{Category, Description, ImageUrl, Price, ProductName, Stock};
