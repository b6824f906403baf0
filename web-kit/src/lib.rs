//! Building blocks that must behave identically in every service of the marketplace: logging
//! set-up, reading settings from the environment, graceful shutdown, the standard HTTP layers, the
//! one JSON error body (and extractors that speak it), database start-up with refinery
//! migrations, the readiness probe (`GET /ready`, told by background tasks when they stop or
//! pause), the build's identity, the Prometheus endpoint and ids as types. With the `testing`
//! feature (tests only), the test kit of every crate: throw-away databases, Redis key prefixes,
//! `wait_until`, and real Redis servers (a cluster, a private single server).
//!
//! Everything that is domain-specific (settings, the error enum, SQL) stays in the services.

pub mod background;
pub mod build_info;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod http;
pub mod id;
pub mod observability;
pub mod openapi;
pub mod otel;
pub mod readiness;
pub mod redis_pool;
pub mod same_site;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::ErrorBody;
pub use extract::{Json, Path, Query, RequestId, ValidJson};
