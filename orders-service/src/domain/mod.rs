//! Domain types: an order's status, its allowed transitions and a transition to attempt, parsed
//! quantities and card data, ids as types and the caller.

pub mod actor;
pub mod card;
pub mod ids;
pub mod order;
pub mod status;
pub mod transition;

pub use actor::Actor;
pub use card::{Card, CardError, PaymentOutcome};
pub use ids::{OrderId, UserId};
pub use order::{NewOrderLines, OrderLineRequestError, Quantity};
pub use status::OrderStatus;
pub use transition::{TIMEOUT_REASON, Transition};
