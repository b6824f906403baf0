//! The inventory side of orders, a run of a batch at a time: `order.placed` reserves every
//! line of an order or none, `order.cancelled` / `order.expired` give the units back exactly
//! once, `order.paid` turns the reservation into a sale. Each replies through the outbox in the
//! batch's transaction (one statement for all replies of a run).
//!
//! A run of orders is decided in memory, in stream order, against its listings locked once (in
//! id order): the first order to ask for the last units gets them, a later one is rejected, and
//! an order is all or nothing. One statement then records every decision and takes the units;
//! it never takes more than a locked listing has.

use std::collections::{HashMap, HashSet};

use sqlx::PgConnection;
use stream_lib::HandlerError;
use uuid::Uuid;

use crate::{
    db::stock::{self, LockedListing, Outcome},
    events::{
        publish::{Reply, enqueue_replies},
        published::{OrderLine, RejectionReason, StockRejected, StockReleased, StockReserved},
    },
};

/// An `order.placed` of a run, with the correlation id its reply carries.
#[derive(Debug, Clone)]
pub struct PlacedOrder {
    pub order_id: Uuid,
    pub buyer: Uuid,
    pub lines: Vec<OrderLine>,
    pub correlation_id: String,
}

/// An order a release or a sale is about, with its correlation id.
#[derive(Debug, Clone)]
pub struct OrderRef {
    pub order_id: Uuid,
    pub correlation_id: String,
}

/// What the run decided for one order.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Reserve,
    Reject(RejectionReason, Uuid),
}

/// Reserves or rejects every order of the run (in stream order), with the replies.
pub async fn place_orders(
    tx: &mut PgConnection,
    orders: Vec<PlacedOrder>,
) -> Result<(), HandlerError> {
    let orders = orders
        .into_iter()
        .map(|order| {
            let lines = checked_lines(order.lines)?;
            Ok(PlacedOrder { lines, ..order })
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(HandlerError::permanent)?;
    let mut ids: Vec<Uuid> = orders
        .iter()
        .flat_map(|order| order.lines.iter().map(|line| line.product_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let listings = stock::lock_listings(tx, &ids).await?;
    let order_ids: Vec<Uuid> = orders.iter().map(|order| order.order_id).collect();
    let seen = stock::seen_orders(tx, &order_ids).await?;
    let decided = decide(&orders, &seen, listings);
    if decided.is_empty() {
        return Ok(());
    }
    let rows: Vec<(Uuid, Outcome, &[OrderLine])> = decided
        .iter()
        .map(|(order, decision)| {
            let outcome = match decision {
                Decision::Reserve => Outcome::Reserved,
                Decision::Reject(..) => Outcome::Rejected,
            };
            (order.order_id, outcome, order.lines.as_slice())
        })
        .collect();
    let recorded = stock::record_decisions(tx, &rows).await?;
    if recorded.taken != recorded.wanted {
        // Cannot happen while the listings are locked; never commit a partial reservation.
        return Err(HandlerError::transient(anyhow::anyhow!(
            "{} of {} listings had the units their locked rows showed",
            recorded.taken,
            recorded.wanted
        )));
    }
    let lost = decided.len() - recorded.orders.len();
    let depends_on_others = decided
        .iter()
        .any(|(_, decision)| matches!(decision, Decision::Reject(RejectionReason::OutOfStock, _)));
    if lost > 0 && depends_on_others {
        // Another transaction recorded some of these orders meanwhile: the units they were
        // counted for are free, so a rejection for lack of stock may be wrong. Run them again
        // (one by one) rather than reject an order that could be served.
        return Err(HandlerError::transient(anyhow::anyhow!(
            "{lost} orders of the run were recorded concurrently"
        )));
    }
    let mut replies = Vec::with_capacity(decided.len());
    for (order, decision) in &decided {
        if !recorded.orders.contains(&order.order_id) {
            tracing::info!(order_id = %order.order_id, "order.placed for an order already seen: ignored");
            continue;
        }
        let reply = match *decision {
            Decision::Reserve => {
                tracing::info!(order_id = %order.order_id, "stock reserved");
                Reply::Reserved(StockReserved {
                    order_id: order.order_id,
                    lines: order.lines.clone(),
                })
            }
            Decision::Reject(reason, product_id) => {
                tracing::info!(order_id = %order.order_id, ?reason, "stock rejected");
                Reply::Rejected(StockRejected {
                    order_id: order.order_id,
                    reason,
                    product_id: Some(product_id),
                })
            }
        };
        replies.push((order.correlation_id.as_str(), reply));
    }
    enqueue_replies(tx, &replies).await?;
    Ok(())
}

/// Decides the orders not seen before, in stream order, against the locked listings (each
/// order id once: a second `order.placed` of one order in the run is a redelivery).
pub fn decide<'a>(
    orders: &'a [PlacedOrder],
    seen: &HashSet<Uuid>,
    listings: Vec<LockedListing>,
) -> Vec<(&'a PlacedOrder, Decision)> {
    let mut listings: HashMap<Uuid, LockedListing> = listings
        .into_iter()
        .map(|listing| (listing.id, listing))
        .collect();
    let mut decided_ids = HashSet::new();
    let mut decided = Vec::with_capacity(orders.len());
    for order in orders {
        if seen.contains(&order.order_id) || !decided_ids.insert(order.order_id) {
            tracing::info!(order_id = %order.order_id, "order.placed for an order already seen (reserved, rejected or released before it was placed): ignored");
            continue;
        }
        let refused = order.lines.iter().find_map(|line| {
            refusal(line, order.buyer, listings.get(&line.product_id))
                .map(|reason| (reason, line.product_id))
        });
        let decision = match refused {
            Some((reason, product_id)) => Decision::Reject(reason, product_id),
            None => {
                for line in &order.lines {
                    if let Some(listing) = listings.get_mut(&line.product_id) {
                        listing.stock -= line.quantity;
                    }
                }
                Decision::Reserve
            }
        };
        decided.push((order, decision));
    }
    decided
}

/// Why `line` cannot be taken from its locked listing (what is left of it), if it cannot.
fn refusal(
    line: &OrderLine,
    buyer: Uuid,
    listing: Option<&LockedListing>,
) -> Option<RejectionReason> {
    match listing {
        None => Some(RejectionReason::ProductUnavailable),
        Some(p) if p.deleted => Some(RejectionReason::ProductUnavailable),
        Some(p) if p.seller_id == buyer => Some(RejectionReason::OwnProduct),
        Some(p) if p.price != line.unit_price => Some(RejectionReason::PriceChanged),
        Some(p) if p.stock < line.quantity => Some(RejectionReason::OutOfStock),
        Some(_) => None,
    }
}

/// `order.cancelled` and `order.expired`: gives back what each order holds, with a
/// `stock.released` for each order that held something.
pub async fn release_orders(
    tx: &mut PgConnection,
    orders: Vec<OrderRef>,
) -> Result<(), HandlerError> {
    let ids = distinct(&orders);
    let released = stock::release(tx, &ids).await?;
    let mut replies = Vec::with_capacity(released.len());
    let mut replied = HashSet::new();
    for order in &orders {
        if !released.contains(&order.order_id) {
            tracing::info!(order_id = %order.order_id, "nothing held for this order (never placed, rejected, released or sold)");
        } else if replied.insert(order.order_id) {
            tracing::info!(order_id = %order.order_id, "stock released");
            let reply = Reply::Released(StockReleased {
                order_id: order.order_id,
            });
            replies.push((order.correlation_id.as_str(), reply));
        }
    }
    enqueue_replies(tx, &replies).await?;
    Ok(())
}

/// `order.paid`: the held units are sold.
pub async fn sell_orders(tx: &mut PgConnection, orders: Vec<OrderRef>) -> Result<(), HandlerError> {
    let ids = distinct(&orders);
    let sold = stock::sell(tx, &ids).await?;
    for id in ids.iter().filter(|id| !sold.contains(id)) {
        tracing::warn!(order_id = %id, "order.paid for an order holding no stock");
    }
    Ok(())
}

/// The order ids, each once, in their first order.
fn distinct(orders: &[OrderRef]) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    orders
        .iter()
        .map(|order| order.order_id)
        .filter(|id| seen.insert(*id))
        .collect()
}

/// Lines sorted by product id, each product once with a positive quantity; anything else is a
/// malformed `order.placed` that no retry can fix.
fn checked_lines(mut lines: Vec<OrderLine>) -> anyhow::Result<Vec<OrderLine>> {
    if lines.is_empty() {
        anyhow::bail!("order.placed without lines");
    }
    if let Some(line) = lines.iter().find(|line| line.quantity <= 0) {
        anyhow::bail!(
            "order.placed with quantity {} for {}",
            line.quantity,
            line.product_id
        );
    }
    let distinct: HashSet<Uuid> = lines.iter().map(|line| line.product_id).collect();
    if distinct.len() != lines.len() {
        anyhow::bail!("order.placed lists a product twice");
    }
    lines.sort_by_key(|line| line.product_id);
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    fn listing(stock: i32) -> LockedListing {
        LockedListing {
            id: Uuid::now_v7(),
            seller_id: Uuid::now_v7(),
            price: Decimal::new(500, 2),
            stock,
            deleted: false,
        }
    }

    fn order(lines: &[(&LockedListing, i32)]) -> PlacedOrder {
        PlacedOrder {
            order_id: Uuid::now_v7(),
            buyer: Uuid::now_v7(),
            lines: lines
                .iter()
                .map(|(listing, quantity)| OrderLine {
                    product_id: listing.id,
                    quantity: *quantity,
                    unit_price: listing.price,
                })
                .collect(),
            correlation_id: "test".to_owned(),
        }
    }

    #[test]
    fn the_first_orders_in_stream_order_get_the_last_units_and_an_order_is_all_or_nothing() {
        let (a, b) = (listing(3), listing(1));
        let orders = [
            order(&[(&a, 2)]),
            order(&[(&a, 1), (&b, 2)]),
            order(&[(&a, 1), (&b, 1)]),
            order(&[(&a, 1)]),
        ];

        let decided = decide(&orders, &HashSet::new(), vec![a.clone(), b.clone()]);

        let decisions: Vec<Decision> = decided.into_iter().map(|(_, d)| d).collect();
        assert_eq!(
            decisions,
            [
                Decision::Reserve,
                Decision::Reject(RejectionReason::OutOfStock, b.id),
                Decision::Reserve,
                Decision::Reject(RejectionReason::OutOfStock, a.id),
            ]
        );
    }

    #[test]
    fn an_order_seen_before_or_twice_in_the_run_is_not_decided_again() {
        let a = listing(5);
        let first = order(&[(&a, 1)]);
        let orders = [first.clone(), order(&[(&a, 1)]), first.clone()];
        let seen = HashSet::from([orders[1].order_id]);

        let decided = decide(&orders, &seen, vec![a]);

        assert_eq!(decided.len(), 1);
        assert_eq!(decided[0].0.order_id, first.order_id);
    }
}
