//! Placing, listing, showing and cancelling orders: thin handlers that parse the request, call
//! one use case and map its answer to the response DTO.

use auth_kit::AuthUser;
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use web_kit::{ErrorBody, Json, Path, Query, RequestId};

use crate::{
    db::orders::{ItemRow, OrderRow},
    domain::{Actor, NewOrderLines, OrderId, OrderStatus, UserId},
    error::ApiError,
    live::Live,
    placements::Placements,
    usecases::{
        cancel_order::cancel_order,
        list_orders::{OrderQuery, list_orders},
        place_order::{self, PlaceOrder, Placed},
        show_order::{OrderDetails, show_order},
    },
};

/// The header that makes `POST /api/orders` safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The OpenAPI tag of these routes.
pub const TAG: &str = "orders";

/// An order as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Order)]
pub struct OrderView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub status: OrderStatus,
    pub items: Vec<ItemView>,
    /// A decimal string.
    #[schema(example = "49.98")]
    pub total: Decimal,
    /// Why it was rejected, cancelled or expired.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// End of the reservation window (CONFIRMED orders).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(required = true)]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Every status change, oldest first (one order's view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryView>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrderItem)]
pub struct ItemView {
    pub product_id: Uuid,
    pub name: String,
    pub unit_price: Decimal,
    pub quantity: i32,
    pub line_total: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = StatusChange)]
pub struct HistoryView {
    /// The status before (none for the first entry); the rows hold only statuses the service
    /// wrote, so the document gives them the status type.
    #[schema(required = true, value_type = Option<OrderStatus>)]
    pub from: Option<String>,
    #[schema(value_type = OrderStatus)]
    pub status: String,
    #[schema(required = true)]
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl OrderView {
    pub fn new(
        OrderDetails {
            order,
            items,
            history,
        }: OrderDetails,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            status: order.status()?,
            id: order.id,
            user_id: order.user_id,
            items: items
                .into_iter()
                .map(|item| ItemView {
                    line_total: item.unit_price * Decimal::from(item.quantity),
                    product_id: item.product_id,
                    name: item.name,
                    unit_price: item.unit_price,
                    quantity: item.quantity,
                })
                .collect(),
            total: order.total,
            reason: order.reason,
            expires_at: order.expires_at,
            created_at: order.created_at,
            updated_at: order.updated_at,
            history: history.map(|rows| {
                rows.into_iter()
                    .map(|row| HistoryView {
                        from: row.from_status,
                        status: row.to_status,
                        reason: row.reason,
                        at: row.changed_at,
                    })
                    .collect()
            }),
        })
    }
}

/// The caller as the use cases see it.
pub fn actor(user: &AuthUser) -> Actor {
    Actor {
        user_id: UserId::from(user.id),
        is_admin: user.is_admin(),
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewOrder)]
pub struct PlaceOrderRequest {
    /// 1 to 50 lines, each product once.
    items: Vec<LineRequest>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewOrderLine)]
pub struct LineRequest {
    product_id: Uuid,
    /// 1 to 100.
    #[schema(example = 1)]
    quantity: i64,
}

/// `POST /api/orders` -> 201 the PENDING order.
#[utoipa::path(
    post,
    path = "/api/orders",
    tag = TAG,
    operation_id = "place_order",
    summary = "Place an order (PENDING until the stock answers)",
    params(("Idempotency-Key" = Option<String>, Header, description = "1-200 visible ASCII characters: a retry with the same key and body gets the first answer (`idempotent-replayed: true`).")),
    request_body = PlaceOrderRequest,
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The PENDING order.", body = OrderView,
            links(
                ("GetOrder" = (operation_id = "get_order", parameters(("id" = "$response.body#/id")))),
                ("CancelOrder" = (operation_id = "cancel_order", parameters(("id" = "$response.body#/id")))),
                ("PayOrder" = (operation_id = "pay_order", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 409, description = "Too many orders PENDING or CONFIRMED (`too_many_open_orders`), or a request with this Idempotency-Key is still in progress (`invalid_state`).", body = ErrorBody),
        (status = 429, description = "Too many orders placed in a short time (`rate_limited`).", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 422, description = "A line is invalid (`validation_failed`), a product is not for sale (`product_unavailable`) or your own (`own_product`), the Idempotency-Key is malformed (`invalid_idempotency_key`) or was used for another order (`idempotency_key_reused`), or the body does not fit the schema (`invalid_body`).", body = ErrorBody),
    ),
)]
pub async fn place(
    user: AuthUser,
    State(pool): State<PgPool>,
    State(placements): State<Placements>,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    Json(request): Json<PlaceOrderRequest>,
) -> Result<Response, ApiError> {
    let pairs: Vec<(Uuid, i64)> = request
        .items
        .iter()
        .map(|line| (line.product_id, line.quantity))
        .collect();
    let lines = NewOrderLines::parse(&pairs).map_err(|error| ApiError::Validation(error.0))?;
    let idempotency =
        idempotency_key(&headers)?.map(|key| (key.to_owned(), request_hash(&request)));
    let order = PlaceOrder {
        buyer: user.id,
        lines,
        idempotency,
        correlation_id: request_id,
    };
    let response = match place_order::spawn(pool, placements, order, render_placed).await? {
        Placed::New(body) => (StatusCode::CREATED, Json(body)).into_response(),
        Placed::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
            let mut response = (status, Json(body)).into_response();
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
    };
    Ok(response)
}

/// The body of `201 Created`: the order as just written.
fn render_placed(order: OrderRow, items: Vec<ItemRow>) -> Result<serde_json::Value, ApiError> {
    let view = OrderView::new(OrderDetails {
        order,
        items,
        history: None,
    })?;
    Ok(serde_json::to_value(&view).map_err(anyhow::Error::from)?)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if !key.is_empty() && key.len() <= 200 => Ok(Some(key)),
        _ => Err(ApiError::unprocessable(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 200 visible ASCII characters",
        )),
    }
}

fn request_hash(request: &PlaceOrderRequest) -> String {
    let canonical = serde_json::to_vec(request).unwrap_or_default();
    Sha256::digest(&canonical)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only orders in this status.
    status: Option<OrderStatus>,
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<u32>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
    /// Everyone's orders (administrators only).
    #[serde(default)]
    all: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderPage)]
pub struct Page {
    items: Vec<OrderView>,
    page: u32,
    per_page: u32,
    total: i64,
}

/// `GET /api/orders` -> the caller's orders (everyone's for an admin with `?all=true`), newest
/// first.
#[utoipa::path(
    get,
    path = "/api/orders",
    tag = TAG,
    operation_id = "list_orders",
    summary = "The caller's orders, newest first",
    params(ListQuery),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of orders (without their history).", body = Page),
        (status = 403, description = "`all=true` from someone not an administrator (`forbidden`).", body = ErrorBody),
    ),
)]
pub async fn list(
    user: AuthUser,
    State(pool): State<PgPool>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    let page = query.page.unwrap_or(1).max(1);
    let per_page = query.per_page.unwrap_or(20).clamp(1, 100);
    let asked = OrderQuery {
        all: query.all,
        status: query.status,
        page,
        per_page,
    };
    let listed = list_orders(&pool, actor(&user), asked).await?;
    let total = listed.total;
    let items = listed
        .orders
        .into_iter()
        .map(OrderView::new)
        .collect::<Result<_, _>>()?;
    Ok(Json(Page {
        items,
        page,
        per_page,
        total,
    }))
}

/// `GET /api/orders/{id}` -> the order with its history.
#[utoipa::path(
    get,
    path = "/api/orders/{id}",
    tag = TAG,
    operation_id = "get_order",
    summary = "One order with its history (its buyer or an administrator)",
    params(("id" = Uuid, Path, description = "The order's id."),),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The order with `history`.", body = OrderView),
        (status = 404, description = "No such order, or not yours (`order_not_found`).", body = ErrorBody),
    ),
)]
pub async fn show(
    user: AuthUser,
    State(pool): State<PgPool>,
    Path(order_id): Path<Uuid>,
) -> Result<Json<OrderView>, ApiError> {
    let order = show_order(&pool, actor(&user), OrderId::from(order_id)).await?;
    Ok(Json(OrderView::new(order)?))
}

/// `POST /api/orders/{id}/cancel` -> 200 the CANCELLED order, or 409. The buyer (or an admin)
/// may cancel a PENDING or CONFIRMED order; racing transitions are retried on the new status.
#[utoipa::path(
    post,
    path = "/api/orders/{id}/cancel",
    tag = TAG,
    operation_id = "cancel_order",
    summary = "Cancel a PENDING or CONFIRMED order (its buyer or an administrator)",
    params(("id" = Uuid, Path, description = "The order's id."),),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The CANCELLED order with `history`.", body = OrderView),
        (status = 404, description = "No such order, or not yours (`order_not_found`).", body = ErrorBody),
        (status = 409, description = "The order can no longer be cancelled (`invalid_state`).", body = ErrorBody),
    ),
)]
pub async fn cancel(
    user: AuthUser,
    State(pool): State<PgPool>,
    State(live): State<Live>,
    RequestId(request_id): RequestId,
    Path(order_id): Path<Uuid>,
) -> Result<Json<OrderView>, ApiError> {
    let order_id = OrderId::from(order_id);
    let cancelled = cancel_order(&pool, &live, actor(&user), order_id, &request_id).await?;
    Ok(Json(OrderView::new(cancelled)?))
}
