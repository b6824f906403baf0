use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, browser, plain_client, set_cookie, spawn_app, spawn_app_with};

#[tokio::test]
async fn logging_in_returns_the_user_and_an_access_token() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    let response = app.login("ALICE@example.com", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["email"], "alice@example.com");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    let me = app.me_with_bearer(token).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me, body["user"]);
}

#[tokio::test]
async fn the_session_cookies_are_http_only_strict_and_secure_when_configured() {
    let app = spawn_app_with(|settings| settings.cookie_secure = true).await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    let response = app.login("alice@example.com", PASSWORD).await;

    let access = set_cookie(&response, "access_token").unwrap();
    let refresh = set_cookie(&response, "refresh_token").unwrap();
    for cookie in [&access, &refresh] {
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Strict"), "{cookie}");
        assert!(cookie.contains("Secure"), "{cookie}");
    }
    assert!(
        access.contains("Path=/;") || access.ends_with("Path=/"),
        "{access}"
    );
    assert!(access.contains("Max-Age=900"), "{access}");
    assert!(refresh.contains("Path=/api/auth"), "{refresh}");
}

#[tokio::test]
async fn cookies_are_not_secure_when_cookie_secure_is_off() {
    let app = spawn_app().await;

    let response = app.signup("alice", "alice@example.com", PASSWORD).await;

    let access = set_cookie(&response, "access_token").unwrap();
    assert!(!access.contains("Secure"), "{access}");
    assert!(access.contains("HttpOnly"), "{access}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    let wrong_password = app.login("alice@example.com", "wrong horse battery").await;
    let unknown_email = app.login("nobody@example.com", PASSWORD).await;
    let malformed_email = app.login("nobody", PASSWORD).await;

    let mut bodies = Vec::new();
    for response in [wrong_password, unknown_email, malformed_email] {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookie(&response, "access_token").is_none());
        bodies.push(response.text().await.unwrap());
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[1], bodies[2]);
    let body: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(body["error"]["code"], "invalid_credentials");
}

#[tokio::test]
async fn no_response_ever_contains_a_password_hash() {
    let app = spawn_app().await;
    let client = browser();

    let mut bodies = vec![
        app.signup("alice", "alice@example.com", PASSWORD)
            .await
            .text()
            .await
            .unwrap(),
    ];
    bodies.push(
        app.login("alice@example.com", PASSWORD)
            .await
            .text()
            .await
            .unwrap(),
    );
    bodies.push(app.me().await.text().await.unwrap());
    bodies.push(app.refresh().await.text().await.unwrap());
    bodies.push(
        client
            .get(app.url("/api/auth/jwks"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );

    for body in bodies {
        assert!(!body.contains("argon2"), "{body}");
        assert!(!body.contains("password"), "{body}");
        assert!(!body.contains("hash"), "{body}");
    }
}

#[tokio::test]
async fn a_burst_of_concurrent_logins_all_succeed() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    let logins: Vec<_> = (0..48)
        .map(|_| {
            let request = plain_client()
                .post(app.url("/api/auth/login"))
                .json(&json!({"email": "alice@example.com", "password": PASSWORD}));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();

    for login in logins {
        assert_eq!(login.await.unwrap(), StatusCode::OK);
    }
}
