//! Orders, their lines and history; every transition is a compare-and-set recorded in the
//! history. Which event a transition publishes, who may make it and the transaction are the
//! use cases' (`crate::usecases::transition_order`).

use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    domain::{OrderId, OrderStatus, Transition, UserId},
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
    order_id: OrderId,
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

/// Compare-and-set: moves `order_id` from `transition.from` to `transition.to` if it is still in
/// `from` and records the history row, in the caller's transaction. `None` when the order was
/// not in `from` (another transition won): a no-op.
#[tracing::instrument(skip_all, fields(order_id = %order_id, from = %transition.from, to = %transition.to))]
pub async fn transition(
    connection: &mut PgConnection,
    order_id: OrderId,
    transition: &Transition,
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
    Ok(Some(order))
}

/// One order.
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
pub async fn find(
    connection: &mut PgConnection,
    order_id: OrderId,
) -> Result<Option<OrderRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"
    )))
    .bind(order_id)
    .fetch_optional(connection)
    .await
}

/// The lines of these orders, in order.
#[tracing::instrument(skip_all, fields(orders = order_ids.len()))]
pub async fn items(
    connection: &mut PgConnection,
    order_ids: &[OrderId],
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
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
pub async fn history(
    connection: &mut PgConnection,
    order_id: OrderId,
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
#[tracing::instrument(skip_all, fields(user_id = user_id.map(tracing::field::display)))]
pub async fn list(
    connection: &mut PgConnection,
    user_id: Option<UserId>,
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

/// Locks up to `limit` CONFIRMED orders whose reservation window has passed (skipping rows
/// another replica holds), oldest deadline first: their ids and correlation ids.
#[tracing::instrument(skip_all)]
pub async fn lock_expired(
    connection: &mut PgConnection,
    limit: i64,
) -> Result<Vec<(OrderId, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, correlation_id FROM orders
         WHERE status = 'CONFIRMED' AND expires_at <= clock_timestamp()
         ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(connection)
    .await
}

/// Locks up to `limit` orders PENDING for longer than `timeout` (the inventory never answered),
/// skipping rows another replica holds, oldest first: their ids and correlation ids.
#[tracing::instrument(skip_all)]
pub async fn lock_unanswered(
    connection: &mut PgConnection,
    timeout: Duration,
    limit: i64,
) -> Result<Vec<(OrderId, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, correlation_id FROM orders
         WHERE status = 'PENDING'
           AND created_at <= clock_timestamp() - make_interval(secs => $2::float8)
         ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .bind(timeout.as_secs_f64())
    .fetch_all(connection)
    .await
}
