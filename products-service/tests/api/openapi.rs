//! The OpenAPI document: it describes every route the router serves, and it is served.

use products_service::routes;

use crate::helpers::{json_of, spawn_app};

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
async fn the_document_is_served_as_openapi_3_1_with_both_security_schemes() {
    let app = spawn_app().await;

    let (status, document) = json_of(app.get("/api/products/openapi.json").await).await;

    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document, serde_json::to_value(routes::openapi()).unwrap());
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["cookie"]["in"], "cookie");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let create = &document["paths"]["/api/products"]["post"];
    assert_eq!(
        create["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
}
