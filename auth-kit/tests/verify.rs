//! The verifier and the extractors against a real Redis: every forged, stale or revoked token is
//! refused, and a token is read from the Bearer header before the cookie.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use auth_kit::{
    AdminUser, AuthError, AuthUser, KeySource, Role, Verifier, deny_list_key,
    testing::{TestKeys, hs256_token, redis_pool, unsigned_token},
};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use redis::AsyncCommands;
use tower::ServiceExt;
use uuid::Uuid;
use web_kit::testing::{RedisPrefix, wait_until};

fn alice() -> (Uuid, &'static str) {
    (Uuid::now_v7(), "alice")
}

#[tokio::test]
async fn a_valid_token_yields_the_user_it_was_minted_for() {
    let keys = TestKeys::generate();
    let verifier = keys.verifier(redis_pool());
    let (id, name) = alice();

    let user = verifier
        .verify(&keys.token(id, name, Role::Admin))
        .await
        .unwrap();

    assert_eq!(user.id, id);
    assert_eq!(user.username, name);
    assert_eq!(user.role, Role::Admin);
    assert!(user.is_admin());
    assert!(!user.token_id.is_empty());
    assert!(user.expires_at > time::OffsetDateTime::now_utc().unix_timestamp());
}

#[tokio::test]
async fn a_token_whose_payload_was_tampered_with_is_invalid() {
    let keys = TestKeys::generate();
    let verifier = keys.verifier(redis_pool());
    let (id, name) = alice();
    let token = keys.token(id, name, Role::User);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["role"] = "admin".into();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());

    let result = verifier.verify(&parts.join(".")).await;

    assert!(matches!(result, Err(AuthError::Invalid)), "{result:?}");
}

#[tokio::test]
async fn an_expired_token_is_refused_as_expired() {
    let keys = TestKeys::generate();
    let verifier = keys.verifier(redis_pool());
    let (id, name) = alice();

    let result = verifier
        .verify(&keys.expired_token(id, name, Role::User))
        .await;

    assert!(matches!(result, Err(AuthError::Expired)), "{result:?}");
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_invalid() {
    let keys = TestKeys::generate();
    let other = TestKeys::generate();
    let verifier = keys.verifier(redis_pool());
    let (id, name) = alice();

    let result = verifier.verify(&other.token(id, name, Role::User)).await;

    assert!(matches!(result, Err(AuthError::Invalid)), "{result:?}");
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_invalid() {
    let keys = TestKeys::generate();
    let verifier = keys.verifier(redis_pool());
    let (id, name) = alice();

    let result = verifier
        .verify(&unsigned_token(&keys.claims(id, name, Role::Admin)))
        .await;

    assert!(matches!(result, Err(AuthError::Invalid)), "{result:?}");
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_public_key_is_invalid() {
    let keys = TestKeys::generate();
    let verifier = keys.verifier(redis_pool());
    let (id, name) = alice();
    let claims = keys.claims(id, name, Role::Admin);

    let result = verifier
        .verify(&hs256_token(&claims, keys.public_pem().as_bytes()))
        .await;

    assert!(matches!(result, Err(AuthError::Invalid)), "{result:?}");
}

#[tokio::test]
async fn a_token_from_another_issuer_is_invalid() {
    let keys = TestKeys::generate();
    let verifier = keys.verifier(redis_pool());
    let (id, name) = alice();
    let mut claims = keys.claims(id, name, Role::User);
    claims.iss = "someone-else".into();

    let result = verifier.verify(&keys.sign(&claims)).await;

    assert!(matches!(result, Err(AuthError::Invalid)), "{result:?}");
}

#[tokio::test]
async fn a_token_not_valid_before_a_time_ahead_is_invalid_until_then() {
    let keys = TestKeys::generate();
    let verifier = keys.verifier(redis_pool());
    let (id, name) = alice();
    let claims = serde_json::to_value(keys.claims(id, name, Role::User)).unwrap();
    let now = claims["iat"].as_i64().unwrap();
    let with_nbf = |nbf: i64| {
        let mut claims = claims.clone();
        claims["nbf"] = nbf.into();
        keys.sign_json(&claims)
    };

    let ahead = verifier.verify(&with_nbf(now + 3600)).await;
    let within_leeway = verifier.verify(&with_nbf(now + 5)).await;
    let past = verifier.verify(&with_nbf(now - 60)).await;

    assert!(matches!(ahead, Err(AuthError::Invalid)), "{ahead:?}");
    assert!(within_leeway.is_ok(), "{within_leeway:?}");
    assert!(past.is_ok(), "{past:?}");
}

#[tokio::test]
async fn every_forgery_of_the_test_kit_is_refused_with_its_code() {
    let keys = TestKeys::generate();
    let verifier = keys.verifier(redis_pool());
    let (id, name) = alice();

    for forgery in keys.forgeries(id, name) {
        let result = verifier.verify(&forgery.token).await;
        let code = result.as_ref().map_err(AuthError::code).err();
        assert_eq!(code, Some(forgery.code), "{}: {result:?}", forgery.attack);
    }
}

#[tokio::test]
async fn garbage_is_invalid() {
    let verifier = TestKeys::generate().verifier(redis_pool());

    for token in ["", "abc", "a.b.c", "a.b", "....."] {
        let result = verifier.verify(token).await;
        assert!(
            matches!(result, Err(AuthError::Invalid)),
            "{token}: {result:?}"
        );
    }
}

#[tokio::test]
async fn on_a_redis_cluster_a_deny_listed_token_is_revoked_and_others_pass() {
    let cluster = web_kit::testing::RedisCluster::start().await;
    let pool = web_kit::redis_pool::create("redis://127.0.0.1:1", &cluster.urls(), None).unwrap();
    let keys = TestKeys::generate();
    // The cluster is the test's own: its keys go with it.
    let prefix = format!("test-{}:", Uuid::new_v4().simple());
    let verifier = keys.verifier(pool.clone()).with_key_prefix(prefix.clone());
    // Tokens whose deny-list keys fall on different masters.
    let tokens: Vec<String> = (0..6)
        .map(|_| {
            let (id, name) = alice();
            keys.token(id, name, Role::User)
        })
        .collect();
    let mut jtis = Vec::new();
    for token in &tokens {
        jtis.push(verifier.verify(token).await.unwrap().token_id);
    }
    let mut redis = pool.get().await.unwrap();
    for jti in jtis.iter().step_by(2) {
        let () = redis
            .set_ex(deny_list_key(&prefix, jti), "1", 60)
            .await
            .unwrap();
    }

    for (n, token) in tokens.iter().enumerate() {
        let result = verifier.verify(token).await;
        if n % 2 == 0 {
            assert!(matches!(result, Err(AuthError::Revoked)), "{n}: {result:?}");
        } else {
            assert!(result.is_ok(), "{n}: {result:?}");
        }
    }
}

#[tokio::test]
async fn a_deny_listed_token_is_revoked_under_its_prefix_only() {
    let keys = TestKeys::generate();
    let pool = redis_pool();
    let prefix = RedisPrefix::new("auth-kit");
    let verifier = keys
        .verifier(pool.clone())
        .with_key_prefix(prefix.as_str().to_owned());
    let other = RedisPrefix::new("auth-kit");
    let other_prefix = keys
        .verifier(pool.clone())
        .with_key_prefix(other.as_str().to_owned());
    let (id, name) = alice();
    let token = keys.token(id, name, Role::User);
    let jti = verifier.verify(&token).await.unwrap().token_id;
    let key = deny_list_key(prefix.as_str(), &jti);
    let mut redis = pool.get().await.unwrap();
    let () = redis.set_ex(&key, "1", 60).await.unwrap();

    let revoked = verifier.verify(&token).await;
    let elsewhere = other_prefix.verify(&token).await;

    let _: () = redis.del(&key).await.unwrap();
    assert!(matches!(revoked, Err(AuthError::Revoked)), "{revoked:?}");
    assert!(elsewhere.is_ok(), "{elsewhere:?}");
    assert_eq!(verifier.key_prefix(), prefix.as_str());
}

#[tokio::test]
async fn an_unreachable_deny_list_fails_closed() {
    let keys = TestKeys::generate();
    let dead = web_kit::redis_pool::create("redis://127.0.0.1:1", &[], None).unwrap();
    let verifier = keys.verifier(dead);
    let (id, name) = alice();

    let result = verifier.verify(&keys.token(id, name, Role::User)).await;

    assert!(matches!(result, Err(AuthError::Unavailable)), "{result:?}");
}

#[tokio::test]
async fn a_verifier_built_from_the_public_pem_accepts_the_keys_tokens() {
    let keys = TestKeys::generate();
    let escaped = keys.public_pem().replace('\n', "\\n");
    let (id, name) = alice();
    let token = keys.token(id, name, Role::User);

    for pem in [keys.public_pem(), escaped] {
        let verifier = Verifier::from_public_pem(pem.as_bytes(), redis_pool()).unwrap();
        assert_eq!(verifier.verify(&token).await.unwrap().id, id);
    }
    assert!(Verifier::from_public_pem(b"not a key", redis_pool()).is_err());
    assert!(Verifier::from_public_pem(keys.private_pem().as_bytes(), redis_pool()).is_err());
}

/// A key-set server that answers 503 to its first two requests, as a starting auth-service
/// would.
async fn slow_jwks_server(keys: &TestKeys) -> (String, Arc<AtomicUsize>) {
    let jwks = keys.signing_keys().jwks();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = Router::new().route(
        "/api/auth/jwks",
        get(move || {
            let jwks = jwks.clone();
            let calls = counter.clone();
            async move {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(StatusCode::SERVICE_UNAVAILABLE)
                } else {
                    Ok(axum::Json(jwks))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

#[tokio::test]
async fn fetching_the_key_set_retries_until_the_auth_service_answers() {
    let keys = TestKeys::generate();
    let (url, calls) = slow_jwks_server(&keys).await;
    let (id, name) = alice();

    let verifier = Verifier::fetch_jwks(&url, redis_pool(), Duration::from_secs(30))
        .await
        .unwrap();

    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let user = verifier
        .verify(&keys.token(id, name, Role::User))
        .await
        .unwrap();
    assert_eq!(user.id, id);
    let other = TestKeys::generate().token(id, name, Role::User);
    assert!(verifier.verify(&other).await.is_err());
}

#[tokio::test]
async fn a_verifier_is_built_from_either_key_source() {
    let keys = TestKeys::generate();
    let (url, _) = slow_jwks_server(&keys).await;
    let (id, name) = alice();
    let token = keys.token(id, name, Role::User);

    for source in [
        KeySource::PublicKeyPem(keys.public_pem()),
        KeySource::Url(url),
    ] {
        let verifier = Verifier::from_source(&source, redis_pool(), Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(verifier.verify(&token).await.unwrap().id, id);
    }
    let bad = KeySource::PublicKeyPem("not a key".to_owned());
    assert!(matches!(
        Verifier::from_source(&bad, redis_pool(), Duration::from_secs(30)).await,
        Err(auth_kit::KeyError::InvalidKey(_))
    ));
}

#[test]
fn the_key_source_is_the_pem_when_given_else_the_url() {
    let url = "http://auth:3030".to_owned();

    assert_eq!(
        KeySource::pem_or_url(Some("line\\nline".to_owned()), url.clone()),
        KeySource::PublicKeyPem("line\nline".to_owned())
    );
    assert_eq!(
        KeySource::pem_or_url(None, url.clone()),
        KeySource::Url(url)
    );
}

#[tokio::test]
async fn fetching_the_key_set_gives_up_after_its_patience() {
    let result = Verifier::fetch_jwks(
        "http://127.0.0.1:1",
        redis_pool(),
        Duration::from_millis(300),
    )
    .await;

    match result {
        Err(auth_kit::KeyError::Fetch { url, .. }) => {
            assert_eq!(url, "http://127.0.0.1:1/api/auth/jwks");
        }
        other => panic!("expected a fetch error, got {:?}", other.map(|_| ())),
    }
}

async fn whoami(user: AuthUser) -> String {
    user.username
}

async fn maybe(user: Option<AuthUser>) -> String {
    user.map_or_else(|| "anonymous".to_owned(), |user| user.username)
}

async fn admin_only(AdminUser(user): AdminUser) -> String {
    user.username
}

fn router(verifier: Verifier) -> Router {
    Router::new()
        .route("/me", get(whoami))
        .route("/admin", get(admin_only))
        .route("/maybe", get(maybe))
        .with_state(verifier)
}

async fn call(
    app: &Router,
    path: &str,
    headers: &[(header::HeaderName, String)],
) -> (StatusCode, String) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_extractor_reads_the_bearer_header_or_the_cookie() {
    let keys = TestKeys::generate();
    let app = router(keys.verifier(redis_pool()));
    let (id, name) = alice();
    let token = keys.token(id, name, Role::User);

    let bearer = call(
        &app,
        "/me",
        &[(header::AUTHORIZATION, format!("Bearer {token}"))],
    )
    .await;
    let cookie = call(
        &app,
        "/me",
        &[(header::COOKIE, format!("theme=dark; access_token={token}"))],
    )
    .await;

    assert_eq!(bearer, (StatusCode::OK, name.to_owned()));
    assert_eq!(cookie, (StatusCode::OK, name.to_owned()));
}

#[tokio::test]
async fn the_bearer_header_wins_over_the_cookie() {
    let keys = TestKeys::generate();
    let app = router(keys.verifier(redis_pool()));
    let (id, name) = alice();
    let good = keys.token(id, name, Role::User);
    let forged = TestKeys::generate().token(id, "mallory", Role::User);

    let (good_header, _) = call(
        &app,
        "/me",
        &[
            (header::AUTHORIZATION, format!("bearer {good}")),
            (header::COOKIE, format!("access_token={forged}")),
        ],
    )
    .await;
    let (forged_header, body) = call(
        &app,
        "/me",
        &[
            (header::AUTHORIZATION, format!("Bearer {forged}")),
            (header::COOKIE, format!("access_token={good}")),
        ],
    )
    .await;

    assert_eq!(good_header, StatusCode::OK);
    assert_eq!(forged_header, StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "invalid_token");
}

#[tokio::test]
async fn a_request_without_a_token_is_a_401_json_body() {
    let app = router(TestKeys::generate().verifier(redis_pool()));

    let (status, body) = call(&app, "/me", &[]).await;
    let (basic_status, _) = call(
        &app,
        "/me",
        &[(header::AUTHORIZATION, "Basic dXNlcjpwYXNz".to_owned())],
    )
    .await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(basic_status, StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn only_an_admin_passes_the_admin_extractor() {
    let keys = TestKeys::generate();
    let app = router(keys.verifier(redis_pool()));
    let user = keys.token(Uuid::now_v7(), "bob", Role::User);
    let admin = keys.token(Uuid::now_v7(), "root", Role::Admin);

    let (user_status, body) = call(
        &app,
        "/admin",
        &[(header::AUTHORIZATION, format!("Bearer {user}"))],
    )
    .await;
    let admin_response = call(
        &app,
        "/admin",
        &[(header::AUTHORIZATION, format!("Bearer {admin}"))],
    )
    .await;
    let (anonymous, _) = call(&app, "/admin", &[]).await;

    assert_eq!(user_status, StatusCode::FORBIDDEN);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(admin_response, (StatusCode::OK, "root".to_owned()));
    assert_eq!(anonymous, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unreachable_deny_list_answers_503_through_the_extractor() {
    let keys = TestKeys::generate();
    let dead = web_kit::redis_pool::create("redis://127.0.0.1:1", &[], None).unwrap();
    let app = router(keys.verifier(dead));
    let token = keys.token(Uuid::now_v7(), "bob", Role::User);

    let (status, body) = call(
        &app,
        "/me",
        &[(header::AUTHORIZATION, format!("Bearer {token}"))],
    )
    .await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
}

#[tokio::test]
async fn an_optional_user_is_none_without_a_token_but_a_bad_token_is_still_refused() {
    let keys = TestKeys::generate();
    let app = router(keys.verifier(redis_pool()));
    let token = keys.token(Uuid::now_v7(), "bob", Role::User);
    let expired = keys.expired_token(Uuid::now_v7(), "bob", Role::User);

    let anonymous = call(&app, "/maybe", &[]).await;
    let signed_in = call(
        &app,
        "/maybe",
        &[(header::AUTHORIZATION, format!("Bearer {token}"))],
    )
    .await;
    let (stale, body) = call(
        &app,
        "/maybe",
        &[(header::COOKIE, format!("access_token={expired}"))],
    )
    .await;

    assert_eq!(anonymous, (StatusCode::OK, "anonymous".to_owned()));
    assert_eq!(signed_in, (StatusCode::OK, "bob".to_owned()));
    assert_eq!(stale, StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "token_expired");
}

/// A key pair made by `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` (test data
/// only), as operators will provide it.
const OPENSSL_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIOJBBLxj8tjg5+d+xdGjYIWhyBkVgUxEQAK5FHewK568
-----END PRIVATE KEY-----
";
const OPENSSL_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAA52ewT2gJcV0qqUiLuWbReAsmMJQRYJqWG3SrEkvIJY=
-----END PUBLIC KEY-----
";

#[tokio::test]
async fn keys_made_by_openssl_sign_and_verify() {
    let keys = auth_kit::signing::SigningKeys::from_pem(OPENSSL_PRIVATE).unwrap();
    let verifier = Verifier::from_public_pem(OPENSSL_PUBLIC.as_bytes(), redis_pool()).unwrap();
    let claims =
        auth_kit::Claims::new(Uuid::now_v7(), "alice", Role::User, Duration::from_secs(60));

    let user = verifier.verify(&keys.sign(&claims).unwrap()).await.unwrap();

    assert_eq!(user.username, "alice");
    assert_eq!(keys.public_pem().trim(), OPENSSL_PUBLIC.trim());
    assert!(auth_kit::signing::SigningKeys::from_pem(OPENSSL_PUBLIC).is_err());
}

/// A key-set server whose keys the test changes, counting its requests.
struct KeySetServer {
    url: String,
    jwks: Arc<std::sync::Mutex<serde_json::Value>>,
    calls: Arc<AtomicUsize>,
}

impl KeySetServer {
    async fn start(keys: &[&TestKeys]) -> Self {
        let jwks = Arc::new(std::sync::Mutex::new(serde_json::Value::Null));
        let calls = Arc::new(AtomicUsize::new(0));
        let (served, counter) = (jwks.clone(), calls.clone());
        let app = Router::new().route(
            "/api/auth/jwks",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let body = served.lock().unwrap().clone();
                async move { axum::Json(body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let server = Self { url, jwks, calls };
        server.serve(keys);
        server
    }

    /// Serves these keys from now on.
    fn serve(&self, keys: &[&TestKeys]) {
        let entries: Vec<serde_json::Value> = keys
            .iter()
            .map(|keys| keys.signing_keys().jwks()["keys"][0].clone())
            .collect();
        *self.jwks.lock().unwrap() = serde_json::json!({ "keys": entries });
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn each_token_is_checked_with_the_key_its_kid_names() {
    let (old, new, stranger) = (
        TestKeys::generate(),
        TestKeys::generate(),
        TestKeys::generate(),
    );
    let verifier = Verifier::from_verifying_keys(
        &[
            old.signing_keys().verifying_key(),
            new.signing_keys().verifying_key(),
        ],
        redis_pool(),
    );
    let (id, name) = alice();

    for keys in [&old, &new] {
        assert_eq!(
            verifier
                .verify(&keys.token(id, name, Role::User))
                .await
                .unwrap()
                .id,
            id
        );
    }
    assert!(matches!(
        verifier.verify(&stranger.token(id, name, Role::User)).await,
        Err(AuthError::Invalid)
    ));
}

#[tokio::test]
async fn after_a_rotation_the_new_key_is_fetched_on_its_first_token_and_old_tokens_stay_valid() {
    let (old, new) = (TestKeys::generate(), TestKeys::generate());
    let server = KeySetServer::start(&[&old]).await;
    let verifier = Verifier::fetch_jwks(&server.url, redis_pool(), Duration::from_secs(5))
        .await
        .unwrap()
        .with_refresh_policy(auth_kit::RefreshPolicy {
            every: Duration::from_secs(3600),
            min_interval: Duration::ZERO,
        });
    let (id, name) = alice();
    let old_token = old.token(id, name, Role::User);

    // auth-service restarts with the new key, still publishing the old one.
    server.serve(&[&new, &old]);

    let new_token = new.token(id, name, Role::User);
    assert_eq!(verifier.verify(&new_token).await.unwrap().id, id);
    assert_eq!(verifier.verify(&old_token).await.unwrap().id, id);
    assert_eq!(server.calls(), 2);
}

#[tokio::test]
async fn made_up_kids_fetch_the_key_set_at_most_once_per_interval() {
    let keys = TestKeys::generate();
    let server = KeySetServer::start(&[&keys]).await;
    let verifier = Verifier::fetch_jwks(&server.url, redis_pool(), Duration::from_secs(5))
        .await
        .unwrap()
        .with_refresh_policy(auth_kit::RefreshPolicy {
            every: Duration::from_secs(3600),
            min_interval: Duration::from_secs(3600),
        });
    let (id, name) = alice();

    let forged = (0..50).map(|_| {
        let token = TestKeys::generate().token(id, name, Role::User);
        let verifier = verifier.clone();
        async move { verifier.verify(&token).await }
    });
    let results = futures::future::join_all(forged).await;

    assert!(results.iter().all(|r| matches!(r, Err(AuthError::Invalid))));
    assert_eq!(server.calls(), 1, "only the start-up fetch");
}

#[tokio::test]
async fn the_key_set_is_fetched_again_periodically_so_a_removed_key_stops_verifying() {
    let (old, new) = (TestKeys::generate(), TestKeys::generate());
    let server = KeySetServer::start(&[&new, &old]).await;
    let verifier = Verifier::fetch_jwks(&server.url, redis_pool(), Duration::from_secs(5))
        .await
        .unwrap()
        .with_refresh_policy(auth_kit::RefreshPolicy {
            every: Duration::from_millis(200),
            min_interval: Duration::ZERO,
        });
    let (id, name) = alice();
    let old_token = old.token(id, name, Role::User);
    assert!(verifier.verify(&old_token).await.is_ok());

    server.serve(&[&new]);

    wait_until(
        Duration::from_secs(10),
        "the old key is no longer accepted",
        || async { matches!(verifier.verify(&old_token).await, Err(AuthError::Invalid)) },
    )
    .await;
    assert!(
        verifier
            .verify(&new.token(id, name, Role::User))
            .await
            .is_ok()
    );
}

#[test]
fn an_unreadable_deny_list_asks_the_client_to_retry_later() {
    use axum::response::IntoResponse;
    let response = AuthError::Unavailable.into_response();

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
}
