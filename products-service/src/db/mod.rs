//! SQL of products-service: listings (with their outbox events), the catalog queries and the
//! consumer's stock movements.

/// The columns of a [`ProductRow`], in its order.
macro_rules! columns {
    () => {
        "id, seller_id, seller_name, name, description, category, price, stock, image_url, \
         version, created_at, updated_at"
    };
}

pub mod catalog;
pub mod products;
pub mod stock;

pub use products::{NewProduct, ProductChanges, ProductRow};
