//! Which event a transition publishes, and its outbox envelope: the use cases write it in the
//! transaction of the transition itself.

use sqlx::PgConnection;
use stream_lib::Envelope;
use uuid::Uuid;

use super::{OUTBOX, OrderCancelled, OrderExpired, OrderPaid};
use crate::domain::{OrderStatus, TIMEOUT_REASON, Transition};

/// The event a transition publishes, if any: leaving CONFIRMED for CANCELLED or EXPIRED releases
/// the stock, PAID sells it; a PENDING order that is cancelled or times out also publishes
/// `order.cancelled`, so a reservation made meanwhile is released whichever message arrives
/// first. A rejection by the inventory publishes nothing (the inventory made it).
pub fn event_for(transition: &Transition) -> Option<TransitionEvent> {
    use OrderStatus::*;
    match (transition.from, transition.to) {
        (Confirmed, Paid) => Some(TransitionEvent::Paid),
        (Confirmed, Expired) => Some(TransitionEvent::Expired),
        (Confirmed | Pending, Cancelled) => Some(TransitionEvent::Cancelled),
        (Pending, Rejected) if transition.reason.as_deref() == Some(TIMEOUT_REASON) => {
            Some(TransitionEvent::Cancelled)
        }
        _ => None,
    }
}

/// Which event a transition publishes; each names only the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionEvent {
    Cancelled,
    Expired,
    Paid,
}

impl TransitionEvent {
    /// The event's `type` string.
    pub fn event_type(self) -> &'static str {
        use stream_lib::Event;
        match self {
            Self::Cancelled => OrderCancelled::TYPE,
            Self::Expired => OrderExpired::TYPE,
            Self::Paid => OrderPaid::TYPE,
        }
    }

    /// The outbox envelope of this event about `order_id`, to write with others in one
    /// statement (`Outbox::enqueue_envelopes`).
    pub fn envelope(self, order_id: Uuid, correlation_id: &str) -> Result<Envelope, sqlx::Error> {
        match self {
            Self::Cancelled => OUTBOX.envelope(correlation_id, &OrderCancelled { order_id }),
            Self::Expired => OUTBOX.envelope(correlation_id, &OrderExpired { order_id }),
            Self::Paid => OUTBOX.envelope(correlation_id, &OrderPaid { order_id }),
        }
    }

    /// Writes the event about `order_id` to the outbox, inside the caller's transaction.
    pub async fn publish(
        self,
        connection: &mut PgConnection,
        order_id: Uuid,
        correlation_id: &str,
    ) -> Result<(), sqlx::Error> {
        let envelope = self.envelope(order_id, correlation_id)?;
        OUTBOX
            .enqueue_envelopes(connection, std::slice::from_ref(&envelope))
            .await
    }
}

#[cfg(test)]
mod tests {
    use stream_lib::Event;

    use super::*;
    use OrderStatus::*;

    fn event(from: OrderStatus, to: OrderStatus, reason: Option<&str>) -> Option<&'static str> {
        event_for(&Transition {
            reason: reason.map(str::to_owned),
            ..Transition::new(from, to)
        })
        .map(TransitionEvent::event_type)
    }

    #[test]
    fn each_transition_publishes_the_documented_event() {
        assert_eq!(event(Pending, Confirmed, None), None);
        assert_eq!(event(Pending, Rejected, Some("out_of_stock")), None);
        assert_eq!(
            event(Pending, Rejected, Some(TIMEOUT_REASON)),
            Some(OrderCancelled::TYPE)
        );
        assert_eq!(event(Pending, Cancelled, None), Some(OrderCancelled::TYPE));
        assert_eq!(
            event(Confirmed, Cancelled, None),
            Some(OrderCancelled::TYPE)
        );
        assert_eq!(event(Confirmed, Expired, None), Some(OrderExpired::TYPE));
        assert_eq!(event(Confirmed, Paid, None), Some(OrderPaid::TYPE));
    }
}
