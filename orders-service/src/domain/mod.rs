//! Domain types: an order's status, its allowed transitions and a transition to attempt, parsed
//! quantities and card data.

pub mod card;
pub mod order;
pub mod status;
pub mod transition;

pub use card::{Card, CardError, PaymentOutcome};
pub use order::{NewOrderLines, OrderLineRequestError, Quantity};
pub use status::OrderStatus;
pub use transition::{TIMEOUT_REASON, Transition};
