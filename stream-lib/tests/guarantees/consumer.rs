//! The consumer: ack after success, retries, dead letters, reclaim, NOGROUP, shutdown.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use stream_lib::{Envelope, HandlerError, Handlers, RetryPolicy, Tx};
use tokio::sync::Notify;

use crate::helpers::*;

#[tokio::test]
async fn entries_are_handled_and_acked_and_unknown_types_are_skipped() {
    let redis = TestRedis::new().await;
    let ledger = Ledger::default();
    let db = TestDb::new("consumer").await;
    let running = spawn(&redis, &db, config(STREAM, GROUP), ledger.recorder());
    let events: Vec<Envelope> = (0..20).map(placed).collect();
    for event in &events {
        redis.publish(STREAM, event).await;
    }
    let unknown = Envelope::new("order.teleported", "orders-service", "r", &1).unwrap();
    redis.publish(STREAM, &unknown).await;

    wait_until(
        Duration::from_secs(10),
        "every entry is handled and acked",
        || async { ledger.total() == 20 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    running.stop().await;
    for event in &events {
        assert_eq!(ledger.count(event.event_id), 1);
    }
    assert_eq!(ledger.count(unknown.event_id), 0);
    assert_eq!(redis.pending(STREAM, GROUP).await, 0);
    assert!(redis.dead_letters().await.is_empty());
}

#[tokio::test]
async fn an_always_failing_handler_is_tried_max_attempts_times_with_growing_delays_then_dead_lettered()
 {
    let redis = TestRedis::new().await;
    let db = TestDb::new("an_always_failing_ha").await;
    let ledger = Ledger::default();
    let seen = ledger.clone();
    let mut config = config(STREAM, GROUP);
    config.retry = RetryPolicy {
        base: Duration::from_millis(30),
        factor: 2.0,
        cap: Duration::from_secs(5),
        max_attempts: 4,
        jitter: 0.0,
    };
    let running = spawn(
        &redis,
        &db,
        config,
        on_placed(move |event: Envelope| {
            let seen = seen.clone();
            async move {
                seen.record(event.event_id);
                Err(HandlerError::transient(anyhow::anyhow!(
                    "warehouse unreachable"
                )))
            }
        }),
    );
    let event = placed(1);
    let origin_id = redis.publish(STREAM, &event).await;

    wait_until(
        Duration::from_secs(10),
        "the entry is dead-lettered",
        || async { !redis.dead_letters().await.is_empty() },
    )
    .await;
    // Give a wrongly scheduled extra attempt the chance to show.
    tokio::time::sleep(Duration::from_millis(300)).await;
    running.stop().await;

    let calls = ledger.calls(event.event_id);
    assert_eq!(calls.len(), 4, "tried exactly max_attempts times");
    for (gap, nominal_ms) in calls.windows(2).map(|w| w[1] - w[0]).zip([30, 60, 120]) {
        assert!(
            gap >= Duration::from_millis(nominal_ms),
            "the delay {gap:?} is at least the scheduled {nominal_ms} ms"
        );
    }
    let letters = redis.dead_letters().await;
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.event_id, event.event_id.to_string());
    assert_eq!(letter.event_type, PLACED);
    assert_eq!(letter.origin_stream, STREAM);
    assert_eq!(letter.origin_id, origin_id);
    assert_eq!(letter.group, GROUP);
    assert_eq!(letter.attempts, 4);
    assert!(
        letter.error.contains("warehouse unreachable"),
        "{}",
        letter.error
    );
    assert!(
        time::OffsetDateTime::parse(
            &letter.failed_at,
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );
    for (name, value) in event.to_fields() {
        assert_eq!(
            letter.fields.get(name),
            Some(&value),
            "field {name} is kept"
        );
    }
    assert_eq!(
        redis.pending(STREAM, GROUP).await,
        0,
        "the original is acked"
    );
}

#[tokio::test]
async fn a_permanent_error_and_an_undecodable_entry_are_dead_lettered_at_once_while_the_next_entries_flow()
 {
    let redis = TestRedis::new().await;
    let db = TestDb::new("a_permanent_error_an").await;
    let ledger = Ledger::default();
    let seen = ledger.clone();
    let poison = placed(0);
    let poison_id = poison.event_id;
    let running = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        on_placed(move |event: Envelope| {
            let seen = seen.clone();
            async move {
                seen.record(event.event_id);
                if event.event_id == poison_id {
                    return Err(HandlerError::permanent(anyhow::anyhow!(
                        "negative quantity"
                    )));
                }
                Ok(())
            }
        }),
    );
    let garbage_id = redis
        .publish_fields(
            STREAM,
            &[
                ("type", PLACED.to_owned()),
                ("payload", "{not json".to_owned()),
            ],
        )
        .await;
    redis.publish(STREAM, &poison).await;
    let next: Vec<Envelope> = (1..=10).map(placed).collect();
    for event in &next {
        redis.publish(STREAM, event).await;
    }

    wait_until(
        Duration::from_secs(10),
        "the good entries are handled and both bad ones dead-lettered",
        || async {
            next.iter().all(|event| ledger.count(event.event_id) == 1)
                && redis.dead_letters().await.len() == 2
                && redis.pending(STREAM, GROUP).await == 0
        },
    )
    .await;
    running.stop().await;

    assert_eq!(
        ledger.count(poison_id),
        1,
        "a permanent error is not retried"
    );
    let letters = redis.dead_letters().await;
    let garbage = letters.iter().find(|l| l.origin_id == garbage_id).unwrap();
    assert!(garbage.error.contains("undecodable"), "{}", garbage.error);
    assert_eq!(garbage.fields.get("payload").unwrap(), "{not json");
    let permanent = letters
        .iter()
        .find(|l| l.event_id == poison_id.to_string())
        .unwrap();
    assert_eq!(permanent.attempts, 1);
    assert!(permanent.error.contains("negative quantity"));
}

#[tokio::test]
async fn a_consumer_killed_mid_handler_loses_nothing() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("killed").await;
    let started = Arc::new(Notify::new());
    let first_run = Arc::new(AtomicUsize::new(0));
    let events: Vec<Envelope> = (0..5).map(placed).collect();
    for event in &events {
        redis.publish(STREAM, event).await;
    }
    let stuck = events[2].event_id;
    let (started1, first) = (Arc::clone(&started), Arc::clone(&first_run));
    let doomed = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        applying(move |event: Envelope| {
            let (started, first) = (Arc::clone(&started1), Arc::clone(&first));
            async move {
                if event.event_id == stuck && first.fetch_add(1, Ordering::SeqCst) == 0 {
                    started.notify_one();
                    // Hangs mid-handler until the process "dies".
                    std::future::pending::<()>().await;
                }
                Ok(())
            }
        }),
    );
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .unwrap();
    doomed.kill().await;
    assert!(
        redis.pending(STREAM, GROUP).await >= 1,
        "the stuck entry is still pending"
    );

    let survivor = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        applying(|_event: Envelope| async { Ok(()) }),
    );
    wait_until(
        Duration::from_secs(15),
        "the survivor reclaims and handles everything",
        || async { db.all_effects().await == 5 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    survivor.stop().await;
    for event in &events {
        assert_eq!(db.effects(event.event_id).await, 1);
    }
}

#[tokio::test]
async fn a_crash_after_the_effect_but_before_the_ack_does_not_apply_it_twice() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("crash_after_effect").await;
    let committed = Arc::new(Notify::new());
    let event = placed(7);
    redis.publish(STREAM, &event).await;
    let committed1 = Arc::clone(&committed);
    let doomed = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        Handlers::new().on_fn(move |tx: &mut Tx, _event: Placed, meta: &Envelope| {
            let committed = Arc::clone(&committed1);
            Box::pin(async move {
                effect(tx, meta.event_id).await?;
                tx.after_commit(async move {
                    committed.notify_one();
                    // The process dies after the commit, before the XACK.
                    std::future::pending::<()>().await;
                });
                Ok(())
            })
        }),
    );
    tokio::time::timeout(Duration::from_secs(10), committed.notified())
        .await
        .unwrap();
    doomed.kill().await;
    assert_eq!(redis.pending(STREAM, GROUP).await, 1);
    assert_eq!(db.effects(event.event_id).await, 1, "committed");

    let redelivered = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&redelivered);
    let survivor = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        applying(move |_event: Envelope| {
            let count = Arc::clone(&count);
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }),
    );
    wait_until(
        Duration::from_secs(15),
        "the redelivered entry is acked",
        || async { redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    survivor.stop().await;
    assert_eq!(
        redelivered.load(Ordering::SeqCst),
        0,
        "redelivered, the inbox skips it before any handler runs"
    );
    assert_eq!(db.effects(event.event_id).await, 1, "applied once");
}

#[tokio::test]
async fn an_entry_that_crashes_the_consumer_every_time_still_ends_dead_lettered() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("an_entry_that_crashe").await;
    let event = placed(3);
    redis.publish(STREAM, &event).await;
    let mut config = config(STREAM, GROUP);
    config.retry.max_attempts = 3;
    config.claim_idle = Duration::from_millis(300);
    let ledger = Ledger::default();
    for round in 1..=3 {
        let started = Arc::new(Notify::new());
        let (seen, started1) = (ledger.clone(), Arc::clone(&started));
        let doomed = spawn(
            &redis,
            &db,
            renamed(&config),
            on_placed(move |event: Envelope| {
                let (seen, started) = (seen.clone(), Arc::clone(&started1));
                async move {
                    seen.record(event.event_id);
                    started.notify_one();
                    std::future::pending::<()>().await;
                    Ok(())
                }
            }),
        );
        tokio::time::timeout(Duration::from_secs(10), started.notified())
            .await
            .unwrap_or_else(|_| panic!("round {round} delivered the entry"));
        doomed.kill().await;
    }
    let last = spawn(&redis, &db, renamed(&config), ledger.recorder());
    wait_until(
        Duration::from_secs(10),
        "the entry is dead-lettered",
        || async {
            redis.dead_letters().await.len() == 1 && redis.pending(STREAM, GROUP).await == 0
        },
    )
    .await;
    last.stop().await;
    assert_eq!(
        ledger.count(event.event_id),
        3,
        "not handed to a handler a 4th time"
    );
    let letter = &redis.dead_letters().await[0];
    assert_eq!(letter.attempts, 3);
    assert!(
        letter.error.contains("without completing"),
        "{}",
        letter.error
    );
}

#[tokio::test]
async fn a_retry_schedule_survives_a_restart() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("a_retry_schedule_sur").await;
    let mut config = config(STREAM, GROUP);
    config.retry = RetryPolicy {
        base: Duration::from_millis(400),
        factor: 2.0,
        cap: Duration::from_secs(5),
        max_attempts: 3,
        jitter: 0.0,
    };
    let ledger = Ledger::default();
    let failing = |ledger: Ledger| {
        on_placed(move |event: Envelope| {
            let seen = ledger.clone();
            async move {
                seen.record(event.event_id);
                Err(HandlerError::transient(anyhow::anyhow!("still down")))
            }
        })
    };
    let event = placed(9);
    let id = redis.publish(STREAM, &event).await;
    let first = spawn(&redis, &db, renamed(&config), failing(ledger.clone()));
    let attempts_key = redis.keys.attempts(STREAM, GROUP);
    let retries_key = redis.keys.retries(STREAM, GROUP);
    let mut connection = redis.connection.clone();
    wait_until(
        Duration::from_secs(10),
        "the first failure is recorded",
        || {
            let mut connection = connection.clone();
            let (attempts_key, id) = (attempts_key.clone(), id.clone());
            async move {
                let failed: Option<u32> =
                    redis::AsyncCommands::hget(&mut connection, attempts_key, id)
                        .await
                        .unwrap();
                failed == Some(1)
            }
        },
    )
    .await;
    first.kill().await;
    let due: Option<f64> = redis::AsyncCommands::zscore(&mut connection, &retries_key, &id)
        .await
        .unwrap();
    assert!(due.is_some(), "the retry is scheduled in Redis");
    assert_eq!(ledger.count(event.event_id), 1);

    let second = spawn(&redis, &db, renamed(&config), failing(ledger.clone()));
    wait_until(
        Duration::from_secs(15),
        "the entry is dead-lettered",
        || async { redis.dead_letters().await.len() == 1 },
    )
    .await;
    second.stop().await;
    let calls = ledger.calls(event.event_id);
    assert_eq!(
        calls.len(),
        3,
        "attempt 2 and 3 after the restart, not 1 to 3 again"
    );
    assert!(
        calls[1] - calls[0] >= Duration::from_millis(400),
        "the backoff was kept"
    );
    assert_eq!(redis.dead_letters().await[0].attempts, 3);
}

#[tokio::test]
async fn a_vanished_group_is_recreated_and_consumption_carries_on() {
    let redis = TestRedis::new().await;
    let ledger = Ledger::default();
    let db = TestDb::new("consumer").await;
    let running = spawn(&redis, &db, config(STREAM, GROUP), ledger.recorder());
    let before = placed(1);
    redis.publish(STREAM, &before).await;
    wait_until(
        Duration::from_secs(10),
        "the first entry is handled",
        || async { ledger.count(before.event_id) == 1 },
    )
    .await;
    // What FLUSHALL does to this test's keys: the stream and its group are gone.
    let mut connection = redis.connection.clone();
    let _: () = redis::AsyncCommands::del(&mut connection, redis.key(STREAM))
        .await
        .unwrap();
    let after: Vec<Envelope> = (2..12).map(placed).collect();
    for event in &after {
        redis.publish(STREAM, event).await;
    }
    wait_until(
        Duration::from_secs(15),
        "entries after the loss are handled",
        || async { after.iter().all(|event| ledger.count(event.event_id) >= 1) },
    )
    .await;
    assert!(!running.task.is_finished(), "the consumer is still running");
    running.stop().await;
}

#[tokio::test]
async fn shutdown_with_work_in_flight_acks_only_what_finished() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("shutdown_with_work_i").await;
    let gate = Arc::new(Notify::new());
    let started = Arc::new(AtomicUsize::new(0));
    let quick = placed(1);
    let slow = placed(2);
    let slow_id = slow.event_id;
    let (gate1, started1) = (Arc::clone(&gate), Arc::clone(&started));
    let mut config = config(STREAM, GROUP);
    config.shutdown_grace = Duration::from_millis(1500);
    config.min_sub_batch = 1;
    // Both in one batch, in two sub-batches (no aggregate: dealt round).
    redis.publish(STREAM, &quick).await;
    let slow_entry = redis.publish(STREAM, &slow).await;
    let mut running = spawn(
        &redis,
        &db,
        config,
        on_placed(move |event: Envelope| {
            let (gate, started) = (Arc::clone(&gate1), Arc::clone(&started1));
            async move {
                started.fetch_add(1, Ordering::SeqCst);
                if event.event_id == slow_id {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                } else {
                    gate.notified().await;
                }
                Ok(())
            }
        }),
    );
    wait_until(Duration::from_secs(10), "both handlers run", || async {
        started.load(Ordering::SeqCst) == 2
    })
    .await;
    running.shutdown.cancel();
    // The quick one finishes during the grace period, the slow one never does.
    gate.notify_one();
    tokio::time::timeout(Duration::from_secs(10), &mut running.task)
        .await
        .expect("shutdown is bounded by the grace period")
        .unwrap()
        .unwrap();
    assert_eq!(redis.pending_ids(STREAM, GROUP).await, vec![slow_entry]);
}

#[tokio::test]
async fn two_consumers_in_one_group_split_the_work_and_handle_no_entry_twice() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("two_consumers_in_one").await;
    let ledger = Ledger::default();
    let by_consumer: Arc<Mutex<[usize; 2]>> = Arc::default();
    let mut runs = Vec::new();
    for index in 0..2 {
        let (seen, by) = (ledger.clone(), Arc::clone(&by_consumer));
        let mut config = config(STREAM, GROUP);
        config.batch_size = 10;
        config.concurrency = 4;
        runs.push(spawn(
            &redis,
            &db,
            config,
            on_placed(move |event: Envelope| {
                let (seen, by) = (seen.clone(), Arc::clone(&by));
                async move {
                    seen.record(event.event_id);
                    by.lock().unwrap()[index] += 1;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    Ok(())
                }
            }),
        ));
    }
    let events: Vec<Envelope> = (0..400).map(placed).collect();
    for event in &events {
        redis.publish(STREAM, event).await;
    }
    wait_until(
        Duration::from_secs(30),
        "all entries are handled",
        || async { ledger.total() >= 400 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    for run in runs {
        run.stop().await;
    }
    for event in &events {
        assert_eq!(ledger.count(event.event_id), 1);
    }
    let split = *by_consumer.lock().unwrap();
    assert!(
        split[0] > 0 && split[1] > 0,
        "both consumers got work: {split:?}"
    );
}

#[tokio::test]
async fn a_long_running_handler_keeps_its_claim() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("a_long_running_handl").await;
    let ledger = Ledger::default();
    let mut config = config(STREAM, GROUP);
    config.claim_idle = Duration::from_millis(1000);
    let slow_handler = |ledger: Ledger| {
        on_placed(move |event: Envelope| {
            let seen = ledger.clone();
            async move {
                seen.record(event.event_id);
                // Several times claim_idle.
                tokio::time::sleep(Duration::from_millis(3500)).await;
                Ok(())
            }
        })
    };
    let first = spawn(&redis, &db, renamed(&config), slow_handler(ledger.clone()));
    let second = spawn(&redis, &db, renamed(&config), slow_handler(ledger.clone()));
    let event = placed(5);
    redis.publish(STREAM, &event).await;
    wait_until(
        Duration::from_secs(10),
        "the entry is handled and acked",
        || async { ledger.count(event.event_id) == 1 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    first.stop().await;
    second.stop().await;
    assert_eq!(
        ledger.count(event.event_id),
        1,
        "the other consumer never took it over"
    );
}

#[tokio::test]
async fn a_consumer_keeps_retrying_while_redis_is_unreachable_and_stops_on_the_token() {
    let pool = sqlx::PgPool::connect_lazy("postgres://postgres@127.0.0.1:1/none").unwrap();
    let consumer = stream_lib::consumer::Consumer::new(
        "redis://127.0.0.1:1",
        stream_lib::StreamKeys::new("unreachable:"),
        config(STREAM, GROUP),
        pool,
        Ledger::default().recorder(),
    )
    .unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(consumer.run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!task.is_finished(), "an outage is retried, not returned");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops on the token")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn consumer_and_relay_ride_out_a_redis_restart_that_lost_every_key() {
    let mut private = PrivateRedis::start().await;
    let keys = stream_lib::StreamKeys::default();
    let db = Arc::new(TestDb::new("redis_restart").await);
    let consumer = spawn_on(
        &private.url(),
        &keys,
        &db,
        config(STREAM, GROUP),
        applying(|_event: Envelope| async { Ok(()) }),
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let relay = stream_lib::outbox::OutboxRelay::new(
        db.pool.clone(),
        stream_lib::StreamRedis::node(&private.url()).unwrap(),
        keys.clone(),
        stream_lib::outbox::RelayConfig {
            poll_interval: Duration::from_millis(100),
            min_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
            ..stream_lib::outbox::RelayConfig::default()
        },
    );
    let relay = tokio::spawn(relay.run(shutdown.clone()));
    let enqueue = |event: Envelope| {
        let db = Arc::clone(&db);
        async move {
            let mut transaction = web_kit::db::begin(&db.pool).await.unwrap();
            OUTBOX
                .enqueue_envelopes(&mut transaction, std::slice::from_ref(&event))
                .await
                .unwrap();
            transaction.commit().await.unwrap();
        }
    };
    let before = placed(1);
    enqueue(before.clone()).await;
    wait_until(
        Duration::from_secs(10),
        "the first event is applied",
        || async { db.effects(before.event_id).await == 1 },
    )
    .await;

    private.stop().await;
    let during = placed(2);
    enqueue(during.clone()).await;
    private.restart_empty().await;
    let after = placed(3);
    enqueue(after.clone()).await;
    wait_until(
        Duration::from_secs(20),
        "events from the outage and after are applied",
        || async {
            db.effects(during.event_id).await == 1 && db.effects(after.event_id).await == 1
        },
    )
    .await;
    shutdown.cancel();
    consumer.stop().await;
    tokio::time::timeout(Duration::from_secs(10), relay)
        .await
        .unwrap()
        .unwrap();
    let mut connection = private.connection().await;
    let groups: redis::Value = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(STREAM)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(
        format!("{groups:?}").contains(GROUP),
        "the group was re-created"
    );
}

#[tokio::test]
async fn a_panicking_handler_counts_as_a_transient_failure_and_is_retried() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("a_panicking_handler_").await;
    let ledger = Ledger::default();
    let seen = ledger.clone();
    let running = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        on_placed(move |event: Envelope| {
            let seen = seen.clone();
            async move {
                if seen.record(event.event_id) == 1 {
                    panic!("handler bug on the first attempt");
                }
                Ok(())
            }
        }),
    );
    let event = placed(1);
    redis.publish(STREAM, &event).await;
    wait_until(
        Duration::from_secs(10),
        "the retry succeeds and is acked",
        || async { ledger.count(event.event_id) == 2 && redis.pending(STREAM, GROUP).await == 0 },
    )
    .await;
    running.stop().await;
    assert!(redis.dead_letters().await.is_empty());
}
