//! Helpers for tests (feature `testing`, enabled only as a dev-dependency): the [`matrix`] of an
//! authorization test, [`CapturedLogs`] (the JSON log lines, in memory), and servers: a real three-master
//! [`RedisCluster`] and a [`PrivateRedis`] that a test may stop, restart with its data or restart
//! empty. Each server runs under a small supervisor that stops it and removes its directory when
//! the test process closes the supervisor's input, which the kernel does when the process exits
//! or dies in any way, destructors run or not: no server outlives the tests that started it.
//!
//! Both need `redis-server` and `redis-cli` on the `PATH`. Their methods panic on failure, with
//! the server's log in the message: they are for tests.

mod cluster;
mod logs;
pub mod matrix;
mod private;
mod server;

pub use cluster::RedisCluster;
pub use logs::CapturedLogs;
pub use private::PrivateRedis;
