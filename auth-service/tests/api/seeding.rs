use auth_kit::Role;
use auth_service::config::AdminAccount;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, error_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_demo_users_are_seeded_with_the_published_password_and_well_known_ids() {
    let app = spawn_app_with(|settings| settings.demo_users = true).await;

    // products-service seeds the demo catalog for these two seller ids.
    for (email, username, id) in [
        (
            "demo@demo.com",
            "demo",
            "0193a1d0-5eed-7000-8000-000000000001",
        ),
        (
            "demo2@demo.com",
            "demo2",
            "0193a1d0-5eed-7000-8000-000000000002",
        ),
    ] {
        let response = app.login(email, "demotest").await;
        assert_eq!(response.status(), StatusCode::OK, "{email}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["username"], username);
        assert_eq!(body["user"]["role"], "user");
        assert_eq!(body["user"]["id"], id);
    }
}

#[tokio::test]
async fn demo_login_signs_in_as_demo() {
    let app = spawn_app_with(|settings| settings.demo_users = true).await;

    let response = app
        .client
        .post(app.url("/api/auth/demo-login"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["username"], "demo");
    assert!(body["access_token"].is_string());
    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["username"], "demo");
}

#[tokio::test]
async fn without_demo_users_demo_login_is_a_404_and_the_accounts_do_not_exist() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/auth/demo-login"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "not_found");
    assert_eq!(
        app.login("demo@demo.com", "demotest").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn seeding_twice_keeps_one_of_each_demo_user() {
    let app = spawn_app_with(|settings| settings.demo_users = true).await;

    let _restarted = app.sibling(|_| {}).await;

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 2);
}

fn admin() -> AdminAccount {
    AdminAccount {
        email: "root@example.com".into(),
        password: "admin passphrase".into(),
        username: "admin".into(),
    }
}

#[tokio::test]
async fn the_configured_admin_exists_with_role_admin() {
    let app = spawn_app_with(|settings| settings.admin = Some(admin())).await;

    let response = app.login("root@example.com", "admin passphrase").await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");
    let verifier = app.shared_verifier().await;
    let user = verifier
        .verify(body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(user.role, Role::Admin);
}

#[tokio::test]
async fn an_existing_user_account_named_as_admin_stops_the_start_and_is_left_unchanged() {
    let app = spawn_app().await;
    app.signup("squatter", "root@example.com", PASSWORD).await;
    let mut settings = app.settings.clone();
    settings.admin = Some(admin());

    let error = auth_service::startup::Application::build(settings)
        .await
        .err()
        .expect("the start is refused");

    assert!(error.to_string().contains("ADMIN_EMAIL"), "{error:#}");
    assert!(error.to_string().contains("non-admin"), "{error:#}");
    let role: String =
        sqlx::query_scalar("SELECT role FROM users WHERE email = 'root@example.com'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(role, "user");
    // The squatter's password still works and the configured one does not.
    assert_eq!(
        app.login("root@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login("root@example.com", "admin passphrase")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_existing_admin_keeps_its_password_across_restarts() {
    let app = spawn_app_with(|settings| settings.admin = Some(admin())).await;

    let restarted = app
        .sibling(|settings| {
            settings.admin = Some(AdminAccount {
                password: "another passphrase".into(),
                ..admin()
            })
        })
        .await;

    assert_eq!(
        restarted
            .login("root@example.com", "admin passphrase")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        restarted
            .login("root@example.com", "another passphrase")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_signed_up_user_is_never_an_admin() {
    let app = spawn_app().await;

    let response = app.signup("alice", "alice@example.com", PASSWORD).await;

    let body: Value = response.json().await.unwrap();
    assert_eq!(body["role"], "user");
}

#[tokio::test]
async fn an_admin_username_held_by_another_account_stops_the_start() {
    let app = spawn_app().await;
    app.signup("admin", "someone@example.com", PASSWORD).await;
    let mut settings = app.settings.clone();
    settings.admin = Some(admin());

    let error = auth_service::startup::Application::build(settings)
        .await
        .err()
        .unwrap();

    assert!(error.to_string().contains("ADMIN_USERNAME"), "{error:#}");
}
