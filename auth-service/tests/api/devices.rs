//! Guessing an account's password must not lock its owner out: a browser that signed in before
//! (its device cookie) is counted on its own.

use std::time::Duration;

use auth_service::config::LoginLimits;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, browser, cookie_value, spawn_app_with};

const LIMITS: LoginLimits = LoginLimits {
    per_ip: 10_000,
    per_account: 10,
    per_account_and_ip: 5,
    per_device: 10,
    window: Duration::from_secs(120),
};

/// How many of `guesses` wrong passwords from `ip` were checked (401) rather than refused (429).
async fn storm(app: &TestApp, ip: &str, email: &str, guesses: usize) -> usize {
    let client = browser();
    let attempts = (0..guesses).map(|n| {
        let client = &client;
        async move {
            app.login_with(client, ip, email, &format!("guess number {n}"))
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert!(
        statuses
            .iter()
            .all(|s| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(s)),
        "{statuses:?}"
    );
    statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count()
}

#[tokio::test]
async fn an_attackers_storm_leaves_the_owner_signing_in_with_their_device_cookie() {
    let app = spawn_app_with(|settings| settings.rate_limits.login = LIMITS).await;
    app.signup("admin1", "owner@example.com", PASSWORD).await;
    let owner = browser();
    let first = app
        .login_with(&owner, "198.51.100.1", "owner@example.com", PASSWORD)
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(cookie_value(&first, "device").is_some());

    // From one address, then from twenty more.
    let mut checked = storm(&app, "203.0.113.66", "owner@example.com", 50).await;
    assert!(
        checked <= 5,
        "{checked} guesses from one address were checked"
    );
    for n in 0..20 {
        checked += storm(&app, &format!("203.0.113.{n}"), "owner@example.com", 5).await;
    }

    assert!(checked <= 10, "{checked} guesses in all were checked");
    let owner_again = app
        .login_with(&owner, "198.51.100.1", "owner@example.com", PASSWORD)
        .await;
    assert_eq!(owner_again.status(), StatusCode::OK);
    // Elsewhere too: the cookie travels with the browser, not the address.
    let owner_travelling = app
        .login_with(&owner, "192.0.2.44", "owner@example.com", PASSWORD)
        .await;
    assert_eq!(owner_travelling.status(), StatusCode::OK);
    // A browser the account has never seen waits out the window, even with the right password.
    let stranger = app
        .login_with(&browser(), "192.0.2.45", "owner@example.com", PASSWORD)
        .await;
    assert_eq!(stranger.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_device_cookie_exempts_only_its_own_account() {
    let app = spawn_app_with(|settings| settings.rate_limits.login = LIMITS).await;
    app.signup("alice", "alice@example.com", PASSWORD).await;
    app.signup("bob", "bob@example.com", PASSWORD).await;
    let alices_browser = browser();
    let alice = app
        .login_with(
            &alices_browser,
            "198.51.100.1",
            "alice@example.com",
            PASSWORD,
        )
        .await;
    assert_eq!(alice.status(), StatusCode::OK);

    for n in 0..10 {
        storm(&app, &format!("203.0.113.{n}"), "bob@example.com", 1).await;
    }
    let with_alices_cookie = app
        .login_with(&alices_browser, "198.51.100.1", "bob@example.com", PASSWORD)
        .await;

    assert_eq!(with_alices_cookie.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn guesses_from_a_known_browser_are_limited_too() {
    let app = spawn_app_with(|settings| settings.rate_limits.login = LIMITS).await;
    app.signup("alice", "alice@example.com", PASSWORD).await;
    let known = browser();
    app.login_with(&known, "198.51.100.1", "alice@example.com", PASSWORD)
        .await;

    let attempts = (0..30).map(|n| {
        let (app, known) = (&app, &known);
        async move {
            app.login_with(
                known,
                &format!("203.0.113.{n}"),
                "alice@example.com",
                "wrong horse",
            )
            .await
            .status()
        }
    });
    let statuses = futures::future::join_all(attempts).await;

    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        checked <= 10,
        "{checked} guesses with a device cookie were checked"
    );
}
