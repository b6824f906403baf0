//! Set-based writes of the inventory consumer: a run of the inventory's answers moves its
//! orders with one statement (compare-and-set, history), whatever the run's length.

use std::{collections::HashMap, time::Duration};

use sqlx::PgConnection;
use uuid::Uuid;

use crate::{db::orders::OrderRow, domain::OrderStatus};

/// Moves every order of `moves` (distinct ids, each with its reason or `None`) that is still in
/// `from` to `to`, with a reservation window of `expires_in` when given, and records their
/// history rows; returns the moved orders. An order no longer in `from` is left alone (another
/// transition won), as [`super::orders::transition`] does for one order.
pub async fn move_orders(
    connection: &mut PgConnection,
    from: OrderStatus,
    to: OrderStatus,
    moves: &[(Uuid, Option<&str>)],
    expires_in: Option<Duration>,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    debug_assert!(from.can_become(to));
    let ids: Vec<Uuid> = moves.iter().map(|(id, _)| *id).collect();
    let reasons: Vec<Option<&str>> = moves.iter().map(|(_, reason)| *reason).collect();
    let moved: Vec<OrderRow> = sqlx::query_as(include_str!("sql/move_orders.sql"))
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(&ids)
        .bind(&reasons)
        .bind(expires_in.map(|ttl| ttl.as_secs_f64()))
        .fetch_all(connection)
        .await?;
    if !moved.is_empty() {
        metrics::counter!(
            "orders_transitions_total",
            "from" => from.as_str(),
            "to" => to.as_str(),
        )
        .increment(moved.len() as u64);
    }
    Ok(moved)
}

/// The current status of each of these orders that exists (a statement of its own, so it sees
/// what committed while an earlier statement of the transaction waited).
pub async fn statuses(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, OrderStatus>, sqlx::Error> {
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, status FROM orders WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(connection)
            .await?;
    rows.into_iter()
        .map(|(id, status)| {
            let status = status
                .parse()
                .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
            Ok((id, status))
        })
        .collect()
}
