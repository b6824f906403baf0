//! Cancelling an order: its buyer or an administrator may cancel a PENDING or CONFIRMED order.
//! The transition is a compare-and-set; when another transition commits first, the cancel is
//! tried again on the new status (at most a few times: each retry means another commit).

use sqlx::PgPool;

use super::{
    show_order::{OrderDetails, details, visible_order},
    transition_order::transition_order,
};
use crate::{
    db::orders,
    domain::{Actor, OrderId, OrderStatus, Transition},
    error::ApiError,
    live::Live,
};

/// Cancels `order_id` and tells every replica once it committed; 409 when the order can no
/// longer be cancelled.
#[tracing::instrument(skip_all, fields(order_id = %order_id, user_id = %actor.user_id))]
pub async fn cancel_order(
    pool: &PgPool,
    live: &Live,
    actor: Actor,
    order_id: OrderId,
    correlation_id: &str,
) -> Result<OrderDetails, ApiError> {
    let mut tx = web_kit::db::begin(pool).await?;
    let mut current = visible_order(&mut tx, actor, order_id).await?;
    for _ in 0..5 {
        let status = current.status()?;
        if !status.is_cancellable() {
            return Err(ApiError::Conflict(format!(
                "a {status} order can no longer be cancelled"
            )));
        }
        let transition = Transition::new(status, OrderStatus::Cancelled);
        if let Some(order) =
            transition_order(&mut tx, order_id, &transition, correlation_id).await?
        {
            let change = order.to_change()?;
            let cancelled = details(&mut tx, order, true).await?;
            tx.commit().await?;
            tracing::info!(%order_id, from = %status, "order cancelled");
            live.publish(&[change]).await;
            return Ok(cancelled);
        }
        current = orders::find(&mut tx, order_id)
            .await?
            .ok_or(ApiError::OrderNotFound)?;
    }
    Err(ApiError::Conflict(
        "the order is changing; try again".into(),
    ))
}
