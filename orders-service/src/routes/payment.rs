//! `POST /api/orders/{id}/pay`: the demo payment. The card is parsed, charged by the demo
//! gateway and forgotten: never stored, never logged (the request type has no derived `Debug`).

use std::fmt;

use auth_kit::AuthUser;
use axum::extract::State;
use serde::Deserialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use web_kit::{ErrorBody, Json, Path, RequestId};

use crate::{
    db::orders,
    domain::{Card, OrderStatus, PaymentOutcome, Transition},
    error::ApiError,
    live::Live,
    routes::orders::{OrderView, view, visible},
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Payment)]
pub struct PayRequest {
    /// 12-19 digits passing the Luhn check (spaces allowed); `4000 0000 0000 0002` is declined.
    #[schema(example = "4242 4242 4242 4242")]
    card_number: String,
    /// `MM/YY`, not in the past.
    #[schema(example = "12/30")]
    expiry: String,
    /// 3 or 4 digits.
    #[schema(example = "123")]
    cvc: String,
}

impl fmt::Debug for PayRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PayRequest { .. }")
    }
}

/// 200 the PAID order; 422 for an unusable card; 402 `payment_declined`; 409 unless the order is
/// CONFIRMED and inside its reservation window (a payment racing the expiry sweeper or a
/// cancellation has exactly one winner: the compare-and-set).
#[utoipa::path(
    post,
    path = "/api/orders/{id}/pay",
    tag = crate::routes::orders::TAG,
    operation_id = "pay_order",
    summary = "Pay for a CONFIRMED order inside its reservation window (its buyer)",
    params(("id" = Uuid, Path, description = "The order's id.")),
    request_body = PayRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The PAID order with `history`.", body = OrderView),
        (status = 402, description = "The card was declined (`payment_declined`).", body = ErrorBody),
        (status = 403, description = "Only the buyer may pay (`forbidden`), or a cross-site request (`cross_site_request`).", body = ErrorBody),
        (status = 404, description = "No such order, or not yours (`order_not_found`).", body = ErrorBody),
        (status = 409, description = "The order is not CONFIRMED or its window has passed (`invalid_state`).", body = ErrorBody),
        (status = 422, description = "The card is unusable (`validation_failed`, naming each field), or the body does not fit the schema (`invalid_body`).", body = ErrorBody),
    ),
)]
pub async fn pay(
    user: AuthUser,
    State(pool): State<PgPool>,
    State(live): State<Live>,
    RequestId(request_id): RequestId,
    Path(order_id): Path<Uuid>,
    Json(request): Json<PayRequest>,
) -> Result<Json<OrderView>, ApiError> {
    let mut tx = web_kit::db::begin(&pool).await?;
    let order = visible(&mut tx, &user, order_id).await?;
    if order.user_id != user.id {
        return Err(ApiError::Forbidden("only the buyer may pay for an order"));
    }
    let card = Card::parse(
        &request.card_number,
        &request.expiry,
        &request.cvc,
        OffsetDateTime::now_utc().date(),
    )
    .map_err(|error| ApiError::Validation(error.0))?;
    drop(request);
    let status = order.status()?;
    let window_open = order
        .expires_at
        .is_some_and(|expires_at| expires_at > OffsetDateTime::now_utc());
    if status != OrderStatus::Confirmed || !window_open {
        return Err(not_payable(status));
    }
    if card.charge() == PaymentOutcome::Declined {
        tracing::info!(%order_id, "payment declined");
        return Err(ApiError::PaymentDeclined);
    }
    let transition = Transition {
        require_unexpired: true,
        ..Transition::new(OrderStatus::Confirmed, OrderStatus::Paid)
    };
    let Some(paid) = orders::transition(&mut tx, order_id, &transition, &request_id).await? else {
        // The sweeper or a cancellation won the race.
        let status = orders::find(&mut tx, order_id)
            .await?
            .map_or(Ok(status), |order| order.status())?;
        return Err(not_payable(status));
    };
    let change = paid.to_change()?;
    let view = view(&mut tx, paid, true).await?;
    tx.commit().await?;
    tracing::info!(%order_id, "order paid");
    live.publish(&[change]).await;
    Ok(Json(view))
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
