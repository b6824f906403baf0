//! The library benchmark (ignored: a measurement, the lead runs it on a quiet machine):
//!
//! ```text
//! cargo test -p stream-lib --release --test guarantees -- --ignored --nocapture bench::
//! ```
//!
//! Compare with `redis-benchmark -P 16 -n 200000 XADD s MAXLEN '~' 100000 '*' f v` in the same
//! run (target: at least 35 % of it).

use std::time::{Duration, Instant};

use stream_lib::{Envelope, Handlers, Tx};

use crate::helpers::*;

const MESSAGES: u64 = 100_000;

/// Consume and ack with a no-op handler (the library still records the inbox and commits once
/// per sub-batch). Prints messages/s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn bench_consume_and_ack_with_a_no_op_handler() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("bench_consume").await;
    let mut connection = redis.connection.clone();
    let events: Vec<Envelope> = (0..MESSAGES).map(placed).collect();
    for chunk in events.chunks(1000) {
        let mut pipe = redis::pipe();
        for event in chunk {
            pipe.xadd(redis.key(STREAM), "*", &event.to_fields())
                .ignore();
        }
        let () = pipe.query_async(&mut connection).await.unwrap();
    }
    let batch_size = std::env::var("STREAM_BATCH_SIZE")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(512);
    let concurrency = std::env::var("STREAM_CONCURRENCY")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2);
    let mut config = config(STREAM, GROUP);
    config.batch_size = batch_size;
    config.concurrency = concurrency;
    config.maintenance_interval = Duration::from_secs(3600);
    let handlers = Handlers::new()
        .on_fn(|_tx: &mut Tx, _event: Placed, _meta: &Envelope| Box::pin(async { Ok(()) }));
    let started = Instant::now();
    let running = spawn(&redis, &db, config, handlers);
    wait_until(
        Duration::from_secs(600),
        "every message is acked",
        || async {
            let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
                .fetch_one(&db.pool)
                .await
                .unwrap();
            inbox == MESSAGES as i64 && redis.pending(STREAM, GROUP).await == 0
        },
    )
    .await;
    let elapsed = started.elapsed();
    running.stop().await;
    eprintln!(
        "bench consume+ack (no-op handler, inbox, batch {batch_size}, concurrency {concurrency}): \
         {MESSAGES} messages in {elapsed:?} = {:.0} messages/s",
        MESSAGES as f64 / elapsed.as_secs_f64()
    );
}
