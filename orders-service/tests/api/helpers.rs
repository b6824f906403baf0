//! `spawn_app()`: the real orders-service on port 0 with its own database and Redis key prefix,
//! and helpers that speak to it, drive the inventory's side by adding envelopes to the prefixed
//! `inventory_stream`, and read what it published on `orders_stream`.

use std::time::Duration;

use auth_kit::{Role, testing::TestKeys};
use orders_service::{
    config::{BuyerLimits, Settings},
    startup::Application,
};
use redis::AsyncCommands;
use serde_json::{Value, json};
use sqlx::PgPool;
use stream_lib::{INVENTORY_STREAM, ORDERS_STREAM, StreamKeys};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use web_kit::testing::{RedisPrefix, TestDatabase, redis_url, wait_until};

/// How long any asynchronous outcome may take before a test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct TestUser {
    pub id: Uuid,
    pub token: String,
}

pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    pub prefix: String,
    pub keys: StreamKeys,
    /// The service's Redis: the server at `redis_url`, or the cluster when its settings name one.
    pub redis: web_kit::redis_pool::RedisPool,
    pub client: reqwest::Client,
    pub test_keys: std::sync::Arc<TestKeys>,
    pub settings: Settings,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
    /// The Redis keys this app cleans up when dropped; a replica shares its first app's.
    _redis_prefix: Option<RedisPrefix>,
    pub db: std::sync::Arc<TestDatabase>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// An app whose settings `configure` adjusts (short TTLs, say).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    web_kit::telemetry::init_for_tests();
    let db = std::sync::Arc::new(TestDatabase::create("orders").await.unwrap());
    let redis_prefix = RedisPrefix::new("orders");
    let test_keys = std::sync::Arc::new(TestKeys::generate());
    let mut settings = Settings {
        port: 0,
        database_url: db.url().to_owned(),
        database_max_connections: 5,
        database_timeouts: web_kit::db::Timeouts::default(),
        redis_url: redis_url(),
        redis_cluster_urls: Vec::new(),
        redis_key_prefix: redis_prefix.as_str().to_owned(),
        auth: auth_kit::KeySource::PublicKeyPem(test_keys.public_pem()),
        reservation_ttl: Duration::from_secs(900),
        pending_timeout: Duration::from_secs(120),
        sweep_interval: Duration::from_millis(200),
        idempotency_key_ttl: Duration::from_secs(86_400),
        buyer_limits: BuyerLimits::default(),
        consumer: orders_service::config::consumer_defaults(),
        relay: stream_lib::outbox::RelayConfig::default(),
    };
    configure(&mut settings);
    start(settings, db, test_keys, Some(redis_prefix)).await
}

async fn start(
    settings: Settings,
    db: std::sync::Arc<TestDatabase>,
    test_keys: std::sync::Arc<TestKeys>,
    redis_prefix: Option<RedisPrefix>,
) -> TestApp {
    let application = Application::build(settings.clone()).await.unwrap();
    let address = format!("http://127.0.0.1:{}", application.port());
    let pool = application.pool().clone();
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(application.run_until(shutdown.clone()));
    TestApp {
        address,
        pool,
        prefix: settings.redis_key_prefix.clone(),
        keys: StreamKeys::new(settings.redis_key_prefix.clone()),
        redis: web_kit::redis_pool::create(&settings.redis_url, &settings.redis_cluster_urls, None)
            .unwrap(),
        client: reqwest::Client::new(),
        test_keys,
        settings,
        shutdown,
        handle: Some(handle),
        _redis_prefix: redis_prefix,
        db,
    }
}

impl TestApp {
    /// A second replica: same database, same Redis prefix, same signing key.
    pub async fn replica(&self) -> TestApp {
        start(
            self.settings.clone(),
            self.db.clone(),
            self.test_keys.clone(),
            None,
        )
        .await
    }

    /// Stops the app and waits for its background tasks.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(PATIENCE, handle)
                .await
                .expect("the app stops within the patience")
                .unwrap()
                .unwrap();
        }
    }

    pub fn user(&self) -> TestUser {
        self.user_with_role(Role::User)
    }

    pub fn admin(&self) -> TestUser {
        self.user_with_role(Role::Admin)
    }

    fn user_with_role(&self, role: Role) -> TestUser {
        let id = Uuid::now_v7();
        let name = format!("user{}", &id.simple().to_string()[20..]);
        TestUser {
            id,
            token: self.test_keys.token(id, &name, role),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str, user: Option<&TestUser>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        request.send().await.unwrap()
    }

    pub async fn post(
        &self,
        path: &str,
        user: Option<&TestUser>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        request.send().await.unwrap()
    }

    pub async fn place_order(&self, user: &TestUser, body: &Value) -> reqwest::Response {
        self.post("/api/orders", Some(user), body).await
    }

    pub async fn place_order_with_key(
        &self,
        user: &TestUser,
        key: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/api/orders"))
            .bearer_auth(&user.token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Places an order for `quantity` of `product_id` and returns its id (asserting 201).
    pub async fn order(&self, user: &TestUser, product_id: Uuid, quantity: i64) -> Uuid {
        let response = self
            .place_order(
                user,
                &json!({"items": [{"product_id": product_id, "quantity": quantity}]}),
            )
            .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().parse().unwrap()
    }

    pub async fn cancel(&self, user: &TestUser, order_id: Uuid) -> reqwest::Response {
        self.post(
            &format!("/api/orders/{order_id}/cancel"),
            Some(user),
            &json!({}),
        )
        .await
    }

    pub async fn pay(&self, user: &TestUser, order_id: Uuid, card: &str) -> reqwest::Response {
        self.post(
            &format!("/api/orders/{order_id}/pay"),
            Some(user),
            &json!({"card_number": card, "expiry": "12/39", "cvc": "123"}),
        )
        .await
    }

    /// Adds an envelope to the prefixed `inventory_stream`, as products-service's relay would;
    /// returns the entry id.
    pub async fn add_inventory_event(
        &self,
        event_id: Uuid,
        event_type: &str,
        payload: &Value,
    ) -> String {
        let mut connection = self.redis.get().await.unwrap();
        let occurred_at = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
        let fields = [
            ("event_id", event_id.to_string()),
            ("type", event_type.to_owned()),
            ("source", "products-service".to_owned()),
            ("occurred_at", occurred_at),
            ("correlation_id", format!("test-{event_id}")),
            ("payload", payload.to_string()),
        ];
        connection
            .xadd(self.keys.key(INVENTORY_STREAM), "*", &fields)
            .await
            .unwrap()
    }

    /// A new inventory event; returns its event id (for redelivery tests).
    pub async fn inventory_event(&self, event_type: &str, payload: Value) -> Uuid {
        let event_id = Uuid::now_v7();
        self.add_inventory_event(event_id, event_type, &payload)
            .await;
        event_id
    }

    /// Announces a product through `product.created` and waits until the catalog copy has it.
    pub async fn product(&self, seller_id: Uuid, name: &str, price: &str) -> Uuid {
        let product_id = Uuid::now_v7();
        self.inventory_event(
            "product.created",
            json!({"product_id": product_id, "seller_id": seller_id, "name": name,
                   "price": price, "stock": 100, "version": 1}),
        )
        .await;
        let pool = self.pool.clone();
        wait_until(PATIENCE, "the product reaches the catalog copy", || {
            let pool = pool.clone();
            async move {
                sqlx::query("SELECT 1 FROM catalog_products WHERE product_id = $1")
                    .bind(product_id)
                    .fetch_optional(&pool)
                    .await
                    .unwrap()
                    .map(|_| ())
            }
        })
        .await;
        product_id
    }

    pub async fn status(&self, order_id: Uuid) -> String {
        sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn wait_for_status(&self, order_id: Uuid, status: &str) {
        wait_until(
            PATIENCE,
            &format!("order {order_id} becomes {status}"),
            || async { (self.status(order_id).await == status).then_some(()) },
        )
        .await;
    }

    /// A PENDING order made CONFIRMED by `stock.reserved`.
    pub async fn confirmed_order(&self, buyer: &TestUser, product_id: Uuid) -> Uuid {
        let order_id = self.order(buyer, product_id, 1).await;
        self.reserve(order_id).await;
        self.wait_for_status(order_id, "CONFIRMED").await;
        order_id
    }

    pub async fn reserve(&self, order_id: Uuid) -> Uuid {
        self.inventory_event("stock.reserved", json!({"order_id": order_id, "lines": []}))
            .await
    }

    /// Every event published on the prefixed `orders_stream`, as `(type, payload)`.
    pub async fn published(&self) -> Vec<(String, Value)> {
        let mut connection = self.redis.get().await.unwrap();
        let reply: redis::streams::StreamRangeReply = connection
            .xrange_all(self.keys.key(ORDERS_STREAM))
            .await
            .unwrap();
        reply
            .ids
            .iter()
            .map(|entry| {
                let event_type: String = entry.get("type").unwrap();
                let payload: String = entry.get("payload").unwrap();
                (event_type, serde_json::from_str(&payload).unwrap())
            })
            .collect()
    }

    /// The events of one type published for one order.
    pub async fn published_for(&self, order_id: Uuid, event_type: &str) -> Vec<Value> {
        self.published()
            .await
            .into_iter()
            .filter(|(kind, payload)| kind == event_type && payload["order_id"] == json!(order_id))
            .map(|(_, payload)| payload)
            .collect()
    }

    /// Waits until at least `count` events of `event_type` for the order were published.
    pub async fn wait_for_published(
        &self,
        order_id: Uuid,
        event_type: &str,
        count: usize,
    ) -> Vec<Value> {
        wait_until(
            PATIENCE,
            &format!("{count} {event_type} for {order_id}"),
            || async {
                let events = self.published_for(order_id, event_type).await;
                (events.len() >= count).then_some(events)
            },
        )
        .await
    }

    /// Waits until the `orders-service` group has read and acknowledged every entry of
    /// `inventory_stream`, and the outbox has nothing left to publish.
    pub async fn wait_until_quiet(&self) {
        let stream = self.keys.key(INVENTORY_STREAM);
        wait_until(PATIENCE, "the consumer and the relay are idle", || async {
            let mut connection = self.redis.get().await.ok()?;
            let groups: redis::streams::StreamInfoGroupsReply =
                connection.xinfo_groups(&stream).await.ok()?;
            let group = groups
                .groups
                .iter()
                .find(|group| group.name == "orders-service")?;
            let unpublished: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&self.pool)
                    .await
                    .ok()?;
            (group.pending == 0 && group.lag == Some(0) && unpublished == 0).then_some(())
        })
        .await;
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The body of an error response, asserting its status and code.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    body
}

/// Runs the ignored test `test` (its full path, e.g. `traces::the_order_in_a_process_of_its_own`)
/// alone in a fresh process of this test binary, and fails with its output unless it passed: for
/// a test that installs a process-wide tracing subscriber, which tests running beside it would
/// log through.
pub fn run_in_a_process_of_its_own(test: &str) {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{test} failed:\n{stdout}\n{stderr}"
    );
}
