//! Paying for an order (the demo payment): only its buyer, only while it is CONFIRMED and inside
//! its reservation window. The card is parsed once the caller may pay, charged by the demo
//! gateway and forgotten: never stored, never logged. A payment racing the expiry sweeper or a
//! cancellation has exactly one winner: the compare-and-set.

use std::fmt;

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    show_order::{OrderDetails, details, visible_order},
    transition_order::transition_order,
};
use crate::{
    db::orders,
    domain::{Actor, Card, OrderId, OrderStatus, PaymentOutcome, Transition, UserId},
    error::ApiError,
    live::Live,
};

/// The card as submitted, unparsed (a caller who may not pay learns nothing about it). No
/// derived `Debug`: it never reaches a log.
pub struct CardForm {
    pub number: String,
    pub expiry: String,
    pub cvc: String,
}

impl fmt::Debug for CardForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardForm { .. }")
    }
}

/// Charges `card` for `order_id` and moves the order to PAID: 404 not visible to `actor`, 403
/// not the buyer, 422 an unusable card, 409 not payable now, 402 declined.
#[tracing::instrument(skip_all, fields(order_id = %order_id, user_id = %actor.user_id))]
pub async fn pay_order(
    pool: &PgPool,
    live: &Live,
    actor: Actor,
    order_id: OrderId,
    card: CardForm,
    correlation_id: &str,
) -> Result<OrderDetails, ApiError> {
    let mut tx = web_kit::db::begin(pool).await?;
    let order = visible_order(&mut tx, actor, order_id).await?;
    if UserId::from(order.user_id) != actor.user_id {
        return Err(ApiError::Forbidden("only the buyer may pay for an order"));
    }
    let parsed = Card::parse(
        &card.number,
        &card.expiry,
        &card.cvc,
        OffsetDateTime::now_utc().date(),
    )
    .map_err(|error| ApiError::Validation(error.0))?;
    drop(card);
    let status = order.status()?;
    let window_open = order
        .expires_at
        .is_some_and(|expires_at| expires_at > OffsetDateTime::now_utc());
    if status != OrderStatus::Confirmed || !window_open {
        return Err(not_payable(status));
    }
    if parsed.charge() == PaymentOutcome::Declined {
        tracing::info!(%order_id, "payment declined");
        return Err(ApiError::PaymentDeclined);
    }
    let transition = Transition {
        require_unexpired: true,
        ..Transition::new(OrderStatus::Confirmed, OrderStatus::Paid)
    };
    let Some(paid) = transition_order(&mut tx, order_id, &transition, correlation_id).await? else {
        // The sweeper or a cancellation won the race.
        let status = orders::find(&mut tx, order_id)
            .await?
            .map_or(Ok(status), |order| order.status())?;
        return Err(not_payable(status));
    };
    let change = paid.to_change()?;
    let paid = details(&mut tx, paid, true).await?;
    tx.commit().await?;
    tracing::info!(%order_id, "order paid");
    live.publish(&[change]).await;
    Ok(paid)
}

fn not_payable(status: OrderStatus) -> ApiError {
    match status {
        OrderStatus::Confirmed => ApiError::Conflict("the reservation window has passed".into()),
        OrderStatus::Pending => {
            ApiError::Conflict("the order is not confirmed yet; wait for the stock".into())
        }
        status => ApiError::Conflict(format!("a {status} order cannot be paid")),
    }
}
