//! Builds the application: migrates the database, seeds the demo catalog if asked, binds the
//! listener, spawns the `orders_stream` consumer, the outbox relay and the stream gauges, and
//! assembles the router.

use std::time::Duration;

use anyhow::Context;
use auth_kit::Verifier;
use sqlx::PgPool;
use stream_lib::state::TaskState as StreamTaskState;
use stream_lib::{
    ConsumerSettings, StreamKeys, StreamRedis, consumer::Consumer, gauges::Gauges,
    outbox::OutboxRelay,
};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::{CancellationToken, DropGuard};
use web_kit::background::{Background, TaskHandle, TaskState};

use crate::{
    SERVICE_NAME, config::Settings, events::OrdersStreamHandler, routes, seed, state::AppState,
    usecases::CatalogCaches,
};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How long start-up waits for auth-service's key set.
const JWKS_PATIENCE: Duration = Duration::from_secs(60);

/// How long shutdown waits for the consumer and the relay to finish their in-flight work.
const BACKGROUND_GRACE: Duration = Duration::from_secs(15);

/// A built service: listening, with its consumer and relay already running.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    pool: PgPool,
    background: Vec<JoinHandle<()>>,
    /// Stops the background tasks if the application is dropped without running.
    stop: DropGuard,
}

impl Application {
    /// Connects, migrates, seeds (if `seed_catalog`), binds the port (0 picks a free one) and
    /// spawns the consumer and the outbox relay.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = web_kit::db::connect(
            &settings.database_url,
            settings.database_max_connections,
            &settings.database_timeouts,
        )
        .await
        .context("DATABASE_URL: cannot connect")?;
        web_kit::db::migrate(&pool, embedded::migrations::runner())
            .await
            .context("migrations failed")?;
        if settings.seed_catalog {
            seed::seed_catalog(&pool, settings.demo_seller_id, settings.demo2_seller_id)
                .await
                .context("seeding the demo catalog failed")?;
        }

        let redis =
            web_kit::redis_pool::create(&settings.redis_url, &settings.redis_cluster_urls, None)
                .context("REDIS_URL / REDIS_CLUSTER_URLS is not a valid Redis URL")?;
        let verifier = Verifier::from_source(&settings.auth, redis.clone(), JWKS_PATIENCE)
            .await
            .context("JWT_PUBLIC_KEY / AUTH_URL: no key to verify access tokens with")?
            .with_key_prefix(&settings.redis_key_prefix);

        // Where the streams are: the consumer, the relay and the gauges share it.
        let streams = StreamRedis::new(&settings.redis_url, &settings.redis_cluster_urls)
            .context("REDIS_URL / REDIS_CLUSTER_URLS (the streams)")?;
        let keys = StreamKeys::new(settings.redis_key_prefix.clone());
        let stop = CancellationToken::new();
        let ready_tasks = Background::new();
        let consumer_task = format!(
            "consumer {}/{}",
            settings.consumer.stream, settings.consumer.group
        );
        let consumer = Consumer::on(
            streams.clone(),
            keys.clone(),
            ConsumerSettings {
                // Unique per process, also when one `Settings` starts several replicas.
                consumer: format!("{SERVICE_NAME}-{}", uuid::Uuid::now_v7().simple()),
                ..settings.consumer.clone()
            },
            pool.clone(),
            OrdersStreamHandler::handlers(),
        )
        .with_state_listener(ready_listener(ready_tasks.register(consumer_task)));
        let gauges = Gauges::new(streams.clone(), keys.clone())
            .group(&settings.consumer.stream, &settings.consumer.group)
            .outbox(pool.clone())
            .stuck_after(settings.consumer.claim_idle);
        let relay = OutboxRelay::new(pool.clone(), streams, keys, settings.relay.clone())
            .with_state_listener(ready_listener(ready_tasks.register("outbox relay")));
        let background = vec![
            tokio::spawn({
                let stop = stop.clone();
                async move {
                    if let Err(error) = consumer.run(stop).await {
                        tracing::error!(%error, "orders_stream consumer stopped");
                    }
                }
            }),
            tokio::spawn(relay.run(stop.clone())),
            tokio::spawn(gauges.run(stop.clone())),
        ];

        let listener = TcpListener::bind(("0.0.0.0", settings.port))
            .await
            .with_context(|| format!("PORT: cannot listen on {}", settings.port))?;
        let router = web_kit::http::layers(
            routes::router(AppState {
                pool: pool.clone(),
                redis,
                verifier,
                catalog: CatalogCaches::default(),
            })
            .layer(axum::Extension(ready_tasks)),
            web_kit::http::HttpLimits::default(),
        );
        Ok(Self {
            listener,
            router,
            pool,
            background,
            stop: stop.drop_guard(),
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map_or(0, |address| address.port())
    }

    /// The database pool (tests inspect state through it).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves until `shutdown` is cancelled, then drains in-flight requests and stops the
    /// consumer and the relay (each finishes or hands back its in-flight work).
    pub async fn run_until(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let Self {
            listener,
            router,
            pool: _,
            background,
            stop,
        } = self;
        let stop = stop.disarm();
        let stopper = tokio::spawn({
            let stop = stop.clone();
            let shutdown = shutdown.clone();
            async move {
                tokio::select! {
                    () = shutdown.cancelled() => stop.cancel(),
                    () = stop.cancelled() => {}
                }
            }
        });
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        stop.cancel();
        let _ = stopper.await;
        let joined = tokio::time::timeout(BACKGROUND_GRACE, futures::future::join_all(background));
        if joined.await.is_err() {
            tracing::warn!("background tasks did not stop within the grace period");
        }
        served
    }
}

/// Reports a stream-lib task's changes of state to its entry of `/ready`.
fn ready_listener(task: TaskHandle) -> impl Fn(&StreamTaskState) + Send + Sync + 'static {
    move |state| {
        task.report(match state.clone() {
            StreamTaskState::Running => TaskState::Running,
            StreamTaskState::Paused { reason } => TaskState::Paused { reason },
            StreamTaskState::Stopped { reason } => TaskState::Stopped { reason },
        })
    }
}
