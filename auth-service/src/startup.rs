//! Builds the application: database (migrated), Redis, signing key, seeded accounts, router,
//! listener.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use auth_kit::signing::SigningKeys;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    config::{AppEnv, Settings},
    devices::Devices,
    passwords::Passwords,
    rate_limit::RateLimiter,
    routes, seed,
    sessions::{Lifetimes, Sessions},
    state::{AppState, DemoUsers},
};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// A built, not yet running, service.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Connects and migrates the database, seeds accounts, binds the port (0 picks a free one)
    /// and builds the router.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let keys = match settings.signing_key.clone() {
            Some(keys) => keys,
            None if settings.app_env == AppEnv::Production => {
                bail!("JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE must be set when APP_ENV=production")
            }
            None => {
                tracing::warn!(
                    "!!! NO SIGNING KEY CONFIGURED: using an EPHEMERAL Ed25519 key. Every \
                     session ends when this process restarts and replicas cannot verify each \
                     other's tokens. Set JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE. !!!"
                );
                SigningKeys::generate()
            }
        };
        let keys = Arc::new(keys);

        let pool = web_kit::db::connect(
            &settings.database_url,
            settings.database_max_connections,
            &settings.database_timeouts,
        )
        .await
        .context("DATABASE_URL: cannot connect")?;
        web_kit::db::migrate(&pool, embedded::migrations::runner())
            .await
            .context("running migrations")?;

        let mut pool_config = deadpool_redis::PoolConfig::new(16);
        pool_config.timeouts.wait = Some(Duration::from_secs(2));
        pool_config.timeouts.create = Some(Duration::from_secs(2));
        pool_config.timeouts.recycle = Some(Duration::from_secs(2));
        let redis = web_kit::redis_pool::create(
            &settings.redis_url,
            &settings.redis_cluster_urls,
            Some(pool_config),
        )
        .context("REDIS_URL / REDIS_CLUSTER_URLS: cannot build the Redis pool")?;

        let passwords = Passwords::new()?;
        if settings.demo_users {
            seed::demo_users(&pool, &passwords).await?;
        }
        if let Some(admin) = &settings.admin {
            seed::admin(&pool, &passwords, admin).await?;
        }

        let verifier = keys
            .verifier(redis.clone())
            .with_key_prefix(settings.redis_key_prefix.clone());
        let sessions = Sessions::new(
            keys.clone(),
            redis.clone(),
            settings.redis_key_prefix.clone(),
            Lifetimes {
                access: settings.access_token_ttl,
                refresh: settings.refresh_token_ttl,
                session_max: settings.session_max_lifetime,
            },
            settings.cookie_secure,
        );
        let limiter = RateLimiter::new(
            redis.clone(),
            settings.redis_key_prefix.clone(),
            settings.rate_limits,
            Devices::new(keys.clone(), settings.cookie_secure),
        );
        let state = AppState {
            pool,
            redis,
            keys,
            verifier,
            passwords,
            limiter,
            sessions,
            trusted_proxies: settings.trusted_proxies.clone(),
            demo_users: DemoUsers(settings.demo_users),
        };
        let router = web_kit::http::layers(
            routes::router(state),
            web_kit::http::HttpLimits {
                body_bytes: settings.max_body_bytes,
                ..web_kit::http::HttpLimits::default()
            },
        );
        let listener = TcpListener::bind(("0.0.0.0", settings.port))
            .await
            .with_context(|| format!("PORT: cannot listen on {}", settings.port))?;
        Ok(Self { listener, router })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map_or(0, |address| address.port())
    }

    /// Serves until `shutdown` is cancelled, then drains in-flight requests.
    pub async fn run_until(self, shutdown: CancellationToken) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    }
}
