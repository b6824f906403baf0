//! Creating, reading, changing and deleting listings: validation, authorization (anonymous,
//! another user, the owner, an admin), optimistic concurrency, and the `product.*` events.

use serde_json::json;
use uuid::Uuid;

use crate::helpers::{id_of, json_of, spawn_app};

#[tokio::test]
async fn a_signed_in_user_creates_a_listing_and_becomes_its_seller() {
    let app = spawn_app().await;
    let alice = app.user("alice");

    let response = app
        .post_product(
            Some(&alice),
            &json!({
                "name": "  Kind of Blue (LP) ",
                "description": "Miles Davis, 1959",
                "category": "Records",
                "price": 31.5,
                "stock": 3,
                "image_url": "https://img.example.com/kob.jpg"
            }),
        )
        .await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (status, product) = json_of(response).await;

    assert_eq!(status, 201);
    assert_eq!(product["name"], "Kind of Blue (LP)");
    assert_eq!(product["seller_id"], alice.id.to_string());
    assert_eq!(product["seller_name"], alice.username.as_str());
    assert_eq!(product["price"], "31.50");
    assert_eq!(product["stock"], 3);
    assert_eq!(product["version"], 1);
    assert_eq!(product["image_url"], "https://img.example.com/kob.jpg");
    assert_eq!(etag, "\"1\"");
    let (status, fetched) = json_of(
        app.get(&format!(
            "/api/products/{}",
            product["id"].as_str().unwrap()
        ))
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(fetched, product);
    app.stop().await;
}

#[tokio::test]
async fn creating_a_listing_without_signing_in_is_a_401() {
    let app = spawn_app().await;

    let (status, body) = json_of(
        app.post_product(
            None,
            &json!({"name": "x", "category": "y", "price": "1", "stock": 1}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM products")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_listing_is_a_422_naming_every_bad_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let alice = app.user("alice");

    let (status, body) = json_of(
        app.post_product(
            Some(&alice),
            &json!({
                "name": "",
                "description": "x".repeat(5001),
                "category": "c".repeat(51),
                "price": "10.001",
                "stock": -1,
                "image_url": "ftp://example.com/a.jpg"
            }),
        )
        .await,
    )
    .await;

    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "validation_failed");
    for field in [
        "name",
        "description",
        "category",
        "price",
        "stock",
        "image_url",
    ] {
        assert!(
            body["error"]["fields"][field].is_array(),
            "{field} not reported: {body}"
        );
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM products")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    app.stop().await;
}

#[tokio::test]
async fn missing_fields_unknown_fields_and_malformed_json_are_4xx_json_errors() {
    let app = spawn_app().await;
    let alice = app.user("alice");

    let (status, body) = json_of(app.post_product(Some(&alice), &json!({})).await).await;
    assert_eq!(status, 422);
    for field in ["name", "category", "price", "stock"] {
        assert_eq!(body["error"]["fields"][field][0], "is required", "{body}");
    }

    let (status, body) = json_of(
        app.post_product(
            Some(&alice),
            &json!({"name": "x", "category": "y", "price": "1", "stock": 1, "seller_id": Uuid::now_v7()}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_body"))
    );

    let response = app
        .client
        .post(app.url("/api/products"))
        .bearer_auth(&alice.token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );

    let (status, body) = json_of(
        app.post_product(
            Some(&alice),
            &json!({"name": "x", "category": "y", "price": "1,000", "stock": 2.5}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["error"]["fields"]["price"].is_array());
    assert!(body["error"]["fields"]["stock"].is_array());
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_or_malformed_product_id_is_a_404_or_a_400() {
    let app = spawn_app().await;

    let (status, body) = json_of(app.get(&format!("/api/products/{}", Uuid::now_v7())).await).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("product_not_found"))
    );

    let (status, body) = json_of(app.get("/api/products/not-a-uuid").await).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_path"))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_owner_updates_a_listing_and_the_version_moves_on() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let product = app
        .listing(&alice, json!({"image_url": "https://example.com/a.jpg"}))
        .await;
    let id = product["id"].as_str().unwrap();

    let response = app
        .patch_product(
            Some(&alice),
            id,
            Some("\"1\""),
            &json!({"price": "19.90", "stock": 8, "image_url": null}),
        )
        .await;
    assert_eq!(response.headers()["etag"], "\"2\"");
    let (status, updated) = json_of(response).await;

    assert_eq!(status, 200);
    assert_eq!(updated["price"], "19.90");
    assert_eq!(updated["stock"], 8);
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["image_url"], serde_json::Value::Null);
    assert_eq!(updated["name"], product["name"], "untouched fields stay");
    app.stop().await;
}

#[tokio::test]
async fn another_user_cannot_update_or_delete_a_listing_but_an_admin_can() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let mallory = app.user("mallory");
    let admin = app.admin();
    let product = app.listing(&alice, json!({})).await;
    let id = product["id"].as_str().unwrap();

    let (status, body) = json_of(
        app.patch_product(Some(&mallory), id, None, &json!({"price": "0.01"}))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _) = json_of(app.delete_product(Some(&mallory), id).await).await;
    assert_eq!(status, 403);
    let (status, _) = json_of(
        app.patch_product(None, id, None, &json!({"price": "1"}))
            .await,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = json_of(app.delete_product(None, id).await).await;
    assert_eq!(status, 401);
    let (stock, version) = app.stored(id_of(&product)).await;
    assert_eq!((stock, version), (5, 1), "the refusals changed nothing");

    let (status, body) = json_of(
        app.patch_product(Some(&admin), id, None, &json!({"name": "Moderated"}))
            .await,
    )
    .await;
    assert_eq!((status, body["name"].as_str()), (200, Some("Moderated")));
    let (status, _) = json_of(app.delete_product(Some(&admin), id).await).await;
    assert_eq!(status, 204);
    app.stop().await;
}

#[tokio::test]
async fn updating_or_deleting_an_unknown_listing_is_a_404() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let unknown = Uuid::now_v7().to_string();

    let (status, _) = json_of(
        app.patch_product(Some(&alice), &unknown, None, &json!({"stock": 1}))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = json_of(app.delete_product(Some(&alice), &unknown).await).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_stale_if_match_is_a_412_and_changes_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let product = app.listing(&alice, json!({})).await;
    let id = product["id"].as_str().unwrap();
    let (status, _) = json_of(
        app.patch_product(Some(&alice), id, Some("\"1\""), &json!({"stock": 7}))
            .await,
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = json_of(
        app.patch_product(Some(&alice), id, Some("\"1\""), &json!({"price": "99.00"}))
            .await,
    )
    .await;

    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (412, Some("version_conflict"))
    );
    let (_, current) = json_of(app.get(&format!("/api/products/{id}")).await).await;
    assert_eq!(current["price"], "24.99");
    assert_eq!(current["stock"], 7);
    assert_eq!(current["version"], 2);
    let written: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE event_type = 'product.updated'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(written, 1, "only the successful update wrote an event");

    let (status, body) = json_of(
        app.patch_product(Some(&alice), id, Some("soon"), &json!({"stock": 1}))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_if_match"))
    );
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_or_empty_update_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let product = app.listing(&alice, json!({})).await;
    let id = product["id"].as_str().unwrap();

    let (status, body) = json_of(
        app.patch_product(
            Some(&alice),
            id,
            None,
            &json!({"price": "0", "stock": 5, "name": ""}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["error"]["fields"]["price"].is_array());
    assert!(body["error"]["fields"]["name"].is_array());

    let (status, _) = json_of(app.patch_product(Some(&alice), id, None, &json!({})).await).await;
    assert_eq!(status, 400);
    let (status, _) = json_of(
        app.patch_product(Some(&alice), id, None, &json!({"version": 9}))
            .await,
    )
    .await;
    assert_eq!(status, 422);

    assert_eq!(app.stored(id_of(&product)).await, (5, 1));
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_listing_leaves_the_catalog_but_stays_stored() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let product = app.listing(&alice, json!({})).await;
    let id = product["id"].as_str().unwrap();

    let response = app.delete_product(Some(&alice), id).await;
    assert_eq!(response.status(), 204);

    let (status, _) = json_of(app.get(&format!("/api/products/{id}")).await).await;
    assert_eq!(status, 404);
    let (_, page) = json_of(app.get("/api/products").await).await;
    assert_eq!(page["total"], 0);
    let (_, mine) = json_of(app.get_as(&alice, "/api/products/mine").await).await;
    assert_eq!(mine["total"], 0);
    let (status, _) = json_of(app.delete_product(Some(&alice), id).await).await;
    assert_eq!(status, 404, "deleting twice");
    let (_, version) = app.stored(id_of(&product)).await;
    assert_eq!(version, 2, "the row is kept for late order events");
    app.stop().await;
}

#[tokio::test]
async fn mine_lists_only_the_callers_listings_and_needs_a_session() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let bob = app.user("bob");
    app.listing(&alice, json!({"name": "Alice one"})).await;
    app.listing(&alice, json!({"name": "Alice two"})).await;
    app.listing(&bob, json!({"name": "Bob one"})).await;

    let (status, page) = json_of(app.get_as(&alice, "/api/products/mine").await).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 2);
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alice two", "Alice one"]);

    let (status, body) = json_of(app.get("/api/products/mine").await).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = json_of(
        app.client
            .get(app.url("/api/products/mine"))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    app.stop().await;
}

#[tokio::test]
async fn every_change_publishes_its_product_event_on_the_inventory_stream() {
    let app = spawn_app().await;
    let alice = app.user("alice");
    let product = app.listing(&alice, json!({"price": "10"})).await;
    let id = product["id"].as_str().unwrap();
    let product_id = id_of(&product);
    app.patch_product(
        Some(&alice),
        id,
        None,
        &json!({"stock": 9, "name": "Renamed"}),
    )
    .await;
    app.delete_product(Some(&alice), id).await;

    app.outbox_drained().await;
    let created = app
        .events_about("product.created", "product_id", product_id)
        .await;
    let updated = app
        .events_about("product.updated", "product_id", product_id)
        .await;
    let deleted = app
        .events_about("product.deleted", "product_id", product_id)
        .await;

    assert_eq!((created.len(), updated.len(), deleted.len()), (1, 1, 1));
    assert_eq!(
        created[0].payload,
        json!({"product_id": id, "seller_id": alice.id, "name": "Blue Train (LP)",
               "price": "10.00", "stock": 5, "version": 1})
    );
    assert_eq!(created[0].source, "products-service");
    assert_eq!(updated[0].payload["name"], "Renamed");
    assert_eq!(updated[0].payload["stock"], 9);
    assert_eq!(updated[0].payload["version"], 2);
    assert_eq!(deleted[0].payload, json!({"product_id": id, "version": 3}));
    assert!(!created[0].correlation_id.is_empty());
    assert!(Uuid::parse_str(&created[0].event_id).is_ok());
    app.stop().await;
}

#[tokio::test]
async fn the_demo_catalog_is_seeded_once_across_restarts() {
    let database = web_kit::testing::TestDatabase::create("products_seed")
        .await
        .unwrap();
    let url = database.url().to_owned();
    let seeded = |url: String| async move {
        let app = crate::helpers::spawn_app_with(|settings| {
            settings.database_url = url;
            settings.seed_catalog = true;
        })
        .await;
        let (_, page) = json_of(app.get("/api/products?per_page=1").await).await;
        let events: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE event_type = 'product.created'")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        app.stop().await;
        (page["total"].as_i64().unwrap(), events)
    };

    let (first_total, first_events) = seeded(url.clone()).await;
    let (second_total, second_events) = seeded(url).await;

    assert!(
        first_total >= 200,
        "a few hundred listings, got {first_total}"
    );
    assert_eq!(
        first_events, first_total,
        "each seeded listing announced once"
    );
    assert_eq!((second_total, second_events), (first_total, first_events));
    drop(database);
}

#[tokio::test]
async fn an_expired_or_revoked_token_cannot_create_a_listing() {
    let app = spawn_app().await;
    let user_id = Uuid::now_v7();
    let body = json!({"name": "x", "category": "y", "price": "1", "stock": 1});
    let expired = app
        .keys
        .expired_token(user_id, "alice", auth_kit::Role::User);
    let claims = app.keys.claims(user_id, "alice", auth_kit::Role::User);
    let revoked = app.keys.sign(&claims);
    let mut redis = redis::Client::open(web_kit::testing::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let () = redis::cmd("SET")
        .arg(auth_kit::deny_list_key(&app.prefix, &claims.jti))
        .arg("1")
        .arg("EX")
        .arg(900)
        .query_async(&mut redis)
        .await
        .unwrap();

    for (token, code) in [(expired, "token_expired"), (revoked, "token_revoked")] {
        let response = app
            .client
            .post(app.url("/api/products"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, error) = json_of(response).await;
        assert_eq!((status, error["error"]["code"].as_str()), (401, Some(code)));
    }
    app.stop().await;
}
