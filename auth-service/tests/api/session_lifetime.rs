//! Sessions end: at their absolute lifetime, everywhere on request, and when the role changes;
//! and two tabs refreshing with one cookie do not sign the user out.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::{
    PASSWORD, TestApp, browser, cookie_value, error_code, plain_client, set_cookie, spawn_app,
    spawn_app_with,
};

async fn refresh_with(app: &TestApp, token: &str) -> Response {
    plain_client()
        .post(app.url("/api/auth/refresh"))
        .header("cookie", format!("refresh_token={token}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn two_tabs_refreshing_with_one_cookie_both_stay_signed_in() {
    let app = spawn_app().await;
    let signup = app.signup("alice", "alice@example.com", PASSWORD).await;
    let shared = cookie_value(&signup, "refresh_token").unwrap();

    let (first, second) = tokio::join!(refresh_with(&app, &shared), refresh_with(&app, &shared));

    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::OK);
    let successor = cookie_value(&first, "refresh_token").unwrap();
    assert_eq!(cookie_value(&second, "refresh_token").unwrap(), successor);
    let access: Value = second.json().await.unwrap();
    let access = access["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.me_with_bearer(&access).await.status(), StatusCode::OK);
    // The session goes on from the one successor.
    let next = refresh_with(&app, &successor).await;
    assert_eq!(next.status(), StatusCode::OK);
    // And a logout still revokes the access token the second tab got.
    let logout = plain_client()
        .post(app.url("/api/auth/logout"))
        .header(
            "cookie",
            format!(
                "refresh_token={}",
                cookie_value(&next, "refresh_token").unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        error_code(app.me_with_bearer(&access).await).await,
        "token_revoked"
    );
}

#[tokio::test]
async fn a_spent_token_presented_after_the_grace_period_revokes_the_family() {
    let app = spawn_app().await;
    let signup = app.signup("alice", "alice@example.com", PASSWORD).await;
    let spent = cookie_value(&signup, "refresh_token").unwrap();
    let rotated = refresh_with(&app, &spent).await;
    let successor = cookie_value(&rotated, "refresh_token").unwrap();
    app.age_spent_refresh_tokens().await;

    let replay = refresh_with(&app, &spent).await;

    assert_eq!(error_code(replay).await, "refresh_token_reused");
    assert_eq!(
        refresh_with(&app, &successor).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn refreshing_never_extends_a_session_past_its_absolute_lifetime() {
    let app = spawn_app_with(|settings| {
        settings.session_max_lifetime = Duration::from_secs(3600);
    })
    .await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    let refreshed = app.refresh().await;

    assert_eq!(refreshed.status(), StatusCode::OK);
    let cookie = set_cookie(&refreshed, "refresh_token").unwrap();
    let max_age: i64 = cookie
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Max-Age="))
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&max_age), "{cookie}");
    // Once the session's end has passed, no refresh goes through.
    sqlx::query("UPDATE refresh_tokens SET session_expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let ended = app.refresh().await;
    assert_eq!(ended.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(ended).await, "invalid_refresh_token");
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;
    let laptop = browser();
    let login = app
        .login_with(&laptop, "198.51.100.1", "alice@example.com", PASSWORD)
        .await;
    let laptop_access: Value = login.json().await.unwrap();
    let laptop_access = laptop_access["access_token"].as_str().unwrap().to_owned();
    app.signup("bob", "bob@example.com", PASSWORD).await;
    let bob = app
        .login_from("198.51.100.2", "bob@example.com", PASSWORD)
        .await;
    let bob_refresh = cookie_value(&bob, "refresh_token").unwrap();

    let phone = browser();
    let phone_login = app
        .login_with(&phone, "198.51.100.3", "alice@example.com", PASSWORD)
        .await;
    assert_eq!(phone_login.status(), StatusCode::OK);
    let response = phone
        .post(app.url("/api/auth/logout-everywhere"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        set_cookie(&response, "refresh_token")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        error_code(app.me_with_bearer(&laptop_access).await).await,
        "token_revoked"
    );
    let laptop_refresh = laptop
        .post(app.url("/api/auth/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(laptop_refresh.status(), StatusCode::UNAUTHORIZED);
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM refresh_tokens t JOIN users u ON u.id = t.user_id \
         WHERE u.username = 'alice' AND t.revoked_at IS NULL",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(live, 0);
    // Another user's session is untouched.
    assert_eq!(
        refresh_with(&app, &bob_refresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn signing_out_everywhere_needs_a_session() {
    let app = spawn_app().await;

    let response = plain_client()
        .post(app.url("/api/auth/logout-everywhere"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_role_change_ends_the_users_sessions() {
    let app = spawn_app().await;
    let signup = app.signup("alice", "alice@example.com", PASSWORD).await;
    let refresh = cookie_value(&signup, "refresh_token").unwrap();

    sqlx::query("UPDATE users SET role = 'admin' WHERE username = 'alice'")
        .execute(&app.pool)
        .await
        .unwrap();

    assert_eq!(
        refresh_with(&app, &refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Signing in again gives a session with the new role.
    let login = app.login("alice@example.com", PASSWORD).await;
    let body: Value = login.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");
}
