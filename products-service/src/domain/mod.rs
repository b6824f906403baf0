//! Domain types: values that are valid by construction (parse, don't validate).

pub mod catalog;
pub mod product;

pub use catalog::{CatalogFilter, Page, Sort};
pub use product::{Category, Description, ImageUrl, Price, ProductName, Stock};
