//! Showing an order: only its buyer or an administrator sees it (anyone else gets the same 404
//! as for an order that does not exist), with its lines and, for one order, its history.

use sqlx::{PgConnection, PgPool};

use crate::{
    db::orders::{self, HistoryRow, ItemRow, OrderRow},
    domain::{Actor, OrderId, UserId},
    error::ApiError,
    live::StatusChange,
};

/// An order with its lines (and its history, when asked for).
#[derive(Debug, Clone)]
pub struct OrderDetails {
    pub order: OrderRow,
    pub items: Vec<ItemRow>,
    pub history: Option<Vec<HistoryRow>>,
}

/// The order `order_id` with its lines and history, if `actor` may see it.
#[tracing::instrument(skip_all, fields(order_id = %order_id, user_id = %actor.user_id))]
pub async fn show_order(
    pool: &PgPool,
    actor: Actor,
    order_id: OrderId,
) -> Result<OrderDetails, ApiError> {
    let mut connection = pool.acquire().await?;
    let order = visible_order(&mut connection, actor, order_id).await?;
    Ok(details(&mut connection, order, true).await?)
}

/// The order `order_id` if `actor` may see it (its buyer or an administrator); 404 otherwise.
pub async fn visible_order(
    connection: &mut PgConnection,
    actor: Actor,
    order_id: OrderId,
) -> Result<OrderRow, ApiError> {
    match orders::find(connection, order_id).await? {
        Some(order) if actor.may_see(UserId::from(order.user_id)) => Ok(order),
        _ => Err(ApiError::OrderNotFound),
    }
}

/// Loads the lines (and the history) of `order`.
pub async fn details(
    connection: &mut PgConnection,
    order: OrderRow,
    with_history: bool,
) -> Result<OrderDetails, sqlx::Error> {
    let id = OrderId::from(order.id);
    let items = orders::items(connection, &[id]).await?;
    let history = if with_history {
        Some(orders::history(connection, id).await?)
    } else {
        None
    };
    Ok(OrderDetails {
        order,
        items,
        history,
    })
}

/// The current status of `order_id` as a live change (for a live view that may have missed
/// some); `None` when it cannot be read now.
pub async fn current_status(pool: &PgPool, order_id: OrderId) -> Option<StatusChange> {
    let mut connection = pool.acquire().await.ok()?;
    let order = orders::find(&mut connection, order_id).await.ok()??;
    order.to_change().ok()
}
