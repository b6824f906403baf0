use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, cookie_value, error_code, spawn_app};

#[tokio::test]
async fn signing_up_returns_the_user_and_signs_them_in() {
    let app = spawn_app().await;

    let response = app.signup("alice", "Alice@Example.com", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(cookie_value(&response, "access_token").is_some());
    assert!(cookie_value(&response, "refresh_token").is_some());
    let user: Value = response.json().await.unwrap();
    assert!(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok());
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "Alice@Example.com");
    assert_eq!(user["role"], "user");
    assert!(
        time::OffsetDateTime::parse(
            user["created_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );
    assert_eq!(user.as_object().unwrap().len(), 5, "{user}");

    let me = app.me().await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me, user);
}

#[tokio::test]
async fn the_password_is_stored_as_an_argon2id_hash() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'alice'")
            .fetch_one(&app.pool)
            .await
            .unwrap();

    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn invalid_fields_are_a_422_naming_each_field() {
    let app = spawn_app().await;

    let response = app.signup("a!", "not-an-email", "short").await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    let fields = body["error"]["fields"].as_object().unwrap();
    for field in ["username", "email", "password"] {
        assert!(fields[field][0].is_string(), "{field}: {body}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn each_rule_of_the_policy_is_enforced() {
    let app = spawn_app().await;
    let long_password = "x".repeat(129);
    let long_username = "u".repeat(31);
    let cases = [
        ("ab", "a1@example.com", PASSWORD, "username"),
        (
            long_username.as_str(),
            "a2@example.com",
            PASSWORD,
            "username",
        ),
        ("has space", "a3@example.com", PASSWORD, "username"),
        ("bob", "bob@", PASSWORD, "email"),
        ("bob", "a4@example.com", "seven77", "password"),
        ("bob", "a5@example.com", long_password.as_str(), "password"),
        ("bob", "a6@example.com", "password123", "password"),
        ("bob", "a7@example.com", "Qwertyuiop", "password"),
        ("bob", "a8@example.com", "demotest", "password"),
    ];

    for (username, email, password, field) in cases {
        let response = app.signup(username, email, password).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field} {username} {email}"
        );
        let body: Value = response.json().await.unwrap();
        let fields = body["error"]["fields"].as_object().unwrap();
        assert_eq!(fields.keys().collect::<Vec<_>>(), vec![field], "{body}");
    }
}

#[tokio::test]
async fn a_duplicate_email_in_any_case_is_a_409() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    let response = app.signup("alice2", "ALICE@Example.COM", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "email_taken");
    assert!(body["error"]["fields"]["email"].is_array());
}

#[tokio::test]
async fn a_duplicate_username_in_any_case_is_a_409() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    let response = app.signup("ALICE", "other@example.com", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(response).await, "username_taken");
}

#[tokio::test]
async fn concurrent_signups_for_one_email_create_one_account() {
    let app = spawn_app().await;

    let attempts = (0..4).map(|n| {
        let app = &app;
        async move {
            app.signup(&format!("racer{n}"), "race@example.com", PASSWORD)
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(attempts).await;

    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT)
    );
}
