//! SQL of products-service: listings, the catalog queries and the consumer's stock movements.
//! The functions run on the executor or connection they are given and return their own errors;
//! the rules, the transactions and the events are the use cases' (`crate::usecases`).

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

pub use products::{NewProduct, ProductRow};
