//! auth-service on a real three-master Redis Cluster (`REDIS_CLUSTER_URLS`): the rate-limit
//! scripts, the deny-list written at logout and `/ready` all work there.

use std::time::Duration;

use auth_kit::{AuthError, deny_list_key};
use auth_service::config::LoginLimits;
use reqwest::StatusCode;
use web_kit::testing::RedisCluster;

use crate::helpers::{PASSWORD, TestApp, error_code, plain_client, spawn_app_with};

async fn spawn_on_cluster(login: LoginLimits) -> (RedisCluster, TestApp) {
    let cluster = RedisCluster::start().await;
    let urls = cluster.urls();
    let app = spawn_app_with(move |settings| {
        // Nothing listens here: every key the service uses must be on the cluster.
        settings.redis_url = "redis://127.0.0.1:1".to_owned();
        settings.redis_cluster_urls = urls;
        settings.rate_limits.login = login;
    })
    .await;
    (cluster, app)
}

fn limits(per_account: u32) -> LoginLimits {
    LoginLimits {
        per_ip: 100,
        per_account,
        per_account_and_ip: per_account,
        per_device: per_account,
        window: Duration::from_secs(120),
    }
}

#[tokio::test]
async fn on_a_cluster_wrong_passwords_lock_the_account_and_a_success_gives_its_attempt_back() {
    let (_cluster, app) = spawn_on_cluster(limits(3)).await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    // A success gives its attempt back (the refund script over the same slot's keys) ...
    for _ in 0..4 {
        let ok = app
            .login_from("203.0.113.9", "alice@example.com", PASSWORD)
            .await;
        assert_eq!(ok.status(), StatusCode::OK);
    }
    // ... and failures count against the account from every address.
    for attempt in 0..3 {
        let wrong = app
            .login_from(
                &format!("203.0.113.{attempt}"),
                "alice@example.com",
                "wrong",
            )
            .await;
        assert_eq!(
            wrong.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let locked = app
        .login_from("198.51.100.1", "alice@example.com", PASSWORD)
        .await;

    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(locked).await, "rate_limited");
    let keys = app.redis_keys().await;
    assert!(
        keys.contains(&format!("{}auth:rl:{{login}}:ip:203.0.113.0", app.prefix)),
        "{keys:?}"
    );
    // Every counter carries its action's hash tag: one script's keys share a slot.
    assert!(
        keys.iter()
            .all(|key| key.contains("auth:rl:{login}:") || key.contains("auth:rl:{signup}:")),
        "{keys:?}"
    );
}

#[tokio::test]
async fn on_a_cluster_logout_revokes_the_access_token_for_every_verifier() {
    let (_cluster, app) = spawn_on_cluster(limits(100)).await;
    let login = app.registered_user("alice").await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let verifier = app.shared_verifier().await;
    let user = verifier.verify(&token).await.unwrap();

    let response = plain_client()
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let result = verifier.verify(&token).await;
    assert!(matches!(result, Err(AuthError::Revoked)), "{result:?}");
    let me = app.me_with_bearer(&token).await;
    assert_eq!(error_code(me).await, "token_revoked");
    let mut redis = app.redis.get().await.unwrap();
    assert!(redis.is_cluster());
    let ttl: i64 = redis::cmd("TTL")
        .arg(deny_list_key(&app.prefix, &user.token_id))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 900 + 60, "{ttl}");
}

#[tokio::test]
async fn on_a_cluster_ready_answers_ok() {
    let (_cluster, app) = spawn_on_cluster(limits(100)).await;

    let response = app.client.get(app.url("/ready")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["redis"], "ok");
}
