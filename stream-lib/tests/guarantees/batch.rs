//! stream-lib 2's batch consumer: one transaction per sub-batch, one bad entry fails only
//! itself, aggregates keep their order, unhandled types are counted, outages pause instead of
//! dead-lettering, the deadline abandons a hung handler, only the owner schedules a retry.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use redis::AsyncCommands;
use stream_lib::{Envelope, HandlerError};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn a_batch_is_applied_in_one_transaction_per_sub_batch() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("one_transaction").await;
    let events: Vec<Envelope> = (0..100).map(placed).collect();
    for event in &events {
        redis.publish(STREAM, event).await;
    }
    let mut config = config(STREAM, GROUP);
    config.batch_size = 128;
    config.concurrency = 2;
    let running = spawn(&redis, &db, config, applying(|_event| async { Ok(()) }));
    wait_until(
        Duration::from_secs(10),
        "every entry is applied and acked",
        || async { db.all_effects().await == 100 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    running.stop().await;
    assert_eq!(
        db.transactions().await,
        2,
        "100 entries read at once, two sub-batches: two transactions"
    );
}

#[tokio::test]
async fn one_bad_entry_fails_only_itself_and_the_rest_of_its_batch_commits() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("one_bad_entry").await;
    let events: Vec<Envelope> = (0..40).map(placed).collect();
    let bad = events[17].event_id;
    for event in &events {
        redis.publish(STREAM, event).await;
    }
    let mut config = config(STREAM, GROUP);
    config.concurrency = 1;
    let running = spawn(
        &redis,
        &db,
        config,
        applying(move |event: Envelope| async move {
            if event.event_id == bad {
                return Err(HandlerError::permanent(anyhow::anyhow!("poison")));
            }
            Ok(())
        }),
    );
    wait_until(Duration::from_secs(10), "the batch is settled", || async {
        db.all_effects().await == 39
            && redis.dead_letters().await.len() == 1
            && redis.pending(STREAM, GROUP).await == 0
    })
    .await;
    running.stop().await;
    assert_eq!(db.effects(bad).await, 0);
    for event in events.iter().filter(|event| event.event_id != bad) {
        assert_eq!(db.effects(event.event_id).await, 1);
    }
    assert_eq!(redis.dead_letters().await[0].event_id, bad.to_string());
    assert_eq!(
        db.transactions().await,
        1,
        "the other 39 commit together (one savepoint each)"
    );
}

#[tokio::test]
async fn entries_of_one_aggregate_are_applied_in_stream_order() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("aggregate_order").await;
    let position = publish_round_aggregates(&redis, 200, 5).await;
    let mut config = config(STREAM, GROUP);
    config.batch_size = 32;
    config.concurrency = 4;
    let running = spawn(
        &redis,
        &db,
        config,
        applying(|event: Envelope| async move {
            // Uneven handler times, so sub-batches finish out of step.
            let n = event.payload["n"].as_u64().unwrap();
            tokio::time::sleep(Duration::from_millis(n % 3)).await;
            Ok(())
        }),
    );
    wait_until(
        Duration::from_secs(20),
        "every entry is applied",
        || async { db.all_effects().await == 200 },
    )
    .await;
    running.stop().await;
    assert_stream_order_per_aggregate(&db, &position).await;
}

#[tokio::test]
async fn an_entry_of_an_unhandled_type_is_acked_and_counted_by_type() {
    let handle = web_kit::observability::prometheus().expect("the recorder is installed");
    let redis = TestRedis::new().await;
    let db = TestDb::new("unhandled_type").await;
    let stream = format!("skipped_{}", Uuid::new_v4().simple());
    let ledger = Ledger::default();
    let running = spawn(&redis, &db, config(&stream, GROUP), ledger.recorder());
    for n in 0..2 {
        let unknown = Envelope::new("order.teleported", "orders-service", "r", &n).unwrap();
        redis.publish(&stream, &unknown).await;
    }
    let known = placed(1);
    redis.publish(&stream, &known).await;
    let line = format!(
        "stream_entries_skipped_total{{stream=\"{stream}\",group=\"{GROUP}\",type=\"order.teleported\"}} 2"
    );
    wait_until(
        Duration::from_secs(10),
        "the skip is counted and acked",
        || async {
            handle.render().lines().any(|l| l == line)
                && ledger.count(known.event_id) == 1
                && redis.pending(&stream, GROUP).await == 0
        },
    )
    .await;
    running.stop().await;
    assert_eq!(ledger.total(), 1, "no handler saw the unknown type");
}

#[tokio::test]
async fn a_database_outage_longer_than_the_retry_budget_dead_letters_nothing_and_applies_everything_once()
 {
    let redis = TestRedis::new().await;
    let db = TestDb::new("outage").await;
    let config = config(STREAM, GROUP);
    // 4 attempts 20 ms apart and doubling: about 300 ms of budget, far below the outage.
    let budget: Duration = (1..config.retry.max_attempts)
        .map(|attempt| config.retry.delay(attempt))
        .sum();
    let running = spawn(&redis, &db, config, applying(|_event| async { Ok(()) }));
    let before: Vec<Envelope> = (0..10).map(placed).collect();
    for event in &before {
        redis.publish(STREAM, event).await;
    }
    wait_until(
        Duration::from_secs(10),
        "the first events are applied",
        || async { db.all_effects().await == 10 },
    )
    .await;

    web_kit::testing::set_database_down(&db.name, true)
        .await
        .unwrap();
    let during: Vec<Envelope> = (10..40).map(placed).collect();
    for event in &during {
        redis.publish(STREAM, event).await;
    }
    let outage = (budget * 10).max(Duration::from_secs(3));
    tokio::time::sleep(outage).await;
    assert!(
        redis.dead_letters().await.is_empty(),
        "nothing is dead-lettered during the outage"
    );
    web_kit::testing::set_database_down(&db.name, false)
        .await
        .unwrap();

    wait_until(
        Duration::from_secs(30),
        "every event is applied after the outage",
        || async { db.all_effects().await == 40 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    running.stop().await;
    for event in before.iter().chain(&during) {
        assert_eq!(db.effects(event.event_id).await, 1, "applied once");
    }
    assert!(redis.dead_letters().await.is_empty());
}

#[tokio::test]
async fn a_handler_past_its_deadline_is_abandoned_and_retried_without_holding_up_the_others() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("deadline").await;
    let events: Vec<Envelope> = (0..10).map(placed).collect();
    let hung = events[3].event_id;
    for event in &events {
        redis.publish(STREAM, event).await;
    }
    let mut config = config(STREAM, GROUP);
    config.handler_deadline = Duration::from_millis(500);
    config.concurrency = 1;
    let calls = Ledger::default();
    let seen = calls.clone();
    let started = Instant::now();
    let running = spawn(
        &redis,
        &db,
        config,
        applying(move |event: Envelope| {
            let seen = seen.clone();
            async move {
                if seen.record(event.event_id) == 1 && event.event_id == hung {
                    // A frozen dependency: never answers.
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                Ok(())
            }
        }),
    );
    wait_until(
        Duration::from_secs(15),
        "every entry is applied",
        || async { db.all_effects().await == 10 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    let elapsed = started.elapsed();
    running.stop().await;
    assert_eq!(calls.count(hung), 2, "abandoned once, then retried");
    assert!(redis.dead_letters().await.is_empty());
    for event in &events {
        assert_eq!(db.effects(event.event_id).await, 1);
    }
    assert!(
        elapsed < Duration::from_secs(5),
        "bounded by the deadline, not the hang: {elapsed:?}"
    );
}

#[tokio::test]
async fn only_the_consumer_that_owns_an_entry_schedules_its_retry() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("retry_owner").await;
    let (started, gate) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let returned = Arc::new(AtomicUsize::new(0));
    let (started1, gate1, returned1) = (
        Arc::clone(&started),
        Arc::clone(&gate),
        Arc::clone(&returned),
    );
    let running = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        on_placed(move |_event: Envelope| {
            let (started, gate, returned) = (
                Arc::clone(&started1),
                Arc::clone(&gate1),
                Arc::clone(&returned1),
            );
            async move {
                started.notify_one();
                gate.notified().await;
                returned.fetch_add(1, Ordering::SeqCst);
                Err(HandlerError::transient(anyhow::anyhow!("late failure")))
            }
        }),
    );
    let id = redis.publish(STREAM, &placed(1)).await;
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .unwrap();
    // Another consumer took the entry over while the handler ran (this one looked dead).
    let mut connection = redis.connection.clone();
    let _: redis::Value = redis::cmd("XCLAIM")
        .arg(redis.key(STREAM))
        .arg(GROUP)
        .arg("intruder")
        .arg(0)
        .arg(&id)
        .query_async(&mut connection)
        .await
        .unwrap();
    gate.notify_one();
    wait_until(Duration::from_secs(5), "the handler failed", || async {
        returned.load(Ordering::SeqCst) == 1
    })
    .await;
    // The stale owner settles right after its handler returned.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let due: Option<f64> = connection
        .zscore(redis.keys.retries(STREAM, GROUP), &id)
        .await
        .unwrap();
    let attempts: Option<u32> = connection
        .hget(redis.keys.attempts(STREAM, GROUP), &id)
        .await
        .unwrap();
    running.kill().await;
    assert_eq!(due, None, "the stale owner scheduled no retry");
    assert_eq!(attempts, None, "nor counted an attempt");
    let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg(redis.key(STREAM))
        .arg(GROUP)
        .arg("-")
        .arg("+")
        .arg(10)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(
        pending[0].1, "intruder",
        "the entry stays with its new owner"
    );
}

#[tokio::test]
async fn replay_all_replays_the_dead_letters_present_at_its_start_and_stops() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("replay_bounded").await;
    // Every entry fails for good: each replay comes straight back as a new dead letter.
    let running = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        on_placed(|_event: Envelope| async {
            Err(HandlerError::permanent(anyhow::anyhow!("still broken")))
        }),
    );
    for n in 0..3 {
        redis.publish(STREAM, &placed(n)).await;
    }
    wait_until(Duration::from_secs(10), "three dead letters", || async {
        redis.dead_letters().await.len() == 3
    })
    .await;
    let mut connection = redis.connection.clone();
    let mut total = 0;
    for _ in 0..3 {
        let replayed = tokio::time::timeout(
            Duration::from_secs(10),
            stream_lib::admin::replay_all(&mut connection, &redis.keys),
        )
        .await
        .expect("replay_all stops")
        .unwrap();
        assert!(
            replayed <= 3,
            "only what was there at the start: {replayed}"
        );
        total += replayed;
        // Let the consumer dead-letter them again.
        wait_until(
            Duration::from_secs(10),
            "the replays fail again",
            || async {
                redis.dead_letters().await.len() == 3 && redis.pending(STREAM, GROUP).await == 0
            },
        )
        .await;
    }
    running.stop().await;
    assert_eq!(total, 9);
}

#[tokio::test]
async fn a_small_batch_is_applied_in_one_transaction_whatever_the_concurrency() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("small_batch").await;
    for n in 0..10 {
        redis.publish(STREAM, &placed(n)).await;
    }
    let mut config = config(STREAM, GROUP);
    config.concurrency = 2;
    let running = spawn(&redis, &db, config, applying(|_event| async { Ok(()) }));
    wait_until(
        Duration::from_secs(10),
        "every entry is applied and acked",
        || async { db.all_effects().await == 10 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    running.stop().await;
    assert_eq!(
        db.transactions().await,
        1,
        "ten entries read at once: one commit, not one per sub-batch"
    );
}

#[tokio::test]
async fn entries_arriving_one_by_one_while_the_consumer_is_busy_are_applied_a_linger_apart() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("consumer_linger").await;
    // Long beside an XADD, even on a loaded machine.
    let linger = Duration::from_millis(500);
    let mut config = config(STREAM, GROUP);
    config.linger = linger;
    let running = spawn(&redis, &db, config, applying(|_event| async { Ok(()) }));
    let started = Instant::now();
    for n in 0..60 {
        redis.publish(STREAM, &placed(n)).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let publishing = started.elapsed();
    wait_until(
        Duration::from_secs(10),
        "every entry is applied and acked",
        || async { db.all_effects().await == 60 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    running.stop().await;

    // A transaction per linger while they came (and the first at once), not one per entry.
    let bound = i64::try_from(publishing.as_millis() / linger.as_millis()).unwrap() + 3;
    assert!(
        bound < 30,
        "the arrangement is too slow to tell: {publishing:?}"
    );
    let transactions = db.transactions().await;
    assert!(
        transactions <= bound,
        "{transactions} transactions for 60 entries in {publishing:?}"
    );
}

#[tokio::test]
async fn an_idle_consumer_applies_an_entry_at_once_whatever_its_linger() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("consumer_idle_linger").await;
    let linger = Duration::from_secs(2);
    let mut config = config(STREAM, GROUP);
    config.linger = linger;
    let running = spawn(&redis, &db, config, applying(|_event| async { Ok(()) }));
    redis.publish(STREAM, &placed(1)).await;
    wait_until(Duration::from_secs(10), "the first is applied", || async {
        db.all_effects().await == 1
    })
    .await;
    // The consumer has been idle for longer than its linger.
    tokio::time::sleep(linger + Duration::from_millis(200)).await;

    let started = Instant::now();
    redis.publish(STREAM, &placed(2)).await;
    wait_until(Duration::from_secs(10), "the second is applied", || async {
        db.all_effects().await == 2
    })
    .await;
    let took = started.elapsed();
    running.stop().await;
    assert!(took < linger / 2, "applied {took:?} after it was added");
}
