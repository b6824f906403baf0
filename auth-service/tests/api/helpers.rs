//! `spawn_app()` and request helpers.

use std::time::Duration;

use auth_kit::testing::TestKeys;
use auth_service::{
    config::{Limit, LoginLimits, RateLimits, Settings},
    startup::Application,
};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use web_kit::testing::{RedisPrefix, TestDatabase, redis_url};

/// A running auth-service with its own database and Redis key prefix.
pub struct TestApp {
    pub address: String,
    /// A client with a cookie store: it behaves like one browser.
    pub client: Client,
    /// The service's signing key, to forge and mint tokens in tests.
    pub keys: TestKeys,
    pub prefix: String,
    pub settings: Settings,
    pub pool: PgPool,
    pub redis: web_kit::redis_pool::RedisPool,
    /// `None` once a test dropped the database on purpose, and in a sibling.
    pub db: Option<TestDatabase>,
    /// The keys under `prefix`, deleted when the app that made them is dropped (a sibling
    /// shares them).
    _redis_prefix: Option<RedisPrefix>,
    shutdown: CancellationToken,
}

/// Limits far above what any test reaches, except the rate-limit tests.
pub fn generous_limits() -> RateLimits {
    let limit = Limit {
        per_ip: 10_000,
        per_account: 10_000,
        window: Duration::from_secs(600),
    };
    RateLimits {
        login: LoginLimits {
            per_ip: limit.per_ip,
            per_account: limit.per_account,
            per_account_and_ip: limit.per_account,
            per_device: limit.per_account,
            window: limit.window,
        },
        signup: limit,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application after `configure` adjusted the test settings (HTTP cookies, demo
/// users off, generous rate limits).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::create("auth").await.expect("test database");
    let keys = TestKeys::generate();
    let redis_prefix = RedisPrefix::new("auth");
    let prefix = redis_prefix.as_str().to_owned();
    let mut settings = Settings::new(db.url());
    settings.port = 0;
    settings.redis_url = redis_url();
    settings.redis_key_prefix = prefix.clone();
    settings.signing_key = Some(keys.signing_keys().clone());
    settings.cookie_secure = false;
    settings.demo_users = false;
    settings.rate_limits = generous_limits();
    configure(&mut settings);
    let mut app = start(settings, keys, prefix).await;
    app.db = Some(db);
    app._redis_prefix = Some(redis_prefix);
    app
}

async fn start(settings: Settings, keys: TestKeys, prefix: String) -> TestApp {
    let application = Application::build(settings.clone())
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let shutdown = CancellationToken::new();
    tokio::spawn(application.run_until(shutdown.clone()));
    let pool = PgPool::connect(&settings.database_url).await.unwrap();
    TestApp {
        address,
        client: browser(),
        keys,
        prefix,
        redis: web_kit::redis_pool::create(&settings.redis_url, &settings.redis_cluster_urls, None)
            .unwrap(),
        pool,
        db: None,
        _redis_prefix: None,
        settings,
        shutdown,
    }
}

/// A client with its own cookie store.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .no_proxy()
        .build()
        .unwrap()
}

/// A client that keeps no cookies.
pub fn plain_client() -> Client {
    Client::builder().no_proxy().build().unwrap()
}

impl TestApp {
    /// Another instance over the same database and prefix (a restart, or a second replica),
    /// with adjusted settings.
    pub async fn sibling(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        configure(&mut settings);
        start(settings, self.keys.clone(), self.prefix.clone()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn signup(&self, username: &str, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/signup",
            &json!({"username": username, "email": email, "password": password}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Login from a given client address (as nginx would forward it).
    pub async fn login_from(&self, ip: &str, email: &str, password: &str) -> Response {
        self.login_with(&plain_client(), ip, email, password).await
    }

    /// Login through `client` (a browser keeps its cookies) from a given client address.
    pub async fn login_with(
        &self,
        client: &Client,
        ip: &str,
        email: &str,
        password: &str,
    ) -> Response {
        client
            .post(self.url("/api/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn signup_from(
        &self,
        ip: &str,
        username: &str,
        email: &str,
        password: &str,
    ) -> Response {
        plain_client()
            .post(self.url("/api/auth/signup"))
            .header("x-forwarded-for", ip)
            .json(&json!({"username": username, "email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Signs up a user and returns the login response body (`{user, access_token, ...}`).
    pub async fn registered_user(&self, username: &str) -> Value {
        let email = format!("{username}@example.com");
        let response = self.signup(username, &email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let response = self.login(&email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn me(&self) -> Response {
        self.client
            .get(self.url("/api/auth/me"))
            .send()
            .await
            .unwrap()
    }

    pub async fn me_with_bearer(&self, token: &str) -> Response {
        plain_client()
            .get(self.url("/api/auth/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn refresh(&self) -> Response {
        self.client
            .post(self.url("/api/auth/refresh"))
            .send()
            .await
            .unwrap()
    }

    pub async fn logout(&self) -> Response {
        self.client
            .post(self.url("/api/auth/logout"))
            .send()
            .await
            .unwrap()
    }

    /// Makes every spent refresh token look spent a minute ago: past the two-tabs grace period,
    /// so presenting one again is a reuse.
    pub async fn age_spent_refresh_tokens(&self) {
        sqlx::query(
            "UPDATE refresh_tokens SET used_at = now() - interval '1 minute' \
             WHERE used_at IS NOT NULL",
        )
        .execute(&self.pool)
        .await
        .unwrap();
    }

    /// A verifier like products-service's: key from this app's JWKS, deny-list under its prefix.
    pub async fn shared_verifier(&self) -> auth_kit::Verifier {
        auth_kit::Verifier::fetch_jwks(&self.address, self.redis.clone(), Duration::from_secs(5))
            .await
            .unwrap()
            .with_key_prefix(self.prefix.clone())
    }

    /// Redis keys under this app's prefix.
    pub async fn redis_keys(&self) -> Vec<String> {
        let mut connection = self.redis.get().await.unwrap();
        redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query_async(&mut connection)
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A password that passes the policy.
pub const PASSWORD: &str = "correct horse battery";

/// The JSON error body's code.
pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
        .to_owned()
}

/// The `Set-Cookie` header that sets `name`.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value of cookie `name` as set by the response.
pub fn cookie_value(response: &Response, name: &str) -> Option<String> {
    set_cookie(response, name).map(|header| {
        header[name.len() + 1..]
            .split(';')
            .next()
            .unwrap_or("")
            .to_owned()
    })
}
