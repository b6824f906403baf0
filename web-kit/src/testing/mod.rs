//! The test kit of every crate's tests (feature `testing`, enabled only as a dev-dependency, so
//! no service binary contains it): a throw-away [`TestDatabase`] per test, a [`RedisPrefix`] of
//! the test's own on the shared Redis ([`redis_url`]), one [`wait_until`] for asynchronous
//! outcomes, the [`matrix`] of an authorization test, [`CapturedLogs`] (the JSON log lines, in
//! memory), and servers: a real three-master [`RedisCluster`] and a [`PrivateRedis`] that a test
//! may stop, restart with its data or restart empty. Each server runs under a small supervisor
//! that stops it and removes its directory when the test process closes the supervisor's input,
//! which the kernel does when the process exits or dies in any way, destructors run or not: no
//! server outlives the tests that started it.
//!
//! The servers need `redis-server` and `redis-cli` on the `PATH`. Their methods panic on failure,
//! with the server's log in the message: they are for tests.

mod cluster;
mod database;
mod logs;
pub mod matrix;
mod private;
mod redis_prefix;
mod server;
mod wait;

pub use cluster::RedisCluster;
pub use database::{TestDatabase, database_server_url, set_database_down};
pub use logs::CapturedLogs;
pub use private::PrivateRedis;
pub use redis_prefix::{RedisPrefix, redis_url};
pub use wait::{Outcome, wait_until};
