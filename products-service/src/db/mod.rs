//! SQL of products-service: listings (with their outbox events) and the catalog queries.

/// The columns of a [`ProductRow`], in its order.
macro_rules! columns {
    () => {
        "id, seller_id, seller_name, name, description, category, price, stock, image_url, \
         version, created_at, updated_at"
    };
}

pub mod catalog;
pub mod products;

pub use products::{NewProduct, ProductChanges, ProductRow};
