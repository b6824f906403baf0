//! Builds the application: database (migrated), Redis, token verifier, the router; and runs the
//! server with its background tasks (outbox relay, inventory consumer, stream gauges, sweeper,
//! live-status subscriber), all stopped by one shutdown token.

use std::time::Duration;

use anyhow::Context;
use auth_kit::Verifier;
use sqlx::PgPool;
use stream_lib::state::TaskState as StreamTaskState;
use stream_lib::{
    ConsumerSettings, StreamKeys, StreamRedis, consumer::Consumer, gauges::Gauges,
    outbox::OutboxRelay,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use web_kit::background::{Background, TaskHandle, TaskState};

use crate::{
    SERVICE_NAME,
    config::Settings,
    events::InventoryStreamHandler,
    live::{Live, Subscriber},
    placements::Placements,
    routes,
    state::{AppState, Timing},
    sweeper::Sweeper,
};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How long start-up waits for auth-service's key set.
const JWKS_PATIENCE: Duration = Duration::from_secs(60);

/// A built, not yet running, service.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    pool: PgPool,
    /// Where the streams are: the consumer, the relay, the gauges and the admin routes share it.
    stream_redis: StreamRedis,
    keys: StreamKeys,
    settings: Settings,
    live: Live,
    subscriber: Subscriber,
    shutdown: CancellationToken,
    /// The consumer's and the relay's states, for `/ready`.
    background: Background,
}

impl Application {
    /// Connects and migrates the database, connects Redis, gets the verification key, binds the
    /// port (0 picks a free one) and builds the router.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = web_kit::db::connect(
            &settings.database_url,
            settings.database_max_connections,
            &settings.database_timeouts,
        )
        .await
        .context("DATABASE_URL")?;
        web_kit::db::migrate(&pool, embedded::migrations::runner()).await?;
        let redis =
            web_kit::redis_pool::create(&settings.redis_url, &settings.redis_cluster_urls, None)
                .context("REDIS_URL / REDIS_CLUSTER_URLS")?;
        let verifier = Verifier::from_source(&settings.auth, redis.clone(), JWKS_PATIENCE)
            .await
            .context("JWT_PUBLIC_KEY / AUTH_URL: no key to verify access tokens with")?
            .with_key_prefix(settings.redis_key_prefix.clone());
        let stream_redis = StreamRedis::new(&settings.redis_url, &settings.redis_cluster_urls)
            .context("REDIS_URL / REDIS_CLUSTER_URLS (the streams)")?;
        let keys = StreamKeys::new(settings.redis_key_prefix.clone());
        let live = Live::new(redis.clone(), &settings.redis_key_prefix);
        let subscriber = live
            .subscriber()
            .await
            .context("REDIS_URL / REDIS_CLUSTER_URLS (subscribing to status changes)")?;
        let shutdown = CancellationToken::new();
        let state = AppState {
            pool: pool.clone(),
            redis: redis.clone(),
            stream_redis: stream_redis.clone(),
            verifier,
            keys: keys.clone(),
            live: live.clone(),
            shutdown: shutdown.clone(),
            timing: Timing::default(),
            streams: crate::routes::StreamSlots::new(crate::routes::STREAMS_PER_USER),
            placements: Placements::new(
                redis.clone(),
                settings.redis_key_prefix.clone(),
                settings.buyer_limits,
            ),
        };
        let background = Background::new();
        let router = web_kit::http::layers(
            routes::router(state).layer(axum::Extension(background.clone())),
            web_kit::http::HttpLimits::default(),
        );
        let listener = TcpListener::bind(("0.0.0.0", settings.port)).await?;
        Ok(Self {
            listener,
            router,
            pool,
            stream_redis,
            keys,
            settings,
            live,
            subscriber,
            shutdown,
            background,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map_or(0, |address| address.port())
    }

    /// The database pool (tests inspect it).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves and runs the background tasks until `shutdown` is cancelled; then stops accepting,
    /// ends open event streams, drains requests and waits for the tasks to finish.
    pub async fn run_until(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let internal = self.shutdown.clone();
        let bridge = tokio::spawn({
            let internal = internal.clone();
            async move {
                shutdown.cancelled().await;
                internal.cancel();
            }
        });
        let consumer = Consumer::on(
            self.stream_redis.clone(),
            self.keys.clone(),
            ConsumerSettings {
                // Unique per process, also when one `Settings` starts several replicas.
                consumer: format!("{SERVICE_NAME}-{}", uuid::Uuid::now_v7().simple()),
                ..self.settings.consumer.clone()
            },
            self.pool.clone(),
            InventoryStreamHandler {
                live: self.live.clone(),
                reservation_ttl: self.settings.reservation_ttl,
            }
            .handlers(),
        )
        .with_state_listener(ready_listener(self.background.register(format!(
            "consumer {}/{}",
            self.settings.consumer.stream, self.settings.consumer.group
        ))));
        let relay = OutboxRelay::new(
            self.pool.clone(),
            self.stream_redis.clone(),
            self.keys.clone(),
            self.settings.relay.clone(),
        )
        .with_state_listener(ready_listener(self.background.register("outbox relay")));
        let gauges = Gauges::new(self.stream_redis.clone(), self.keys.clone())
            .group(
                &self.settings.consumer.stream,
                &self.settings.consumer.group,
            )
            .outbox(self.pool.clone())
            .stuck_after(self.settings.consumer.claim_idle);
        let sweeper = Sweeper {
            pool: self.pool.clone(),
            live: self.live.clone(),
            pending_timeout: self.settings.pending_timeout,
            interval: self.settings.sweep_interval,
            idempotency_key_ttl: self.settings.idempotency_key_ttl,
        };
        let tasks = [
            tokio::spawn(relay.run(internal.clone())),
            tokio::spawn(gauges.run(internal.clone())),
            tokio::spawn(sweeper.run(internal.clone())),
            tokio::spawn(self.subscriber.run(internal.clone())),
            tokio::spawn({
                let token = internal.clone();
                async move {
                    if let Err(error) = consumer.run(token).await {
                        tracing::error!(%error, "inventory consumer stopped");
                    }
                }
            }),
        ];
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(internal.clone().cancelled_owned())
            .await;
        internal.cancel();
        bridge.abort();
        for task in tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "background task failed");
            }
        }
        self.pool.close().await;
        served.context("serving HTTP")
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
