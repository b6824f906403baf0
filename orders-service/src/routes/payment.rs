//! `POST /api/orders/{id}/pay`: the demo payment ([`crate::usecases::pay_order`]). The card is
//! handed to the use case, charged by the demo gateway and forgotten: never stored, never logged
//! (the request type has no derived `Debug`).

use std::fmt;

use auth_kit::AuthUser;
use axum::extract::State;
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;
use web_kit::{ErrorBody, Json, Path, RequestId};

use crate::{
    domain::OrderId,
    error::ApiError,
    live::Live,
    routes::orders::{OrderView, actor},
    usecases::pay_order::{CardForm, pay_order},
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
    let card = CardForm {
        number: request.card_number,
        expiry: request.expiry,
        cvc: request.cvc,
    };
    let order_id = OrderId::from(order_id);
    let paid = pay_order(&pool, &live, actor(&user), order_id, card, &request_id).await?;
    Ok(Json(OrderView::new(paid)?))
}
