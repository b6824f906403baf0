//! Placing, listing, showing and cancelling orders.

use std::collections::HashMap;

use auth_kit::AuthUser;
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;
use web_kit::{Json, Path, Query, RequestId};

use crate::{
    db::{
        catalog,
        idempotency::{self, Claim},
        orders::{self, HistoryRow, ItemRow, NewItem, OrderRow, Transition},
    },
    domain::{NewOrderLines, OrderStatus},
    error::ApiError,
    live::Live,
    placements::Placements,
};

/// The header that makes `POST /api/orders` safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// An order as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub status: OrderStatus,
    pub items: Vec<ItemView>,
    pub total: Decimal,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryView>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub product_id: Uuid,
    pub name: String,
    pub unit_price: Decimal,
    pub quantity: i32,
    pub line_total: Decimal,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryView {
    pub from: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl OrderView {
    fn new(
        order: OrderRow,
        items: Vec<ItemRow>,
        history: Option<Vec<HistoryRow>>,
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

/// Loads an order with its items (and history), as its buyer or an admin sees it.
pub async fn view(
    connection: &mut PgConnection,
    order: OrderRow,
    with_history: bool,
) -> Result<OrderView, ApiError> {
    let items = orders::items(connection, &[order.id]).await?;
    let history = if with_history {
        Some(orders::history(connection, order.id).await?)
    } else {
        None
    };
    OrderView::new(order, items, history)
}

/// The order if `user` may see it (its buyer or an admin); anyone else gets the same 404 as for
/// an order that does not exist.
pub async fn visible(
    connection: &mut PgConnection,
    user: &AuthUser,
    order_id: Uuid,
) -> Result<OrderRow, ApiError> {
    match orders::find(connection, order_id).await? {
        Some(order) if order.user_id == user.id || user.is_admin() => Ok(order),
        _ => Err(ApiError::OrderNotFound),
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    items: Vec<LineRequest>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    product_id: Uuid,
    quantity: i64,
}

/// `POST /api/orders` -> 201 the PENDING order.
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
    let key = idempotency_key(&headers)?;
    let fingerprint = request_hash(&request);
    placements.take(user.id).await?;

    let mut tx = pool.begin().await?;
    if let Some(key) = key
        && let Claim::Seen {
            request_hash,
            response,
        } = idempotency::claim(&mut tx, user.id, key, &fingerprint).await?
    {
        tx.rollback().await?;
        if request_hash != fingerprint {
            return Err(ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different order",
            ));
        }
        let Some((status, body)) = response else {
            return Err(ApiError::Conflict(
                "a request with this Idempotency-Key is still in progress".into(),
            ));
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
        let mut response = (status, Json(body)).into_response();
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(response);
    }

    let items = price_lines(&mut tx, &user, &lines).await?;
    let max_open = placements.max_open_orders();
    let Some(order) = orders::insert(&mut tx, user.id, &items, &request_id, max_open).await? else {
        tx.rollback().await?;
        return Err(ApiError::TooManyOpenOrders(max_open));
    };
    tracing::info!(order_id = %order.id, lines = items.len(), "order placed");
    let view = view(&mut tx, order, false).await?;
    let body = serde_json::to_value(&view).map_err(anyhow::Error::from)?;
    if let Some(key) = key {
        idempotency::complete(&mut tx, user.id, key, StatusCode::CREATED.as_u16(), &body).await?;
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
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

/// Names and prices every line from the catalog copy; unknown, deleted or own products -> 422.
async fn price_lines(
    connection: &mut PgConnection,
    user: &AuthUser,
    lines: &NewOrderLines,
) -> Result<Vec<NewItem>, ApiError> {
    let products: HashMap<Uuid, catalog::CatalogProduct> =
        catalog::find(connection, &lines.product_ids())
            .await?
            .into_iter()
            .map(|product| (product.product_id, product))
            .collect();
    let mut items = Vec::new();
    let mut unavailable = std::collections::BTreeMap::new();
    let mut own = std::collections::BTreeMap::new();
    for (index, (product_id, quantity)) in lines.lines().iter().enumerate() {
        let field = format!("items[{index}].product_id");
        match products.get(product_id) {
            Some(catalog::CatalogProduct {
                deleted: false,
                name: Some(name),
                price: Some(price),
                seller_id,
                ..
            }) => {
                if *seller_id == Some(user.id) {
                    own.insert(field, vec!["is your own listing".to_owned()]);
                }
                items.push(NewItem {
                    product_id: *product_id,
                    name: name.clone(),
                    unit_price: *price,
                    quantity: quantity.get(),
                });
            }
            _ => {
                unavailable.insert(field, vec!["is not for sale".to_owned()]);
            }
        }
    }
    if !unavailable.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "product_unavailable",
            message: "some products do not exist or are no longer for sale".into(),
            fields: Some(unavailable),
        });
    }
    if !own.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "own_product",
            message: "you cannot buy your own listing".into(),
            fields: Some(own),
        });
    }
    Ok(items)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<OrderStatus>,
    page: Option<u32>,
    per_page: Option<u32>,
    #[serde(default)]
    all: bool,
}

#[derive(Debug, Serialize)]
pub struct Page {
    items: Vec<OrderView>,
    page: u32,
    per_page: u32,
    total: i64,
}

/// `GET /api/orders` -> the caller's orders (everyone's for an admin with `?all=true`), newest
/// first.
pub async fn list(
    user: AuthUser,
    State(pool): State<PgPool>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    if query.all && !user.is_admin() {
        return Err(ApiError::Forbidden(
            "only administrators may list every order",
        ));
    }
    let page = query.page.unwrap_or(1).max(1);
    let per_page = query.per_page.unwrap_or(20).clamp(1, 100);
    let owner = (!query.all).then_some(user.id);
    let mut connection = pool.acquire().await?;
    let (rows, total) = orders::list(
        &mut connection,
        owner,
        query.status,
        i64::from(per_page),
        i64::from(page - 1) * i64::from(per_page),
    )
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut items_by_order: HashMap<Uuid, Vec<ItemRow>> = HashMap::new();
    for item in orders::items(&mut connection, &ids).await? {
        items_by_order.entry(item.order_id).or_default().push(item);
    }
    let items = rows
        .into_iter()
        .map(|row| {
            let items = items_by_order.remove(&row.id).unwrap_or_default();
            OrderView::new(row, items, None)
        })
        .collect::<Result<_, _>>()?;
    Ok(Json(Page {
        items,
        page,
        per_page,
        total,
    }))
}

/// `GET /api/orders/{id}` -> the order with its history.
pub async fn show(
    user: AuthUser,
    State(pool): State<PgPool>,
    Path(order_id): Path<Uuid>,
) -> Result<Json<OrderView>, ApiError> {
    let mut connection = pool.acquire().await?;
    let order = visible(&mut connection, &user, order_id).await?;
    Ok(Json(view(&mut connection, order, true).await?))
}

/// `POST /api/orders/{id}/cancel` -> 200 the CANCELLED order, or 409. The buyer (or an admin)
/// may cancel a PENDING or CONFIRMED order; racing transitions are retried on the new status.
pub async fn cancel(
    user: AuthUser,
    State(pool): State<PgPool>,
    State(live): State<Live>,
    RequestId(request_id): RequestId,
    Path(order_id): Path<Uuid>,
) -> Result<Json<OrderView>, ApiError> {
    let mut tx = pool.begin().await?;
    let mut current = visible(&mut tx, &user, order_id).await?;
    // Each failed compare-and-set means another transition committed; at most a couple happen.
    for _ in 0..5 {
        let status = current.status()?;
        if !status.is_cancellable() {
            return Err(ApiError::Conflict(format!(
                "a {status} order can no longer be cancelled"
            )));
        }
        let transition = Transition::new(status, OrderStatus::Cancelled);
        if let Some(order) = orders::transition(&mut tx, order_id, &transition, &request_id).await?
        {
            let change = order.to_change()?;
            let view = view(&mut tx, order, true).await?;
            tx.commit().await?;
            tracing::info!(%order_id, from = %status, "order cancelled");
            live.publish(&[change]).await;
            return Ok(Json(view));
        }
        current = orders::find(&mut tx, order_id)
            .await?
            .ok_or(ApiError::OrderNotFound)?;
    }
    Err(ApiError::Conflict(
        "the order is changing; try again".into(),
    ))
}
