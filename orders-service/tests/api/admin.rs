use serde_json::{Value, json};
use web_kit::testing::wait_until;

use crate::helpers::{PATIENCE, assert_error, spawn_app};

#[tokio::test]
async fn the_stream_api_is_for_admins_only() {
    let app = spawn_app().await;
    let user = app.user();
    for path in ["/api/admin/streams", "/api/admin/dead-letters"] {
        assert_eq!(app.get(path, None).await.status(), 401);
        assert_error(app.get(path, Some(&user)).await, 403, "forbidden").await;
    }
    let replay = app
        .post(
            "/api/admin/dead-letters/1-0/replay",
            Some(&user),
            &json!({}),
        )
        .await;
    assert_error(replay, 403, "forbidden").await;
}

#[tokio::test]
async fn stream_health_shows_the_three_streams_and_the_orders_service_group() {
    let app = spawn_app().await;
    app.product(app.user().id, "Drum", "70.00").await;
    app.wait_until_quiet().await;

    let response = app.get("/api/admin/streams", Some(&app.admin())).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let streams = body.as_array().unwrap();
    let names: Vec<&str> = streams
        .iter()
        .map(|s| s["stream"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{body}");
    let inventory = streams
        .iter()
        .find(|s| s["stream"].as_str().unwrap().ends_with("inventory_stream"))
        .unwrap();
    assert_eq!(inventory["length"], 1);
    let group = inventory["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "orders-service")
        .unwrap();
    assert_eq!(group["pending"], 0);
}

#[tokio::test]
async fn a_poisoned_event_is_dead_lettered_listed_and_replayed_once() {
    let app = spawn_app().await;
    let admin = app.admin();
    let event_id = app
        .inventory_event("stock.reserved", json!({"order_id": "not-a-uuid"}))
        .await;

    let letter = wait_until(PATIENCE, "the event is dead-lettered", || async {
        let body: Value = app
            .get("/api/admin/dead-letters?count=10", Some(&admin))
            .await
            .json()
            .await
            .ok()?;
        body.as_array()?
            .iter()
            .find(|item| item["event_id"] == json!(event_id))
            .cloned()
    })
    .await;
    assert_eq!(letter["event_type"], "stock.reserved");
    let id = letter["id"].as_str().unwrap().to_owned();

    let replayed = app
        .post(
            &format!("/api/admin/dead-letters/{id}/replay"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(replayed.status(), 200);
    let again = app
        .post(
            &format!("/api/admin/dead-letters/{id}/replay"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_error(again, 404, "not_found").await;
    let nonsense = app
        .post(
            "/api/admin/dead-letters/whatever/replay",
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_error(nonsense, 404, "not_found").await;
}
