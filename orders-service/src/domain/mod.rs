//! Domain types: an order's status and its allowed transitions, parsed quantities and card data.

pub mod card;
pub mod order;
pub mod status;

pub use card::{Card, CardError, PaymentOutcome};
pub use order::{NewOrderLines, OrderLineRequestError, Quantity};
pub use status::OrderStatus;
