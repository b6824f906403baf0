//! One status change to attempt, as a compare-and-set: the status it leaves, the one it enters,
//! and what it sets on the way.

use std::time::Duration;

use super::OrderStatus;

/// The reason of a PENDING order rejected because the inventory never answered.
pub const TIMEOUT_REASON: &str = "timeout";

/// One status change to attempt.
#[derive(Debug, Clone)]
pub struct Transition {
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub reason: Option<String>,
    /// Sets `expires_at` to now plus this.
    pub expires_in: Option<Duration>,
    /// Only while `expires_at` is still in the future (payment).
    pub require_unexpired: bool,
}

impl Transition {
    pub fn new(from: OrderStatus, to: OrderStatus) -> Self {
        Self {
            from,
            to,
            reason: None,
            expires_in: None,
            require_unexpired: false,
        }
    }
}
