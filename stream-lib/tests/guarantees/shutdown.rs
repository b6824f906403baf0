//! Shutdown during a blocking read: the consumer unblocks its own read (`CLIENT UNBLOCK` on the
//! reading connection's id) and returns at once, instead of waiting for the read to end.
//!
//! The consumer's loop shortens each read to the next maintenance, reclaim or retry check; the
//! suite's settings ([`config`]) run maintenance every 300 ms, so their "30 s" read really blocks
//! for at most 300 ms and a shutdown test on them passes without any unblock. [`long_reads`] moves
//! those checks beyond the test, so the read blocks for its whole 30 s: without the unblock the
//! consumer would give the read up only after its 1 s fallback.

use std::time::{Duration, Instant};

use stream_lib::{ConsumerSettings, StreamKeys, StreamRedis};
use uuid::Uuid;
use web_kit::testing::PrivateRedis;

use crate::helpers::{GROUP, Running, STREAM, TestDb, applying, config, spawn_with, wait_until};

/// Shutdown within this of the stop: far less than the consumer's 1 s fallback.
const UNBLOCKED_WITHIN: Duration = Duration::from_millis(900);

/// `config` with maintenance, reclaims and retry checks far beyond any test, so a read blocks
/// for its whole `block` (30 s in the suite).
pub fn long_reads(mut config: ConsumerSettings) -> ConsumerSettings {
    assert_eq!(config.block, Duration::from_secs(30));
    config.maintenance_interval = Duration::from_secs(300);
    // Reclaims and retry checks run every claim_idle / 2.
    config.claim_idle = Duration::from_secs(600);
    config.shutdown_grace = Duration::from_secs(5);
    config
}

/// True when `clients` (a `CLIENT LIST` reply) shows a client blocked (flag `b`) for at least a
/// second in one command (`idle`): a read that the loop did not cut short.
fn blocked_for_a_second(clients: &str) -> bool {
    clients.lines().any(|client| {
        let field = |name: &str| {
            client
                .split(' ')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        };
        field("flags").is_some_and(|flags| flags.contains('b'))
            && field("idle").and_then(|idle| idle.parse::<u64>().ok()) >= Some(1)
    })
}

/// Waits until `clients` (a `CLIENT LIST` where the read blocks) shows the consumer's read
/// blocked for a second, then stops `running` and requires it back within [`UNBLOCKED_WITHIN`].
pub async fn stop_during_the_read(running: Running, clients: impl AsyncFn() -> String) {
    wait_until(
        Duration::from_secs(20),
        "the consumer has blocked on its read for a second",
        || async { blocked_for_a_second(&clients().await) },
    )
    .await;

    let started = Instant::now();
    running.stop().await;
    let took = started.elapsed();

    assert!(took < UNBLOCKED_WITHIN, "shutdown took {took:?}");
}

#[tokio::test]
async fn shutdown_during_a_30_s_blocking_read_unblocks_it_and_returns_at_once() {
    // A server of its own: the only client blocked on it is the consumer's read.
    let redis = PrivateRedis::start().await;
    let keys = StreamKeys::new(format!("slshutdown-{}:", Uuid::new_v4().simple()));
    let db = TestDb::new("shutdown_unblocks").await;
    let running = spawn_with(
        StreamRedis::node(&redis.url()).unwrap(),
        &keys,
        &db,
        long_reads(config(STREAM, GROUP)),
        applying(|_| async { Ok(()) }),
    );
    let connection = redis.connection().await;
    stop_during_the_read(running, async || {
        redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut connection.clone())
            .await
            .unwrap()
    })
    .await;
}
