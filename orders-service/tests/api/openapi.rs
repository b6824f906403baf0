//! The OpenAPI document: it describes every route the router serves, and it is served.

use orders_service::routes;
use serde_json::Value;

use crate::helpers::spawn_app;

#[test]
fn every_route_the_service_serves_is_in_its_openapi_document() {
    web_kit::openapi::check_router_against_document(
        &routes::stateless_router(),
        &routes::openapi(),
    )
    .unwrap();
}

#[test]
fn every_reference_in_the_openapi_document_resolves() {
    web_kit::openapi::check_references(&routes::openapi()).unwrap();
}

#[tokio::test]
async fn the_document_is_served_as_openapi_3_1() {
    let app = spawn_app().await;

    let response = app.get("/api/orders/openapi.json", None).await;

    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document, serde_json::to_value(routes::openapi()).unwrap());
    let events = &document["paths"]["/api/orders/{id}/events"]["get"]["responses"]["200"];
    assert!(events["content"]["text/event-stream"].is_object());
}
