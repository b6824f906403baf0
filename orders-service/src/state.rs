//! What handlers share; each takes only the parts it uses through `FromRef`.

use std::time::Duration;

use auth_kit::Verifier;
use axum::extract::FromRef;
use sqlx::PgPool;
use stream_lib::StreamKeys;
use tokio_util::sync::CancellationToken;

use crate::{live::Live, placements::Placements, routes::StreamSlots};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub pool: PgPool,
    /// The service's own keys and channel (deny-list, limits, live updates; `/ready`).
    pub redis: web_kit::redis_pool::RedisPool,
    /// Where the streams are (`REDIS_URL`, or `REDIS_CLUSTER_URLS` when set), for the admin
    /// routes over them.
    pub stream_redis: stream_lib::StreamRedis,
    pub verifier: Verifier,
    pub keys: StreamKeys,
    pub live: Live,
    /// Cancelled at shutdown: ends open event streams so the server can drain.
    pub shutdown: CancellationToken,
    pub timing: Timing,
    /// Event streams open per user (on this replica).
    pub streams: StreamSlots,
    /// Per-buyer placement limits.
    pub placements: Placements,
}

/// Durations the handlers need.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// How often an event stream re-reads the database, in case a notification was lost.
    pub resync: Duration,
    /// Keep-alive comment interval of event streams.
    pub keep_alive: Duration,
}
