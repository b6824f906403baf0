//! Input the database cannot store and dependencies that do not answer: always the JSON error
//! body with a 4xx (the caller's fault) or a 503 with `Retry-After` (ours, worth retrying), never
//! a 500.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{json_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn control_characters_in_the_search_and_category_filters_are_a_422_naming_the_field() {
    let app = spawn_app().await;

    for (query, field) in [
        ("q=blue%00train", "q"),
        ("category=Rec%00ords", "category"),
        ("q=%1B%5B31m", "q"),
        ("category=%07", "category"),
    ] {
        let (status, body) = json_of(app.get(&format!("/api/products?{query}")).await).await;

        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed", "{query}");
        assert!(body["error"]["fields"][field].is_array(), "{query}: {body}");
    }
}

#[tokio::test]
async fn control_characters_in_a_listing_are_a_422_and_nothing_is_written() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let listing = app.listing(&alice, json!({})).await;
    let id = listing["id"].as_str().unwrap();

    for (field, value) in [
        ("name", "Blue\u{0}Train"),
        ("description", "side A\u{0}side B"),
        ("category", "Rec\u{1b}ords"),
        ("name", "bell\u{7}"),
    ] {
        let mut body = json!({"name": "A", "category": "Records", "price": "1.00", "stock": 1});
        body[field] = json!(value);
        let (status, created) = json_of(app.post_product(Some(&alice), &body).await).await;
        assert_eq!(status, 422, "create with {field}={value:?}: {created}");
        assert!(created["error"]["fields"][field].is_array(), "{created}");

        let (status, updated) = json_of(
            app.patch_product(Some(&alice), id, None, &json!({ field: value }))
                .await,
        )
        .await;
        assert_eq!(status, 422, "update with {field}={value:?}: {updated}");
        assert!(updated["error"]["fields"][field].is_array(), "{updated}");
    }

    app.assert_only_listing_unchanged(id).await;
}

#[tokio::test]
async fn a_description_keeps_its_line_breaks_and_tabs() {
    let app = spawn_app().await;
    let alice = app.user("alice");

    let listing = app
        .listing(
            &alice,
            json!({"description": "Side A:\n\t1. So What\r\n\t2. Freddie"}),
        )
        .await;

    assert_eq!(
        listing["description"],
        "Side A:\n\t1. So What\r\n\t2. Freddie"
    );
}

#[tokio::test]
async fn an_exhausted_database_pool_is_a_503_with_retry_after_and_the_json_body() {
    let app = spawn_app_with(|settings| settings.database_max_connections = 2).await;
    // Hold every connection of the service's own pool (the consumer and the relay borrow them
    // too: keep taking until none comes free for a while), so its next query waits out the
    // acquire timeout.
    let mut held = Vec::new();
    while let Ok(Ok(connection)) =
        tokio::time::timeout(Duration::from_secs(2), app.pool.acquire()).await
    {
        held.push(connection);
    }
    assert!(!held.is_empty(), "no connection could be taken");
    // And keep queueing first for any that comes free later (the pool serves waiters in order).
    let hoarder = tokio::spawn({
        let pool = app.pool.clone();
        async move {
            let mut more = Vec::new();
            loop {
                if let Ok(connection) = pool.acquire().await {
                    more.push(connection);
                }
            }
        }
    });
    let response = app.get("/api/products/categories").await;
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, body) = json_of(response).await;
    hoarder.abort();
    drop(held);

    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(retry_after.is_some(), "no Retry-After");
}
