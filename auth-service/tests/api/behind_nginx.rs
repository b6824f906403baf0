//! The client address auth-service rate-limits by, through the real nginx and a TLS proxy in
//! front of it, with clients at distinct loopback addresses.

use auth_service::client_ip::TrustedProxies;
use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::{
    helpers::{PASSWORD, TestApp, spawn_app_with},
    nginx::{FRONT_PROXY_SOURCE, Nginx, plain_from},
};

/// nginx (it reaches the services from 127.0.0.1) and the TLS proxy in front of it.
fn trusted() -> String {
    format!("127.0.0.1/32, {FRONT_PROXY_SOURCE}/32")
}

async fn limited_app() -> TestApp {
    let app = spawn_app_with(|settings| {
        settings.rate_limits.login.per_ip = 3;
        settings.trusted_proxies = TrustedProxies::parse(&trusted()).unwrap();
    })
    .await;
    app.signup("alice", "alice@example.com", PASSWORD).await;
    app
}

async fn login(url: String, source: &str, password: &str, forwarded_for: Option<&str>) -> Response {
    let mut request = plain_from(source)
        .post(url)
        .json(&json!({"email": "alice@example.com", "password": password}));
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn behind_a_tls_proxy_and_nginx_each_client_address_is_limited_on_its_own() {
    let app = limited_app().await;
    let nginx = Nginx::start(app.address.trim_start_matches("http://"), &trusted()).await;
    let url = nginx.front_url("/api/auth/login");

    // 127.0.0.2 guesses until it is blocked, claiming to be 127.0.0.3 all along.
    for attempt in 0..3 {
        let response = login(url.clone(), "127.0.0.2", "wrong horse", Some("127.0.0.3")).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let blocked = login(url.clone(), "127.0.0.2", PASSWORD, None).await;
    let other_client = login(url.clone(), "127.0.0.3", PASSWORD, None).await;

    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(other_client.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_that_reaches_nginx_directly_cannot_choose_its_address() {
    let app = limited_app().await;
    let nginx = Nginx::start(app.address.trim_start_matches("http://"), &trusted()).await;
    let url = nginx.url("/api/auth/login");

    for (attempt, claimed) in ["127.0.0.3", "203.0.113.1", "127.0.0.5, 203.0.113.2"]
        .into_iter()
        .enumerate()
    {
        let response = login(url.clone(), "127.0.0.2", "wrong horse", Some(claimed)).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let blocked = login(url.clone(), "127.0.0.2", PASSWORD, Some("198.51.100.1")).await;
    let other_client = login(url, "127.0.0.3", PASSWORD, None).await;

    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(other_client.status(), StatusCode::OK);
}
