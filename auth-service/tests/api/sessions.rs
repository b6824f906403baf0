use auth_kit::{AuthError, deny_list_key};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{PASSWORD, cookie_value, error_code, plain_client, set_cookie, spawn_app};

#[tokio::test]
async fn me_without_a_session_is_a_401() {
    let app = spawn_app().await;

    let response = app.me().await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(response).await, "unauthorized");
}

#[tokio::test]
async fn refresh_tokens_are_stored_hashed() {
    let app = spawn_app().await;

    let response = app.signup("alice", "alice@example.com", PASSWORD).await;

    let token = cookie_value(&response, "refresh_token").unwrap();
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM refresh_tokens")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, vec![Sha256::digest(token.as_bytes()).to_vec()]);
}

#[tokio::test]
async fn refreshing_rotates_both_tokens() {
    let app = spawn_app().await;
    let signup = app.signup("alice", "alice@example.com", PASSWORD).await;
    let first_refresh = cookie_value(&signup, "refresh_token").unwrap();
    let first_access = cookie_value(&signup, "access_token").unwrap();

    let response = app.refresh().await;

    assert_eq!(response.status(), StatusCode::OK);
    let second_refresh = cookie_value(&response, "refresh_token").unwrap();
    assert_ne!(second_refresh, first_refresh);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["expires_in"], 900);
    let access = body["access_token"].as_str().unwrap();
    assert_ne!(access, first_access);
    assert_eq!(app.me_with_bearer(access).await.status(), StatusCode::OK);
    // The browser's cookie jar now holds the new pair and can rotate again.
    assert_eq!(app.refresh().await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_its_whole_family() {
    let app = spawn_app().await;
    let signup = app.signup("alice", "alice@example.com", PASSWORD).await;
    let stolen = cookie_value(&signup, "refresh_token").unwrap();
    // The legitimate browser rotates first, longer ago than the two-tabs grace period.
    let rotated = app.refresh().await;
    assert_eq!(rotated.status(), StatusCode::OK);
    app.age_spent_refresh_tokens().await;

    let replay = plain_client()
        .post(app.url("/api/auth/refresh"))
        .header("cookie", format!("refresh_token={stolen}"))
        .send()
        .await
        .unwrap();

    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let cleared = set_cookie(&replay, "refresh_token").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(error_code(replay).await, "refresh_token_reused");
    // The legitimate holder's newer token died with the family.
    let after = app.refresh().await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let live: i64 =
        sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(live, 0);
}

#[tokio::test]
async fn refresh_without_or_with_an_unknown_token_is_a_401() {
    let app = spawn_app().await;

    let missing = app.refresh().await;
    let unknown = plain_client()
        .post(app.url("/api/auth/refresh"))
        .header("cookie", "refresh_token=made-up")
        .send()
        .await
        .unwrap();

    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(missing).await, "invalid_refresh_token");
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(unknown).await, "invalid_refresh_token");
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;
    sqlx::query("UPDATE refresh_tokens SET expires_at = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();

    let response = app.refresh().await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(response).await, "invalid_refresh_token");
}

#[tokio::test]
async fn signing_in_deletes_the_accounts_expired_tokens_and_keeps_its_live_ones() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;
    app.signup("bob", "bob@example.com", PASSWORD).await;
    app.login("alice@example.com", PASSWORD).await;
    // Alice's first session expired; her second and Bob's (expired too) live on.
    sqlx::query(
        "UPDATE refresh_tokens SET expires_at = now() - interval '1 minute'
         WHERE id IN (SELECT r.id FROM refresh_tokens r JOIN users u ON u.id = r.user_id
                      WHERE u.username = 'bob'
                         OR r.id = (SELECT t.id FROM refresh_tokens t WHERE t.user_id = u.id
                                    ORDER BY t.id LIMIT 1))",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let tokens = |username: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT count(*), count(*) FILTER (WHERE expires_at < now())
                 FROM refresh_tokens r JOIN users u ON u.id = r.user_id WHERE u.username = $1",
            )
            .bind(username)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(tokens("alice").await, (2, 1));

    let response = app.login("alice@example.com", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        tokens("alice").await,
        (2, 0),
        "the expired one went, a new one came"
    );
    assert_eq!(
        tokens("bob").await,
        (1, 1),
        "another account's are not touched"
    );
}

#[tokio::test]
async fn logout_revokes_the_access_token_for_every_service_at_once() {
    let app = spawn_app().await;
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
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(me).await, "token_revoked");
    // The deny-list entry lives until the token's expiry (plus the verifiers' leeway), no longer.
    let mut redis = app.redis.get().await.unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(deny_list_key(&app.prefix, &user.token_id))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 900 + 60, "{ttl}");
}

#[tokio::test]
async fn logout_clears_the_cookies_and_ends_the_refresh_token() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    let response = app.logout().await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for name in ["access_token", "refresh_token"] {
        let cookie = set_cookie(&response, name).unwrap();
        assert!(cookie.contains("Max-Age=0"), "{cookie}");
    }
    assert_eq!(app.me().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.refresh().await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session_even_when_the_cookie_is_replayed() {
    let app = spawn_app().await;
    let signup = app.signup("alice", "alice@example.com", PASSWORD).await;
    let access = cookie_value(&signup, "access_token").unwrap();
    let refresh = cookie_value(&signup, "refresh_token").unwrap();

    app.logout().await;

    let replayed_access = plain_client()
        .get(app.url("/api/auth/me"))
        .header("cookie", format!("access_token={access}"))
        .send()
        .await
        .unwrap();
    let replayed_refresh = plain_client()
        .post(app.url("/api/auth/refresh"))
        .header("cookie", format!("refresh_token={refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed_access.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(replayed_refresh.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_without_a_session_is_still_204() {
    let app = spawn_app().await;

    let response = app.logout().await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn reuse_detection_also_revokes_the_access_tokens_the_family_handed_out() {
    let app = spawn_app().await;
    let signup = app.signup("alice", "alice@example.com", PASSWORD).await;
    let stolen = cookie_value(&signup, "refresh_token").unwrap();
    let rotated = app.refresh().await;
    let body: Value = rotated.json().await.unwrap();
    let current_access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.me_with_bearer(&current_access).await.status(),
        StatusCode::OK
    );
    app.age_spent_refresh_tokens().await;

    plain_client()
        .post(app.url("/api/auth/refresh"))
        .header("cookie", format!("refresh_token={stolen}"))
        .send()
        .await
        .unwrap();

    let me = app.me_with_bearer(&current_access).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(me).await, "token_revoked");
}

#[tokio::test]
async fn logout_with_only_the_refresh_cookie_revokes_the_sessions_access_token() {
    let app = spawn_app().await;
    let signup = app.signup("alice", "alice@example.com", PASSWORD).await;
    let access = cookie_value(&signup, "access_token").unwrap();
    let refresh = cookie_value(&signup, "refresh_token").unwrap();

    let response = plain_client()
        .post(app.url("/api/auth/logout"))
        .header("cookie", format!("refresh_token={refresh}"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let me = app.me_with_bearer(&access).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(me).await, "token_revoked");
}

#[tokio::test]
async fn a_cookie_request_from_another_site_cannot_end_or_refresh_the_session() {
    let app = spawn_app().await;
    app.signup("alice", "alice@example.com", PASSWORD).await;

    for path in [
        "/api/auth/logout",
        "/api/auth/refresh",
        "/api/auth/logout-everywhere",
    ] {
        let forged = app
            .client
            .post(app.url(path))
            .header("origin", "https://evil.example.com")
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error_code(forged).await, "cross_site_request");
    }

    assert_eq!(app.me().await.status(), StatusCode::OK);
    let same_site = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header("origin", app.address.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), StatusCode::OK);
}
