//! `spawn_app()` and the request, event and database helpers the tests share.

use std::time::Duration;

use auth_kit::{Role, testing::TestKeys};
use products_service::{config::Settings, seed, startup::Application};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use web_kit::testing::{RedisPrefix, TestDatabase, redis_url, wait_until};

/// A signed-in user of the tests.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub username: String,
    pub token: String,
}

/// An event read back from a stream.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub event_id: String,
    pub event_type: String,
    pub source: String,
    pub correlation_id: String,
    pub payload: Value,
}

/// The running application and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    pub keys: TestKeys,
    pub prefix: String,
    redis: redis::aio::MultiplexedConnection,
    shutdown: CancellationToken,
    server: Option<JoinHandle<std::io::Result<()>>>,
    settings: Settings,
    // Dropped last: the keys and the database go once nothing uses them. A replica has neither:
    // it shares the first application's database and Redis prefix, which that one cleans up.
    _redis_prefix: Option<RedisPrefix>,
    _database: Option<TestDatabase>,
}

/// Starts products-service on port 0 with a fresh database and Redis prefix.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with a chance to adjust the settings first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::create("products")
        .await
        .expect("test database");
    let keys = TestKeys::generate();
    let redis_prefix = RedisPrefix::new("products");
    let prefix = redis_prefix.as_str().to_owned();
    let mut settings = Settings {
        port: 0,
        database_url: database.url().to_owned(),
        database_max_connections: 20,
        database_timeouts: web_kit::db::Timeouts::default(),
        redis_url: redis_url(),
        redis_cluster_urls: Vec::new(),
        redis_key_prefix: prefix.clone(),
        auth: auth_kit::KeySource::PublicKeyPem(keys.public_pem()),
        seed_catalog: false,
        demo_seller_id: seed::DEMO_SELLER_ID,
        demo2_seller_id: seed::DEMO2_SELLER_ID,
        consumer: products_service::config::consumer_defaults(),
        relay: stream_lib::outbox::RelayConfig::default(),
    };
    adjust(&mut settings);
    start(settings, Some((database, redis_prefix)), keys, prefix).await
}

/// Starts the application; `owned`: the database and the Redis prefix it cleans up (a replica
/// has none).
async fn start(
    settings: Settings,
    owned: Option<(TestDatabase, RedisPrefix)>,
    keys: TestKeys,
    prefix: String,
) -> TestApp {
    let (database, redis_prefix) = owned.unzip();
    let application = Application::build(settings.clone())
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let pool = application.pool().clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(application.run_until(shutdown.clone()));
    let redis = redis::Client::open(redis_url())
        .expect("redis url")
        .get_multiplexed_async_connection_with_config(
            // Reading a whole busy stream can take longer than the 500 ms default (shared CI).
            &redis::AsyncConnectionConfig::new()
                .set_response_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .expect("redis connection");
    TestApp {
        address,
        client: reqwest::Client::new(),
        pool,
        keys,
        prefix,
        redis,
        shutdown,
        server: Some(server),
        settings,
        _redis_prefix: redis_prefix,
        _database: database,
    }
}

impl TestApp {
    /// A second replica of the service: its own process state (caches, consumer, relay) on the
    /// same database, Redis prefix and signing key.
    pub async fn replica(&self) -> TestApp {
        start(
            self.settings.clone(),
            None,
            self.keys.clone(),
            self.prefix.clone(),
        )
        .await
    }

    /// `count` more consumers of the `products-service` group on this application's database
    /// and Redis prefix, each reading `batch_size` entries at a time into four sub-batches at
    /// once, so orders run in many concurrent transactions; they stop when `stop` is cancelled.
    pub fn extra_consumers(
        &self,
        count: usize,
        batch_size: usize,
        stop: &CancellationToken,
    ) -> Vec<JoinHandle<Result<(), stream_lib::consumer::ConsumerError>>> {
        (0..count)
            .map(|n| {
                let consumer = stream_lib::Consumer::new(
                    &redis_url(),
                    stream_lib::StreamKeys::new(self.prefix.clone()),
                    stream_lib::ConsumerSettings {
                        consumer: format!("extra-{n}"),
                        batch_size,
                        concurrency: 4,
                        block: Duration::from_millis(100),
                        ..products_service::config::consumer_defaults()
                    },
                    self.pool.clone(),
                    products_service::events::OrdersStreamHandler::handlers(),
                )
                .expect("a consumer");
                tokio::spawn(consumer.run(stop.clone()))
            })
            .collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn user(&self, username: &str) -> TestUser {
        self.user_with_role(username, Role::User)
    }

    pub fn admin(&self) -> TestUser {
        self.user_with_role("admin", Role::Admin)
    }

    fn user_with_role(&self, username: &str, role: Role) -> TestUser {
        let id = Uuid::now_v7();
        TestUser {
            id,
            username: username.to_owned(),
            token: self.keys.token(id, username, role),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    pub async fn get_as(&self, user: &TestUser, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&user.token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_product(&self, user: Option<&TestUser>, body: &Value) -> reqwest::Response {
        let mut request = self.client.post(self.url("/api/products")).json(body);
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        request.send().await.expect("request")
    }

    /// Creates a listing and returns it (panics unless 201).
    pub async fn create_product(&self, seller: &TestUser, body: Value) -> Value {
        let response = self.post_product(Some(seller), &body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 201, "create failed: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// A listing with sensible defaults, overridden by `fields`.
    pub async fn listing(&self, seller: &TestUser, fields: Value) -> Value {
        let mut body = json!({
            "name": "Blue Train (LP)",
            "description": "John Coltrane, 1957, Blue Note",
            "category": "Records",
            "price": "24.99",
            "stock": 5
        });
        if let (Some(body), Some(fields)) = (body.as_object_mut(), fields.as_object()) {
            for (key, value) in fields {
                body.insert(key.clone(), value.clone());
            }
        }
        self.create_product(seller, body).await
    }

    pub async fn patch_product(
        &self,
        user: Option<&TestUser>,
        id: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .patch(self.url(&format!("/api/products/{id}")))
            .json(body);
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        request.send().await.expect("request")
    }

    pub async fn delete_product(&self, user: Option<&TestUser>, id: &str) -> reqwest::Response {
        let mut request = self.client.delete(self.url(&format!("/api/products/{id}")));
        if let Some(user) = user {
            request = request.bearer_auth(&user.token);
        }
        request.send().await.expect("request")
    }

    /// After refused writes against listing `id`: it is still the only listing, at version 1.
    pub async fn assert_only_listing_unchanged(&self, id: &str) {
        let listings: i64 = sqlx::query_scalar("SELECT count(*) FROM products")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        assert_eq!(listings, 1, "only the first listing exists");
        let (_, unchanged) = json_of(self.get(&format!("/api/products/{id}")).await).await;
        assert_eq!(unchanged["version"], 1, "{unchanged}");
    }

    /// Stock and version as stored (deleted listings included).
    pub async fn stored(&self, id: Uuid) -> (i32, i64) {
        sqlx::query_as("SELECT stock, version FROM products WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn reservation_status(&self, order_id: Uuid) -> Option<String> {
        sqlx::query_scalar("SELECT status FROM reservations WHERE order_id = $1")
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await
            .unwrap()
    }

    /// Puts an event on this test's `orders_stream` the way orders-service's relay does (the
    /// envelope's flat fields); returns its event id.
    pub async fn publish_order_event(&self, event_type: &str, payload: Value) -> Uuid {
        let event_id = Uuid::now_v7();
        self.publish_order_event_with_id(event_id, event_type, payload)
            .await;
        event_id
    }

    pub async fn publish_order_event_with_id(
        &self,
        event_id: Uuid,
        event_type: &str,
        payload: Value,
    ) {
        let occurred_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let mut redis = self.redis.clone();
        let _: String = redis::cmd("XADD")
            .arg(format!("{}orders_stream", self.prefix))
            .arg("*")
            .arg("event_id")
            .arg(event_id.to_string())
            .arg("type")
            .arg(event_type)
            .arg("source")
            .arg("orders-service")
            .arg("occurred_at")
            .arg(occurred_at)
            .arg("correlation_id")
            .arg(format!("test-{event_id}"))
            .arg("payload")
            .arg(payload.to_string())
            .query_async(&mut redis)
            .await
            .expect("XADD");
    }

    /// Puts many events on `orders_stream` in one pipeline.
    pub async fn publish_order_events(&self, events: &[(&str, Value)]) {
        self.pipeline_order_events(events, false).await;
    }

    /// Every event on this test's `inventory_stream`, oldest first.
    pub async fn inventory_events(&self) -> Vec<Envelope> {
        let mut redis = self.redis.clone();
        let entries: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
            .arg(format!("{}inventory_stream", self.prefix))
            .arg("-")
            .arg("+")
            .query_async(&mut redis)
            .await
            .expect("XRANGE");
        entries
            .into_iter()
            .map(|(_, flat)| {
                let field = |name: &str| {
                    flat.chunks(2)
                        .find(|pair| pair[0] == name)
                        .map(|pair| pair[1].clone())
                        .unwrap_or_default()
                };
                Envelope {
                    event_id: field("event_id"),
                    event_type: field("type"),
                    source: field("source"),
                    correlation_id: field("correlation_id"),
                    payload: serde_json::from_str(&field("payload")).unwrap_or(Value::Null),
                }
            })
            .collect()
    }

    /// Waits until the inventory stream holds a reply (`stock.*`) for `order_id`.
    pub async fn reply_for(&self, order_id: Uuid) -> Envelope {
        let order = order_id.to_string();
        wait_until(Duration::from_secs(20), "a stock.* reply", || async {
            self.inventory_events().await.into_iter().find(|event| {
                event.event_type.starts_with("stock.") && event.payload["order_id"] == order
            })
        })
        .await
    }

    /// Waits until the inventory stream holds an event of `event_type` for `order_id`.
    pub async fn reply_for_type(&self, order_id: Uuid, event_type: &str) -> Envelope {
        let order = order_id.to_string();
        wait_until(Duration::from_secs(20), event_type, || async {
            self.inventory_events()
                .await
                .into_iter()
                .find(|event| event.event_type == event_type && event.payload["order_id"] == order)
        })
        .await
    }

    /// Entries of `orders_stream` delivered to the `products-service` group but not yet acked.
    pub async fn pending_orders(&self) -> i64 {
        let mut redis = self.redis.clone();
        let summary: redis::Value = redis::cmd("XPENDING")
            .arg(format!("{}orders_stream", self.prefix))
            .arg("products-service")
            .query_async(&mut redis)
            .await
            .expect("XPENDING");
        match summary {
            redis::Value::Array(fields) => match fields.first() {
                Some(redis::Value::Int(count)) => *count,
                _ => 0,
            },
            _ => 0,
        }
    }

    /// Length of this test's `dead_letter_stream`.
    pub async fn dead_letters(&self) -> i64 {
        let mut redis = self.redis.clone();
        redis::cmd("XLEN")
            .arg(format!("{}dead_letter_stream", self.prefix))
            .query_async(&mut redis)
            .await
            .expect("XLEN")
    }

    /// The inventory events of one type about one order or product.
    pub async fn events_about(&self, event_type: &str, key: &str, id: Uuid) -> Vec<Envelope> {
        let id = id.to_string();
        self.inventory_events()
            .await
            .into_iter()
            .filter(|event| event.event_type == event_type && event.payload[key] == id)
            .collect()
    }

    /// Waits until every outbox row has been published (the relay caught up).
    pub async fn outbox_drained(&self) {
        wait_until(Duration::from_secs(20), "the outbox to drain", || async {
            let pending: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&self.pool)
                    .await
                    .unwrap();
            (pending == 0).then_some(())
        })
        .await;
    }

    /// Waits until the consumer has handled `event_id` (it is in the inbox).
    pub async fn handled(&self, event_id: Uuid) {
        wait_until(
            Duration::from_secs(20),
            "the event to be handled",
            || async {
                let handled: bool =
                    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM inbox WHERE event_id = $1)")
                        .bind(event_id)
                        .fetch_one(&self.pool)
                        .await
                        .unwrap();
                handled.then_some(())
            },
        )
        .await;
    }

    /// Stops the application (consumer and relay included) and deletes this test's Redis keys.
    pub async fn stop(mut self) {
        self.shut_down().await;
    }

    /// Stops the application but keeps its database and Redis keys (until dropped).
    pub async fn shut_down(&mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let stopped = tokio::time::timeout(Duration::from_secs(30), server).await;
            assert!(stopped.is_ok(), "the application did not stop within 30 s");
        }
    }

    /// Puts many events on `orders_stream` in one MULTI/EXEC, so a consumer reads them in one
    /// batch (a reader blocked on the stream is served after the EXEC, not after the first);
    /// returns their event ids.
    pub async fn publish_order_events_at_once(&self, events: &[(&str, Value)]) -> Vec<Uuid> {
        self.pipeline_order_events(events, true).await
    }

    async fn pipeline_order_events(&self, events: &[(&str, Value)], atomic: bool) -> Vec<Uuid> {
        let occurred_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let mut pipeline = redis::pipe();
        if atomic {
            pipeline.atomic();
        }
        let mut ids = Vec::with_capacity(events.len());
        for (event_type, payload) in events {
            let event_id = Uuid::now_v7();
            ids.push(event_id);
            pipeline
                .cmd("XADD")
                .arg(format!("{}orders_stream", self.prefix))
                .arg("*")
                .arg("event_id")
                .arg(event_id.to_string())
                .arg("type")
                .arg(*event_type)
                .arg("source")
                .arg("orders-service")
                .arg("occurred_at")
                .arg(&occurred_at)
                .arg("correlation_id")
                .arg(format!("test-{event_id}"))
                .arg("payload")
                .arg(payload.to_string())
                .ignore();
        }
        let mut redis = self.redis.clone();
        let () = pipeline
            .query_async(&mut redis)
            .await
            .expect("XADD pipeline");
        ids
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The JSON body of a response, with its status.
pub async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// The id of a listing returned by the API.
pub fn id_of(product: &Value) -> Uuid {
    product["id"].as_str().unwrap().parse().unwrap()
}
