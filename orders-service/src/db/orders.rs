//! Orders, their lines and history; every transition is a compare-and-set recorded in the
//! history, with the event it causes written to the outbox in the same transaction.

use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    domain::OrderStatus,
    events::{self, OrderCancelled, OrderExpired, OrderPaid},
    live::StatusChange,
};

/// An `orders` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub status: String,
    pub total: Decimal,
    pub reason: Option<String>,
    pub expires_at: Option<OffsetDateTime>,
    pub version: i32,
    pub correlation_id: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl OrderRow {
    /// The status; an unknown string in the database is a bug, reported as a decode error.
    pub fn status(&self) -> Result<OrderStatus, sqlx::Error> {
        self.status
            .parse()
            .map_err(|error| sqlx::Error::Decode(Box::new(error)))
    }

    pub fn to_change(&self) -> Result<StatusChange, sqlx::Error> {
        Ok(StatusChange {
            order_id: self.id,
            user_id: self.user_id,
            status: self.status()?,
            reason: self.reason.clone(),
            expires_at: self.expires_at,
            updated_at: self.updated_at,
            version: self.version,
            total: self.total,
        })
    }
}

const ORDER_COLUMNS: &str = "id, user_id, status, total, reason, expires_at, version, \
                             correlation_id, created_at, updated_at";

/// An `order_items` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub order_id: Uuid,
    pub product_id: Uuid,
    pub name: String,
    pub unit_price: Decimal,
    pub quantity: i32,
}

/// An `order_status_history` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub changed_at: OffsetDateTime,
}

async fn record_history(
    connection: &mut PgConnection,
    order_id: Uuid,
    from: Option<OrderStatus>,
    to: OrderStatus,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_status_history (order_id, from_status, to_status, reason)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(order_id)
    .bind(from.map(OrderStatus::as_str))
    .bind(to.as_str())
    .bind(reason)
    .execute(connection)
    .await?;
    Ok(())
}

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
    pub fn envelope(
        self,
        order_id: Uuid,
        correlation_id: &str,
    ) -> Result<stream_lib::Envelope, sqlx::Error> {
        let outbox = events::OUTBOX;
        match self {
            Self::Cancelled => outbox.envelope(correlation_id, &OrderCancelled { order_id }),
            Self::Expired => outbox.envelope(correlation_id, &OrderExpired { order_id }),
            Self::Paid => outbox.envelope(correlation_id, &OrderPaid { order_id }),
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
        events::OUTBOX
            .enqueue_envelopes(connection, std::slice::from_ref(&envelope))
            .await
    }
}

/// The reason of a PENDING order rejected because the inventory never answered.
pub const TIMEOUT_REASON: &str = "timeout";

/// Compare-and-set: moves `order_id` from `transition.from` to `transition.to` if it is still in
/// `from`, records the history row and writes the implied event, all in the caller's
/// transaction. `None` when the order was not in `from` (another transition won): a no-op.
pub async fn transition(
    connection: &mut PgConnection,
    order_id: Uuid,
    transition: &Transition,
    correlation_id: &str,
) -> Result<Option<OrderRow>, sqlx::Error> {
    debug_assert!(transition.from.can_become(transition.to));
    let updated: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE orders SET
             status = $3,
             reason = COALESCE($4, reason),
             expires_at = CASE WHEN $5::float8 IS NULL THEN expires_at
                               ELSE clock_timestamp() + make_interval(secs => $5::float8) END,
             version = version + 1,
             updated_at = clock_timestamp()
         WHERE id = $1 AND status = $2 AND (NOT $6 OR expires_at > clock_timestamp())
         RETURNING {ORDER_COLUMNS}"
    )))
    .bind(order_id)
    .bind(transition.from.as_str())
    .bind(transition.to.as_str())
    .bind(transition.reason.as_deref())
    .bind(transition.expires_in.map(|ttl| ttl.as_secs_f64()))
    .bind(transition.require_unexpired)
    .fetch_optional(&mut *connection)
    .await?;
    let Some(order) = updated else {
        return Ok(None);
    };
    // Counted when the compare-and-set wins (like orders_placed_total, before the caller's commit).
    metrics::counter!(
        "orders_transitions_total",
        "from" => transition.from.as_str(),
        "to" => transition.to.as_str(),
    )
    .increment(1);
    record_history(
        connection,
        order_id,
        Some(transition.from),
        transition.to,
        transition.reason.as_deref(),
    )
    .await?;
    if let Some(event) = event_for(transition) {
        event.publish(connection, order_id, correlation_id).await?;
    }
    Ok(Some(order))
}

/// One order.
pub async fn find(
    connection: &mut PgConnection,
    order_id: Uuid,
) -> Result<Option<OrderRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"
    )))
    .bind(order_id)
    .fetch_optional(connection)
    .await
}

/// The lines of these orders, in order.
pub async fn items(
    connection: &mut PgConnection,
    order_ids: &[Uuid],
) -> Result<Vec<ItemRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT order_id, product_id, name, unit_price, quantity FROM order_items
         WHERE order_id = ANY($1) ORDER BY order_id, position",
    )
    .bind(order_ids)
    .fetch_all(connection)
    .await
}

/// The history of one order, oldest first.
pub async fn history(
    connection: &mut PgConnection,
    order_id: Uuid,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT from_status, to_status, reason, changed_at FROM order_status_history
         WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(connection)
    .await
}

/// A page of orders, newest first: one user's (`user_id`) or everyone's (`None`).
pub async fn list(
    connection: &mut PgConnection,
    user_id: Option<Uuid>,
    status: Option<OrderStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrderRow>, i64), sqlx::Error> {
    let status = status.map(OrderStatus::as_str);
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders
         WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2::text IS NULL OR status = $2)
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(user_id)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *connection)
    .await?;
    let (total,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM orders
         WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2::text IS NULL OR status = $2)",
    )
    .bind(user_id)
    .bind(status)
    .fetch_one(connection)
    .await?;
    Ok((rows, total))
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
