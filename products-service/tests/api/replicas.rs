//! Fresh within 2 s on every replica: an edit, a sale and a deletion made through one replica
//! show in every list and page of another within two seconds of the change, and a deleted
//! listing is never served after that. Each replica keeps its own catalog caches (counts, page
//! starts), so this holds only if those are bounded in time.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, id_of, json_of, spawn_app};

/// The promise: every request made this long after a change sees it.
const FRESH_WITHIN: Duration = Duration::from_secs(2);
/// How long past the bound the check keeps asking, to catch a stale answer coming back.
const KEEP_CHECKING: Duration = Duration::from_millis(1500);

/// Asks `check` every 50 ms from `since` until [`FRESH_WITHIN`] + [`KEEP_CHECKING`] have
/// passed. Fails if a request started after the bound is stale, or if a stale answer follows a
/// fresh one. Judges by when each request was sent, not by how long it took.
async fn fresh_within_two_seconds<F, Fut>(since: Instant, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut fresh_at: Option<Duration> = None;
    loop {
        let age = since.elapsed();
        match check().await {
            Ok(()) => {
                fresh_at.get_or_insert(age);
            }
            Err(stale) => {
                assert!(
                    age < FRESH_WITHIN,
                    "{what}: still stale {age:?} after the change: {stale}"
                );
                assert!(
                    fresh_at.is_none(),
                    "{what}: fresh at {fresh_at:?}, stale again at {age:?}: {stale}"
                );
            }
        }
        if age > FRESH_WITHIN + KEEP_CHECKING {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn body(app: &TestApp, path: &str) -> Value {
    let (status, body) = json_of(app.get(path).await).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn item(page: &Value, id: Uuid) -> Option<&Value> {
    let id = id.to_string();
    page["items"]
        .as_array()?
        .iter()
        .find(|item| item["id"] == id)
}

/// Lists the other replica shows the listing in: the first page, its category, a search.
const PAGES: &[&str] = &[
    "/api/products?per_page=50",
    "/api/products?category=Audio&per_page=50",
    "/api/products?q=turntable&per_page=50",
];

#[tokio::test]
async fn edits_sales_and_deletions_show_on_every_replica_within_two_seconds() {
    let writer = spawn_app().await;
    let reader = writer.replica().await;
    let seller = writer.user("seller");
    for n in 0..30 {
        writer
            .listing(&seller, json!({"name": format!("Record {n}")}))
            .await;
    }
    let watched = id_of(
        &writer
            .listing(
                &seller,
                json!({"name": "Technics turntable", "category": "Audio", "price": "500", "stock": 5}),
            )
            .await,
    );
    let product = format!("/api/products/{watched}");
    // The reader's caches are warm: counts, page starts, the pages themselves.
    for path in PAGES
        .iter()
        .copied()
        .chain(["/api/products?per_page=10&page=2", product.as_str()])
    {
        body(&reader, path).await;
    }
    let total_before = body(&reader, "/api/products?per_page=10").await["total"]
        .as_i64()
        .unwrap();

    // An edit.
    let edited = writer
        .patch_product(
            Some(&seller),
            &watched.to_string(),
            None,
            &json!({"price": "450"}),
        )
        .await;
    assert_eq!(edited.status(), 200);
    let since = Instant::now();
    fresh_within_two_seconds(since, "the new price", || async {
        let shown = body(&reader, &product).await["price"].clone();
        if shown != "450.00" {
            return Err(format!("product page says {shown}"));
        }
        for path in PAGES {
            let price = item(&body(&reader, path).await, watched).map(|item| item["price"].clone());
            if price != Some(json!("450.00")) {
                return Err(format!("{path} says {price:?}"));
            }
        }
        Ok(())
    })
    .await;

    // A sale: the consumer (either replica's) reserves two units.
    let order_id = Uuid::now_v7();
    writer
        .publish_order_event(
            "order.placed",
            json!({"order_id": order_id, "user_id": Uuid::now_v7(),
                   "lines": [{"product_id": watched, "quantity": 2, "unit_price": "450"}]}),
        )
        .await;
    assert_eq!(
        writer.reply_for(order_id).await.event_type,
        "stock.reserved"
    );
    let since = Instant::now();
    fresh_within_two_seconds(since, "the stock after a sale", || async {
        for path in PAGES.iter().copied().chain([product.as_str()]) {
            let page = body(&reader, path).await;
            let stock =
                item(&page, watched).map_or(page["stock"].clone(), |item| item["stock"].clone());
            if stock != 3 {
                return Err(format!("{path} says stock {stock}"));
            }
        }
        Ok(())
    })
    .await;

    // A deletion.
    let deleted = writer
        .delete_product(Some(&seller), &watched.to_string())
        .await;
    assert_eq!(deleted.status(), 204);
    let since = Instant::now();
    fresh_within_two_seconds(since, "the deletion", || async {
        let status = reader.get(&product).await.status();
        if status != 404 {
            return Err(format!("product page answers {status}"));
        }
        for path in PAGES {
            if item(&body(&reader, path).await, watched).is_some() {
                return Err(format!("{path} still lists it"));
            }
        }
        let total = body(&reader, "/api/products?per_page=10").await["total"].clone();
        if total != total_before - 1 {
            return Err(format!("the total is {total}, was {total_before}"));
        }
        let (_, categories) = json_of(reader.get("/api/products?per_page=10").await).await;
        if categories["facets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|facet| facet["name"] == "Audio")
        {
            return Err("the Audio facet still counts it".to_owned());
        }
        Ok(())
    })
    .await;
    reader.stop().await;
    writer.stop().await;
}
