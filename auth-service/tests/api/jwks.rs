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

#[tokio::test]
async fn a_key_rotation_signs_with_the_new_key_and_keeps_the_old_tokens_valid() {
    let app = spawn_app().await;
    let before = app.registered_user("alice").await;
    let old_token = before["access_token"].as_str().unwrap().to_owned();
    let new_keys = auth_kit::signing::SigningKeys::generate();

    // The restart of a rotation: the new private key, the old public key kept.
    let rotated = app
        .sibling(|settings| {
            settings.signing_key = Some(
                new_keys
                    .clone()
                    .with_previous(&app.keys.public_pem())
                    .unwrap(),
            );
        })
        .await;

    let jwks: Value = rotated
        .client
        .get(rotated.url("/api/auth/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new_keys.kid(), app.keys.signing_keys().kid()]);
    let after: Value = rotated
        .login("alice@example.com", crate::helpers::PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let new_token = after["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(new_token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new_keys.kid()));
    // auth-service itself and the other services (their verifier reads the key set) accept both.
    let verifier = rotated.shared_verifier().await;
    assert_eq!(
        rotated.me_with_bearer(&old_token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        rotated.me_with_bearer(new_token).await.status(),
        StatusCode::OK
    );
    assert!(verifier.verify(&old_token).await.is_ok());
    assert!(verifier.verify(new_token).await.is_ok());
}
