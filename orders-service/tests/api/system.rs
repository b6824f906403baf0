//! The three real services: auth-service with its ephemeral key, products-service and
//! orders-service verifying through auth's JWKS, one shared Redis prefix, three databases. All in
//! this process, or orders-service as its own binary in a fresh process ([`Orders::OwnProcess`]).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use web_kit::testing::{RedisPrefix, TestDatabase, redis_url, wait_until};

use crate::helpers::PATIENCE;

pub struct System {
    pub auth: String,
    pub products: String,
    pub orders: String,
    orders_pool: sqlx::PgPool,
    pub client: reqwest::Client,
    pub prefix: String,
    pub redis: SystemRedis,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    orders_process: Option<tokio::process::Child>,
    /// The keys under the prefix on the shared Redis, deleted with the system (a Redis of the
    /// test's own goes with its test).
    _redis_prefix: Option<RedisPrefix>,
    _databases: Vec<TestDatabase>,
}

/// Where orders-service runs.
pub enum Orders {
    /// In this process, like the other two.
    InProcess,
    /// In this process, with its settings adjusted (its database behind a proxy, say).
    InProcessWith(Box<dyn FnOnce(&mut orders_service::config::Settings) + Send>),
    /// Its own binary in a fresh process, started as a container starts it (its `main`, settings
    /// from the environment): nothing but this test has touched its metrics or logs.
    OwnProcess,
}

/// The Redis each service connects to (`REDIS_URL`: one user each, or all the same), the one the
/// test itself uses, a cluster's node URLs (`REDIS_CLUSTER_URLS` of every service: when not
/// empty, it wins over the URLs), and the key prefix.
#[derive(Clone)]
pub struct SystemRedis {
    pub auth: String,
    pub products: String,
    pub orders: String,
    pub test: String,
    pub cluster: Vec<String>,
    pub prefix: String,
}

/// Signs in as the admin `start_system_on` seeds.
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "quartz-lantern-meadow-93";
/// The password of every account [`System::sign_up`] makes.
pub const SIGN_UP_PASSWORD: &str = "plum-kayak-orbit-41";

async fn start_system() -> System {
    start_system_with(Orders::InProcess).await
}

/// The three services on the shared Redis, orders-service where `orders` says.
pub async fn start_system_with(orders: Orders) -> System {
    start_system_signing_with(orders, None).await
}

/// The three services on the shared Redis; auth-service signs with `signing` when given (else
/// a key of its own).
pub async fn start_system_signing_with(
    orders: Orders,
    signing: Option<auth_kit::signing::SigningKeys>,
) -> System {
    let prefix = RedisPrefix::new("system");
    let url = redis_url();
    let redis = SystemRedis {
        auth: url.clone(),
        products: url.clone(),
        orders: url.clone(),
        test: url,
        cluster: Vec::new(),
        prefix: prefix.as_str().to_owned(),
    };
    start_system_on_with(redis, Some(prefix), orders, signing).await
}

/// The three services on `redis`, a Redis of the test's own.
pub async fn start_system_on(redis: SystemRedis) -> System {
    start_system_on_with(redis, None, Orders::InProcess, None).await
}

async fn start_system_on_with(
    redis: SystemRedis,
    redis_prefix: Option<RedisPrefix>,
    where_orders_runs: Orders,
    signing: Option<auth_kit::signing::SigningKeys>,
) -> System {
    web_kit::telemetry::init_for_tests();
    let prefix = redis.prefix.clone();
    let shutdown = CancellationToken::new();
    let mut tasks = Vec::new();

    let auth_db = TestDatabase::create("system_auth").await.unwrap();
    let mut auth_settings = auth_service::config::Settings::new(auth_db.url());
    auth_settings.port = 0;
    auth_settings.database_max_connections = 5;
    auth_settings.redis_url = redis.auth.clone();
    auth_settings.redis_cluster_urls = redis.cluster.clone();
    auth_settings.redis_key_prefix = prefix.clone();
    auth_settings.cookie_secure = false;
    auth_settings.demo_users = false;
    auth_settings.signing_key = signing;
    auth_settings.admin = Some(auth_service::config::AdminAccount {
        email: ADMIN_EMAIL.to_owned(),
        password: ADMIN_PASSWORD.to_owned(),
        username: "admin".to_owned(),
    });
    let auth = auth_service::startup::Application::build(auth_settings)
        .await
        .unwrap();
    let auth_url = format!("http://127.0.0.1:{}", auth.port());
    let token = shutdown.clone();
    tasks.push(tokio::spawn(async move {
        auth.run_until(token).await.unwrap();
    }));

    let products_db = TestDatabase::create("system_products").await.unwrap();
    let products =
        products_service::startup::Application::build(products_service::config::Settings {
            port: 0,
            database_url: products_db.url().to_owned(),
            database_max_connections: 5,
            database_timeouts: web_kit::db::Timeouts::default(),
            redis_url: redis.products.clone(),
            redis_cluster_urls: redis.cluster.clone(),
            redis_key_prefix: prefix.clone(),
            auth: auth_kit::KeySource::Url(auth_url.clone()),
            seed_catalog: false,
            demo_seller_id: Uuid::now_v7(),
            demo2_seller_id: Uuid::now_v7(),
            consumer: products_service::config::consumer_defaults(),
            relay: stream_lib::outbox::RelayConfig::default(),
        })
        .await
        .unwrap();
    let products_url = format!("http://127.0.0.1:{}", products.port());
    let token = shutdown.clone();
    tasks.push(tokio::spawn(async move {
        products.run_until(token).await.unwrap();
    }));

    let orders_db = TestDatabase::create("system_orders").await.unwrap();
    let (orders_url, orders_pool, orders_process) = match where_orders_runs {
        in_process @ (Orders::InProcess | Orders::InProcessWith(_)) => {
            let mut settings = orders_service::config::Settings {
                port: 0,
                database_url: orders_db.url().to_owned(),
                database_max_connections: 5,
                database_timeouts: web_kit::db::Timeouts::default(),
                redis_url: redis.orders.clone(),
                redis_cluster_urls: redis.cluster.clone(),
                redis_key_prefix: prefix.clone(),
                auth: auth_kit::KeySource::Url(auth_url.clone()),
                reservation_ttl: Duration::from_secs(900),
                pending_timeout: Duration::from_secs(120),
                sweep_interval: Duration::from_millis(500),
                idempotency_key_ttl: Duration::from_secs(86_400),
                buyer_limits: orders_service::config::BuyerLimits::default(),
                consumer: orders_service::config::consumer_defaults(),
                relay: stream_lib::outbox::RelayConfig::default(),
            };
            if let Orders::InProcessWith(configure) = in_process {
                configure(&mut settings);
            }
            let orders = orders_service::startup::Application::build(settings)
                .await
                .unwrap();
            let orders_url = format!("http://127.0.0.1:{}", orders.port());
            let orders_pool = orders.pool().clone();
            let token = shutdown.clone();
            tasks.push(tokio::spawn(async move {
                orders.run_until(token).await.unwrap();
            }));
            (orders_url, orders_pool, None)
        }
        Orders::OwnProcess => {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_orders-service"))
                .env_clear()
                .env("PORT", port.to_string())
                .env("DATABASE_URL", orders_db.url())
                .env("DATABASE_MAX_CONNECTIONS", "5")
                .env("REDIS_URL", &redis.orders)
                .env("REDIS_CLUSTER_URLS", redis.cluster.join(","))
                .env("REDIS_KEY_PREFIX", &prefix)
                .env("AUTH_URL", &auth_url)
                .env("SWEEP_INTERVAL_MS", "500")
                .env("LOG_FORMAT", "json")
                .env(
                    "RUST_LOG",
                    std::env::var("RUST_LOG").unwrap_or("warn".into()),
                )
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let orders_url = format!("http://127.0.0.1:{port}");
            let client = reqwest::Client::new();
            wait_until(PATIENCE, "the orders-service process is ready", || async {
                let response = client.get(format!("{orders_url}/ready")).send().await;
                response.ok()?.status().is_success().then_some(())
            })
            .await;
            let orders_pool = sqlx::PgPool::connect(orders_db.url()).await.unwrap();
            (orders_url, orders_pool, Some(child))
        }
    };

    System {
        auth: auth_url,
        products: products_url,
        orders: orders_url,
        orders_pool,
        client: reqwest::Client::new(),
        prefix,
        redis,
        shutdown,
        tasks,
        orders_process,
        _redis_prefix: redis_prefix,
        _databases: vec![auth_db, products_db, orders_db],
    }
}

impl System {
    /// Signs up a new account and logs in; returns `(user id, access token)`.
    pub async fn sign_up(&self, name: &str) -> (Uuid, String) {
        let suffix = &Uuid::new_v4().simple().to_string()[..8];
        let username = format!("{name}{suffix}");
        let email = format!("{username}@example.com");
        let password = SIGN_UP_PASSWORD;
        let signup = self
            .client
            .post(format!("{}/api/auth/signup", self.auth))
            .json(&json!({"username": username, "email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(signup.status(), 201, "{}", signup.text().await.unwrap());
        self.log_in(&email, password).await
    }

    /// Logs in; returns `(user id, access token)`.
    async fn log_in(&self, email: &str, password: &str) -> (Uuid, String) {
        let login: Value = self
            .client
            .post(format!("{}/api/auth/login", self.auth))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = login["user"]["id"].as_str().unwrap().parse().unwrap();
        (id, login["access_token"].as_str().unwrap().to_owned())
    }

    /// A listing by `seller`, once it has reached the orders catalog copy (product.created
    /// travels products -> inventory_stream -> orders).
    pub async fn listing(&self, seller: &str, stock: i64) -> Uuid {
        let created = self
            .client
            .post(format!("{}/api/products", self.products))
            .bearer_auth(seller)
            .json(
                &json!({"name": "Kind of Blue (1959 pressing)", "category": "records",
                          "price": "24.99", "stock": stock}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
        let product: Value = created.json().await.unwrap();
        let product_id: Uuid = product["id"].as_str().unwrap().parse().unwrap();
        wait_until(
            PATIENCE,
            "the listing reaches the orders catalog copy",
            || async {
                sqlx::query("SELECT 1 FROM catalog_products WHERE product_id = $1")
                    .bind(product_id)
                    .fetch_optional(&self.orders_pool)
                    .await
                    .unwrap()
            },
        )
        .await;
        product_id
    }

    /// Places an order for `quantity` of `product_id` (with an Idempotency-Key); returns the
    /// PENDING order and its URL.
    pub async fn place(&self, buyer: &str, product_id: Uuid, quantity: i64) -> (Value, String) {
        let placed = self
            .client
            .post(format!("{}/api/orders", self.orders))
            .bearer_auth(buyer)
            .header("Idempotency-Key", "system-checkout")
            .json(&json!({"items": [{"product_id": product_id, "quantity": quantity}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(placed.status(), 201, "{}", placed.text().await.unwrap());
        let order: Value = placed.json().await.unwrap();
        let url = format!(
            "{}/api/orders/{}",
            self.orders,
            order["id"].as_str().unwrap()
        );
        (order, url)
    }

    /// The order at `order_url` once it reaches `status`.
    pub async fn wait_for_status(&self, order_url: &str, buyer: &str, status: &str) -> Value {
        wait_until(PATIENCE, &format!("the order is {status}"), || async {
            let order = self.get(order_url.to_owned(), buyer).await;
            (order["status"] == status).then_some(order)
        })
        .await
    }

    pub async fn get(&self, url: String, token: &str) -> Value {
        let response = self
            .client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.unwrap()
    }

    /// Signs in as the seeded admin; returns the access token.
    pub async fn admin(&self) -> String {
        self.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.1
    }

    pub async fn stop(mut self) {
        if let Some(mut child) = self.orders_process.take() {
            child.kill().await.unwrap();
        }
        self.shutdown.cancel();
        for task in self.tasks {
            tokio::time::timeout(PATIENCE, task)
                .await
                .expect("every service stops in time")
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_buyer_orders_and_pays_for_a_listing_across_the_three_real_services() {
    let system = start_system().await;
    buy_pay_and_sign_out(&system).await;
    system.stop().await;
}

/// A seller lists, a buyer orders (the reservation crosses both streams) and pays, then signs
/// out, and orders-service refuses the revoked token.
pub async fn buy_pay_and_sign_out(system: &System) {
    let (_, seller) = system.sign_up("seller").await;
    let (buyer_id, buyer) = system.sign_up("buyer").await;

    let product_id = system.listing(&seller, 5).await;
    let (order, order_url) = system.place(&buyer, product_id, 2).await;
    assert_eq!(order["user_id"], json!(buyer_id));
    assert_eq!(order["total"], "49.98");

    let confirmed = system
        .wait_for_status(&order_url, &buyer, "CONFIRMED")
        .await;
    assert!(confirmed["expires_at"].is_string());
    let product_url = format!("{}/api/products/{product_id}", system.products);
    let reserved: Value = system
        .client
        .get(&product_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reserved["stock"], 3);

    let paid = system
        .client
        .post(format!("{order_url}/pay"))
        .bearer_auth(&buyer)
        .json(&json!({"card_number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    let paid: Value = paid.json().await.unwrap();
    assert_eq!(paid["status"], "PAID");

    // The sale is final: the units stay sold once products-service has handled order.paid.
    let client = redis::Client::open(system.redis.test.as_str()).unwrap();
    let orders_stream = format!("{}orders_stream", system.prefix);
    wait_until(
        PATIENCE,
        "products-service has consumed every order event",
        || async {
            let mut connection = client.get_multiplexed_async_connection().await.ok()?;
            let groups: redis::streams::StreamInfoGroupsReply =
                redis::AsyncCommands::xinfo_groups(&mut connection, &orders_stream)
                    .await
                    .ok()?;
            let length: usize = redis::AsyncCommands::xlen(&mut connection, &orders_stream)
                .await
                .ok()?;
            let group = groups
                .groups
                .iter()
                .find(|group| group.name == "products-service")?;
            (length == 2 && group.pending == 0 && group.lag == Some(0)).then_some(())
        },
    )
    .await;
    let sold: Value = system
        .client
        .get(&product_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sold["stock"], 3);
    let order = system.get(order_url.clone(), &buyer).await;
    assert_eq!(order["status"], "PAID");

    // Logging out deny-lists the access token under the shared prefix: orders-service refuses it.
    let logout = system
        .client
        .post(format!("{}/api/auth/logout", system.auth))
        .bearer_auth(&buyer)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let revoked = system
        .client
        .get(&order_url)
        .bearer_auth(&buyer)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);
}
