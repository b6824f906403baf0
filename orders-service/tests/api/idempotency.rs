use std::time::Duration;

use orders_service::db::idempotency;
use serde_json::{Value, json};
use web_kit::testing::wait_until;

use crate::helpers::{PATIENCE, spawn_app_with};

#[tokio::test]
async fn an_idempotency_key_older_than_its_ttl_is_forgotten_and_places_a_new_order() {
    let app = spawn_app_with(|settings| {
        settings.idempotency_key_ttl = Duration::from_secs(60);
    })
    .await;
    let buyer = app.user();
    let product = app.product(app.user().id, "Tent", "199.00").await;
    let one = json!({"items": [{"product_id": product, "quantity": 1}]});
    for key in ["old", "recent"] {
        let placed = app.place_order_with_key(&buyer, key, &one).await;
        assert_eq!(placed.status(), 201);
    }
    sqlx::query(
        "UPDATE idempotency_keys SET created_at = now() - CASE key
             WHEN 'old' THEN interval '2 minutes' ELSE interval '30 seconds' END",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    wait_until(PATIENCE, "the sweeper deletes the expired key", || async {
        let left = app
            .count("SELECT count(*) FROM idempotency_keys WHERE key = 'old'")
            .await;
        (left == 0).then_some(())
    })
    .await;

    assert_eq!(
        app.count("SELECT count(*) FROM idempotency_keys WHERE key = 'recent'")
            .await,
        1,
        "a key younger than its TTL is kept"
    );
    let two = json!({"items": [{"product_id": product, "quantity": 2}]});
    let again = app.place_order_with_key(&buyer, "old", &two).await;
    assert_eq!(
        again.status(),
        201,
        "an expired key is free for a new order"
    );
    assert!(again.headers().get("idempotent-replayed").is_none());
    let order: Value = again.json().await.unwrap();
    assert_eq!(order["items"][0]["quantity"], 2, "{order}");
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 3);
}

#[tokio::test]
async fn expired_keys_are_deleted_at_most_a_thousand_per_statement() {
    // The service's own sweeper keeps keys for ten days: only the calls below delete any.
    let app = spawn_app_with(|settings| {
        settings.idempotency_key_ttl = Duration::from_secs(10 * 86_400);
    })
    .await;
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
         SELECT gen_random_uuid(), 'k' || n, 'h', now() - interval '2 days'
         FROM generate_series(1, 2500) AS n",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let day = Duration::from_secs(86_400);

    let mut deleted = Vec::new();
    loop {
        let batch = idempotency::prune_expired(&app.pool, day).await.unwrap();
        deleted.push(batch);
        if batch == 0 {
            break;
        }
    }

    assert_eq!(deleted, [1000, 1000, 500, 0]);
    assert_eq!(app.count("SELECT count(*) FROM idempotency_keys").await, 0);
}
