//! 10,000 entries, two consumers, random transient and permanent failures: every entry ends
//! handled exactly once or dead-lettered.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use stream_lib::{Envelope, HandlerError, RetryPolicy};

use crate::helpers::*;

const ENTRIES: u64 = 10_000;

/// What happens to an event, decided by its number: most succeed, some fail once, a few fail
/// for good (permanent or always transient).
fn fate(n: u64) -> u64 {
    (n.wrapping_mul(2_654_435_761) >> 7) % 100
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_entries_with_random_failures_are_each_handled_once_or_dead_lettered() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("soak").await;
    let calls = Ledger::default();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let calls = calls.clone();
        let mut config = config(STREAM, GROUP);
        config.batch_size = 128;
        config.concurrency = 4;
        config.retry = RetryPolicy {
            base: Duration::from_millis(5),
            factor: 2.0,
            cap: Duration::from_millis(50),
            max_attempts: 3,
            jitter: 0.5,
        };
        runs.push(spawn(
            &redis,
            &db,
            config,
            applying(move |event: Envelope| {
                let calls = calls.clone();
                async move {
                    let n = event.payload["n"].as_u64().unwrap();
                    let call = calls.record(event.event_id);
                    match fate(n) {
                        0..=2 => Err(HandlerError::permanent(anyhow::anyhow!("bad order {n}"))),
                        3..=4 => Err(HandlerError::transient(anyhow::anyhow!("always down"))),
                        5..=14 if call == 1 => {
                            Err(HandlerError::transient(anyhow::anyhow!("blip")))
                        }
                        _ => Ok(()),
                    }
                }
            }),
        ));
    }
    let events: Vec<Envelope> = (0..ENTRIES).map(placed).collect();
    let started = Instant::now();
    let mut connection = redis.connection.clone();
    for chunk in events.chunks(500) {
        let mut pipe = redis::pipe();
        for event in chunk {
            pipe.xadd(redis.key(STREAM), "*", &event.to_fields())
                .ignore();
        }
        let () = pipe.query_async(&mut connection).await.unwrap();
    }
    let expected_dead = (0..ENTRIES).filter(|n| fate(*n) <= 4).count();
    wait_until(
        Duration::from_secs(120),
        "every entry is settled",
        || async {
            db.all_effects().await as usize
                + redis.xlen(stream_lib::DEAD_LETTER_STREAM).await as usize
                >= ENTRIES as usize
                && redis.pending(STREAM, GROUP).await == 0
        },
    )
    .await;
    let elapsed = started.elapsed();
    for run in runs {
        run.stop().await;
    }
    eprintln!(
        "soak: {ENTRIES} entries settled in {elapsed:?} ({:.0}/s, {} transactions)",
        ENTRIES as f64 / elapsed.as_secs_f64(),
        db.transactions().await
    );

    let letters = redis.dead_letters().await;
    let dead: HashMap<String, u32> = letters
        .iter()
        .map(|letter| (letter.event_id.clone(), letter.attempts))
        .collect();
    assert_eq!(
        dead.len(),
        expected_dead,
        "one dead letter per failing event"
    );
    let mut effects: HashMap<uuid::Uuid, usize> = HashMap::new();
    for event_id in db.effect_order().await {
        *effects.entry(event_id).or_default() += 1;
    }
    for (n, event) in events.iter().enumerate() {
        let is_dead = dead.get(&event.event_id.to_string());
        let handled = effects.get(&event.event_id).copied().unwrap_or(0);
        if fate(n as u64) <= 4 {
            assert!(
                is_dead.is_some() && handled == 0,
                "event {n} is dead-lettered"
            );
        } else {
            assert!(
                is_dead.is_none() && handled == 1,
                "event {n} is handled exactly once"
            );
        }
        if (3..=4).contains(&fate(n as u64)) {
            assert_eq!(is_dead, Some(&3), "event {n} tried max_attempts times");
        }
    }
}

/// Through PostgreSQL and Redis: 10,000 events waiting in the outbox, one relay publishes them,
/// one consumer applies them in one transaction per sub-batch with the inbox. Prints events/s; run with
/// `cargo test -p stream-lib --release --test guarantees -- --ignored --nocapture throughput`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn throughput_through_outbox_relay_consumer_and_inbox() {
    const EVENTS: u64 = 10_000;
    let redis = TestRedis::new().await;
    let db = Arc::new(TestDb::new("throughput").await);
    let mut transaction = web_kit::db::begin(&db.pool).await.unwrap();
    for n in 0..EVENTS {
        OUTBOX
            .enqueue_envelopes(&mut transaction, &[placed(n)])
            .await
            .unwrap();
    }
    transaction.commit().await.unwrap();

    let started = Instant::now();
    let relay_redis = stream_lib::StreamRedis::node(&redis_url()).unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let relay = stream_lib::outbox::OutboxRelay::new(
        db.pool.clone(),
        relay_redis,
        redis.keys.clone(),
        stream_lib::outbox::RelayConfig::default(),
    );
    let relay = tokio::spawn(relay.run(shutdown.clone()));
    let mut config = config(STREAM, GROUP);
    config.batch_size = 128;
    let consumer = spawn(
        &redis,
        &db,
        config,
        applying(|_event: Envelope| async { Ok(()) }),
    );
    // Not XLEN: the consumer trims what it acked.
    wait_until(
        Duration::from_secs(120),
        "every event is published",
        || async {
            let left: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
            left == 0
        },
    )
    .await;
    let published = started.elapsed();
    wait_until(
        Duration::from_secs(120),
        "every event is applied",
        || async { db.all_effects().await == EVENTS as i64 },
    )
    .await;
    let elapsed = started.elapsed();
    consumer.stop().await;
    shutdown.cancel();
    relay.await.unwrap();
    eprintln!(
        "throughput: relay published {EVENTS} in {published:?} ({:.0}/s); consumer applied all after {elapsed:?} ({:.0}/s end to end)",
        EVENTS as f64 / published.as_secs_f64(),
        EVENTS as f64 / elapsed.as_secs_f64()
    );
}
