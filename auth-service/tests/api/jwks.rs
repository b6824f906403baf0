use auth_kit::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_key_set_publishes_the_ed25519_public_key_only() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/api/auth/jwks"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let body: Value = response.json().await.unwrap();
    let keys = body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert_eq!(keys[0]["alg"], "EdDSA");
    assert!(keys[0].get("d").is_none(), "private part published: {body}");
}

#[tokio::test]
async fn a_verifier_built_from_the_key_set_accepts_the_services_tokens() {
    let app = spawn_app().await;
    let login = app.registered_user("alice").await;

    let verifier = app.shared_verifier().await;
    let user = verifier
        .verify(login["access_token"].as_str().unwrap())
        .await
        .unwrap();

    assert_eq!(user.username, "alice");
    assert_eq!(user.role, Role::User);
    assert_eq!(user.id.to_string(), login["user"]["id"].as_str().unwrap());
}
