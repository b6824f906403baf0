//! Listing orders, newest first: the caller's own, or everyone's for an administrator who asks.

use std::collections::HashMap;

use sqlx::PgPool;

use super::show_order::OrderDetails;
use crate::{
    db::orders::{self, ItemRow},
    domain::{Actor, OrderId, OrderStatus},
    error::ApiError,
};

/// Which page of which orders.
#[derive(Debug, Clone, Copy)]
pub struct OrderQuery {
    /// Everyone's orders (administrators only).
    pub all: bool,
    pub status: Option<OrderStatus>,
    /// From 1.
    pub page: u32,
    pub per_page: u32,
}

/// A page of orders (without their history) and how many there are in all.
#[derive(Debug, Clone)]
pub struct OrderList {
    pub orders: Vec<OrderDetails>,
    pub total: i64,
}

/// The page `query` asks for; 403 when someone not an administrator asks for everyone's.
#[tracing::instrument(skip_all, fields(user_id = %actor.user_id, all = query.all))]
pub async fn list_orders(
    pool: &PgPool,
    actor: Actor,
    query: OrderQuery,
) -> Result<OrderList, ApiError> {
    if query.all && !actor.is_admin {
        return Err(ApiError::Forbidden(
            "only administrators may list every order",
        ));
    }
    let owner = (!query.all).then_some(actor.user_id);
    let mut connection = pool.acquire().await?;
    let (rows, total) = orders::list(
        &mut connection,
        owner,
        query.status,
        i64::from(query.per_page),
        i64::from(query.page - 1) * i64::from(query.per_page),
    )
    .await?;
    let ids: Vec<OrderId> = rows.iter().map(|row| OrderId::from(row.id)).collect();
    let mut items_by_order: HashMap<OrderId, Vec<ItemRow>> = HashMap::new();
    for item in orders::items(&mut connection, &ids).await? {
        items_by_order
            .entry(OrderId::from(item.order_id))
            .or_default()
            .push(item);
    }
    let orders = rows
        .into_iter()
        .map(|order| OrderDetails {
            items: items_by_order
                .remove(&OrderId::from(order.id))
                .unwrap_or_default(),
            order,
            history: None,
        })
        .collect();
    Ok(OrderList { orders, total })
}
