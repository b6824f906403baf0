//! Operator views: stream health, dead letters, replay, and trimming.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use redis::AsyncCommands;
use stream_lib::{Envelope, HandlerError, admin};
use tokio::sync::Notify;

use crate::helpers::*;

#[tokio::test]
async fn a_replayed_dead_letter_is_applied_once_and_replaying_twice_has_one_effect() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("replay").await;
    let broken = Arc::new(AtomicBool::new(true));
    let broken1 = Arc::clone(&broken);
    let consumer = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        applying(move |_event: Envelope| {
            let broken = Arc::clone(&broken1);
            async move {
                if broken.load(Ordering::SeqCst) {
                    return Err(HandlerError::permanent(anyhow::anyhow!(
                        "bug in the handler"
                    )));
                }
                Ok(())
            }
        }),
    );
    // The same event twice (a relay duplicate): two dead letters with one event_id.
    let event = placed(1);
    redis.publish(STREAM, &event).await;
    redis.publish(STREAM, &event).await;
    wait_until(
        Duration::from_secs(10),
        "both copies are dead-lettered",
        || async { redis.dead_letters().await.len() == 2 },
    )
    .await;
    broken.store(false, Ordering::SeqCst);

    let letters = redis.dead_letters().await;
    let mut connection = redis.connection.clone();
    let new_id = admin::replay(&mut connection, &redis.keys, &letters[0].id)
        .await
        .unwrap();
    assert!(new_id.is_some());
    assert_eq!(
        admin::replay(&mut connection, &redis.keys, &letters[0].id)
            .await
            .unwrap(),
        None,
        "a replayed dead letter is gone"
    );
    assert_eq!(
        admin::replay_all(&mut connection, &redis.keys)
            .await
            .unwrap(),
        1
    );
    wait_until(
        Duration::from_secs(10),
        "the replays are handled",
        || async {
            redis.dead_letters().await.is_empty()
                && redis.pending(STREAM, GROUP).await == 0
                && db.effects(event.event_id).await == 1
        },
    )
    .await;
    consumer.stop().await;
    assert_eq!(db.effects(event.event_id).await, 1, "applied exactly once");

    // The replayed entries carry the original envelope, not the dead-letter fields.
    let reply: redis::streams::StreamRangeReply =
        connection.xrange_all(redis.key(STREAM)).await.unwrap();
    let replayed = reply.ids.last().unwrap();
    assert_eq!(
        replayed.get::<String>("event_id").unwrap(),
        event.event_id.to_string()
    );
    assert!(!replayed.map.contains_key("origin_id"));
    assert!(!replayed.map.contains_key("error"));
}

#[tokio::test]
async fn stream_health_reports_length_pending_and_lag_per_group() {
    let redis = TestRedis::new().await;
    let mut connection = redis.connection.clone();
    for n in 0..5 {
        redis.publish(STREAM, &placed(n)).await;
    }
    let _: () = connection
        .xgroup_create(redis.key(STREAM), GROUP, "0")
        .await
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(GROUP)
        .arg("reader")
        .arg("COUNT")
        .arg(2)
        .arg("STREAMS")
        .arg(redis.key(STREAM))
        .arg(">")
        .query_async(&mut connection)
        .await
        .unwrap();

    let health = admin::stream_health(
        &mut connection,
        &redis.keys,
        &[STREAM, stream_lib::INVENTORY_STREAM],
    )
    .await
    .unwrap();
    assert_eq!(health[0].stream, STREAM);
    assert_eq!(health[0].length, 5);
    let group = &health[0].groups[0];
    assert_eq!(group.name, GROUP);
    assert_eq!(group.consumers, 1);
    assert_eq!(group.pending, 2);
    assert_eq!(group.lag, Some(3));
    assert_eq!(health[1].length, 0, "a missing stream is empty");
    assert!(health[1].groups.is_empty());
}

#[tokio::test]
async fn trimming_keeps_the_stream_bounded_but_never_drops_an_unacked_entry() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("trimming_keeps_the_s").await;
    let mut connection = redis.connection.clone();
    let events: Vec<Envelope> = (0..50).map(placed).collect();
    let held = events[10].event_id;
    let mut ids = Vec::new();
    for event in &events {
        ids.push(redis.publish(STREAM, event).await);
    }
    // A second group that has read nothing yet holds every entry.
    let _: () = connection
        .xgroup_create(redis.key(STREAM), "slow-reader", "0")
        .await
        .unwrap();
    let gate = Arc::new(Notify::new());
    let gate1 = Arc::clone(&gate);
    let ledger = Ledger::default();
    let seen = ledger.clone();
    let mut config = config(STREAM, GROUP);
    config.maintenance_interval = Duration::from_millis(100);
    // One sub-batch per entry: the held entry holds up only itself.
    config.concurrency = 64;
    config.min_sub_batch = 1;
    let consumer = spawn(
        &redis,
        &db,
        config,
        on_placed(move |event: Envelope| {
            let (gate, seen) = (Arc::clone(&gate1), seen.clone());
            async move {
                if event.event_id == held {
                    gate.notified().await;
                }
                seen.record(event.event_id);
                Ok(())
            }
        }),
    );
    wait_until(
        Duration::from_secs(10),
        "all but the held entry are handled",
        || async { ledger.total() == 49 },
    )
    .await;
    // Several trim intervals pass: the slow group still needs everything.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(redis.xlen(STREAM).await, 50);

    let _: () = connection
        .xgroup_destroy(redis.key(STREAM), "slow-reader")
        .await
        .unwrap();
    wait_until(
        Duration::from_secs(10),
        "entries before the unacked one are trimmed",
        || async { redis.xlen(STREAM).await == 40 },
    )
    .await;
    let first: redis::streams::StreamRangeReply = connection
        .xrange_count(redis.key(STREAM), "-", "+", 1)
        .await
        .unwrap();
    assert_eq!(first.ids[0].id, ids[10], "the unacked entry is kept");

    gate.notify_one();
    wait_until(
        Duration::from_secs(10),
        "everything acked is trimmed",
        || async { redis.xlen(STREAM).await == 0 },
    )
    .await;
    consumer.stop().await;
    assert_eq!(ledger.total(), 50);
}

#[tokio::test]
async fn counters_and_gauges_are_recorded_per_stream_and_group() {
    let handle = web_kit::observability::prometheus().expect("the recorder is installed");
    let redis = TestRedis::new().await;
    let db = TestDb::new("counters_and_gauges_").await;
    // A stream name of its own: the recorder is shared by every test in this binary.
    let stream = format!("metrics_{}", uuid::Uuid::new_v4().simple());
    let poison = placed(0).event_id;
    let flaky = placed(1).event_id;
    let attempts = Ledger::default();
    let seen = attempts.clone();
    let consumer = spawn(
        &redis,
        &db,
        config(&stream, GROUP),
        on_placed(move |event: Envelope| {
            let seen = seen.clone();
            async move {
                let attempt = seen.record(event.event_id);
                if event.event_id == poison {
                    return Err(HandlerError::permanent(anyhow::anyhow!("poison")));
                }
                if event.event_id == flaky && attempt == 1 {
                    return Err(HandlerError::transient(anyhow::anyhow!("blip")));
                }
                Ok(())
            }
        }),
    );
    let mut events = vec![placed(0), placed(1)];
    events[0].event_id = poison;
    events[1].event_id = flaky;
    events.extend((2..5).map(placed));
    for event in &events {
        redis.publish(&stream, event).await;
    }
    let labels = format!("{{stream=\"{stream}\",group=\"{GROUP}\"}}");
    let expected = [
        format!("stream_events_processed_total{labels} 4"),
        format!("stream_events_retried_total{labels} 1"),
        format!("stream_events_dead_lettered_total{labels} 1"),
        format!("stream_group_pending{labels} 0"),
        format!("stream_group_lag{labels} 0"),
    ];
    wait_until(
        Duration::from_secs(10),
        "the metrics are recorded",
        || async {
            let text = handle.render();
            expected.iter().all(|line| text.lines().any(|l| l == line))
        },
    )
    .await;
    consumer.stop().await;
}

fn stream_admin(redis: &TestRedis, args: &[&str]) -> (i32, serde_json::Value) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_stream-admin"))
        .args(args)
        .env("REDIS_URL", redis_url())
        .env("REDIS_KEY_PREFIX", redis.keys.prefix())
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (output.status.code().unwrap(), json)
}

#[tokio::test]
async fn the_stream_admin_cli_lists_and_replays_dead_letters() {
    let redis = TestRedis::new().await;
    let event = placed(1);
    let mut fields = event.to_fields();
    fields.extend([
        ("origin_stream", STREAM.to_owned()),
        ("origin_id", "1-1".to_owned()),
        ("group", GROUP.to_owned()),
        ("attempts", "8".to_owned()),
        ("error", "boom".to_owned()),
        ("failed_at", "2026-11-21T18:00:00Z".to_owned()),
    ]);
    let id = redis
        .publish_fields(stream_lib::DEAD_LETTER_STREAM, &fields)
        .await;

    let (code, health) = stream_admin(&redis, &["health"]);
    assert_eq!(code, 0);
    assert_eq!(health[2]["stream"], "dead_letter_stream");
    assert_eq!(health[2]["length"], 1);
    let (code, letters) = stream_admin(&redis, &["dead-letters", "--count", "5"]);
    assert_eq!(code, 0);
    assert_eq!(letters[0]["id"], id.as_str());
    assert_eq!(letters[0]["event_id"], event.event_id.to_string());
    assert_eq!(letters[0]["attempts"], 8);
    let (code, replayed) = stream_admin(&redis, &["replay", &id]);
    assert_eq!(code, 0);
    assert_eq!(replayed["replayed"], id.as_str());
    assert_eq!(
        stream_admin(&redis, &["replay", &id]).0,
        1,
        "gone after a replay"
    );
    assert_eq!(stream_admin(&redis, &["replay-all"]).1["replayed"], 0);
    assert_eq!(stream_admin(&redis, &["frobnicate"]).0, 2);
    assert_eq!(redis.xlen(STREAM).await, 1);
}
