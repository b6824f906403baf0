//! What an operator sees of the consumer: every log line of an entry's handling names the event,
//! its correlation id and its aggregate; handler latency per stream, group and type.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use stream_lib::{
    Delivered, Envelope, HandleBatch, HandlerError, Handlers, StreamKeys, Tx, consumer::Consumer,
    gauges::Gauges, state::TaskState,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use web_kit::testing::CapturedLogs;

use crate::helpers::*;

#[tokio::test]
async fn every_log_line_of_an_entrys_handling_names_its_event_correlation_and_aggregate() {
    let logs = CapturedLogs::default();
    let _capture = logs.install();
    let redis = TestRedis::new().await;
    let db = TestDb::new("entry_span_").await;
    let order = Uuid::now_v7();
    let event = placed_for(7, order);
    let consumer = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        applying(|_| async {
            tracing::info!("reserving the stock");
            Ok(())
        }),
    );

    redis.publish(STREAM, &event).await;
    wait_until(Duration::from_secs(10), "the event is applied", || async {
        db.effects(event.event_id).await == 1
    })
    .await;
    consumer.stop().await;

    let lines = logs.lines();
    let line = lines
        .iter()
        .find(|line| line["message"] == "reserving the stock")
        .unwrap_or_else(|| panic!("the handler's line is logged: {lines:#?}"));
    let span = &line["span"];
    assert_eq!(span["name"], "event");
    assert_eq!(span["event_id"], event.event_id.to_string());
    assert_eq!(span["event_type"], PLACED);
    assert_eq!(span["correlation_id"], "req-7");
    assert_eq!(span["aggregate_id"], order.to_string());
    assert_eq!(span["stream"], STREAM);
    assert_eq!(span["group"], GROUP);
    let batch = line["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|span| span["name"] == "batch")
        .expect("inside its sub-batch's span");
    assert!(
        batch["event_ids"]
            .as_str()
            .unwrap()
            .contains(&event.event_id.to_string()),
        "{batch}"
    );
}

#[tokio::test]
async fn handler_latency_is_a_histogram_per_stream_group_and_type() {
    let handle = web_kit::observability::prometheus().expect("the recorder is installed");
    let redis = TestRedis::new().await;
    let db = TestDb::new("handler_latency_").await;
    // A stream name of its own: the recorder is shared by every test in this binary.
    let stream = format!("latency_{}", Uuid::new_v4().simple());
    let consumer = spawn(
        &redis,
        &db,
        config(&stream, GROUP),
        applying(|_| async { Ok(()) }),
    );

    for n in 0..3 {
        redis.publish(&stream, &placed(n)).await;
    }
    let count = format!(
        "stream_handler_duration_seconds_count{{stream=\"{stream}\",group=\"{GROUP}\",type=\"{PLACED}\"}} 3"
    );
    let bucket = format!(
        "stream_handler_duration_seconds_bucket{{stream=\"{stream}\",group=\"{GROUP}\",type=\"{PLACED}\",le=\"+Inf\"}} 3"
    );
    wait_until(
        Duration::from_secs(10),
        "the latencies are recorded",
        || async {
            let text = handle.render();
            text.lines().any(|line| line == count) && text.lines().any(|line| line == bucket)
        },
    )
    .await;
    consumer.stop().await;
}

#[tokio::test]
async fn the_gauges_show_the_backlog_of_the_streams_and_the_outbox() {
    let handle = web_kit::observability::prometheus().expect("the recorder is installed");
    let redis = TestRedis::new().await;
    let db = TestDb::new("stream_gauges_").await;
    let stream = format!("gauges_{}", Uuid::new_v4().simple());
    let key = redis.key(&stream);
    let mut connection = redis.connection.clone();
    // Three entries, the first written 20 s ago; the group read two of them and acked none.
    let twenty_seconds_ago = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - 20_000;
    let first = format!("{twenty_seconds_ago}-0");
    let fields = placed(0).to_fields();
    let _: String = redis::AsyncCommands::xadd(&mut connection, &key, &first, &fields)
        .await
        .unwrap();
    for n in 1..3 {
        redis.publish(&stream, &placed(n)).await;
    }
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&key)
        .arg(GROUP)
        .arg("0")
        .query_async(&mut connection)
        .await
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(GROUP)
        .arg("c1")
        .arg("COUNT")
        .arg(2)
        .arg("STREAMS")
        .arg(&key)
        .arg(">")
        .query_async(&mut connection)
        .await
        .unwrap();
    let retries = redis.keys.retries(&stream, GROUP);
    let _: () = redis::AsyncCommands::zadd(&mut connection, &retries, &first, 0)
        .await
        .unwrap();
    redis
        .publish(stream_lib::DEAD_LETTER_STREAM, &placed(9))
        .await;
    // Two unpublished outbox rows, the older written a minute ago, and a published one.
    for (age, published) in [(60, false), (1, false), (600, true)] {
        sqlx::query(
            "INSERT INTO outbox (stream, event_id, event_type, source, occurred_at, correlation_id, payload, published_at)
             VALUES ('orders_stream', $1, 'order.placed', 'test', now() - make_interval(secs => $2), 'req', '{}',
                     CASE WHEN $3 THEN now() END)",
        )
        .bind(Uuid::now_v7())
        .bind(f64::from(age))
        .bind(published)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    let pool = deadpool_redis::Config::from_url(redis_url())
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .unwrap();

    let gauges = Gauges::new(pool, redis.keys.clone())
        .group(&stream, GROUP)
        .outbox(db.pool.clone())
        .stuck_after(Duration::ZERO);
    let sample = gauges.sample().await.unwrap();

    let group = &sample.groups[0];
    assert_eq!(group.length, 3);
    assert_eq!(group.lag, Some(1));
    assert_eq!(group.pending, 2);
    assert_eq!(group.stuck, 2, "idle past a threshold of zero");
    assert_eq!(group.retries_scheduled, 1);
    assert!(
        (19.0..60.0).contains(&group.oldest_pending_age),
        "{}",
        group.oldest_pending_age
    );
    assert_eq!(sample.dead_letters, 1);
    let (rows, oldest) = sample.outbox.unwrap();
    assert_eq!(rows, 2);
    assert!((59.0..120.0).contains(&oldest), "{oldest}");

    stream_lib::gauges::record(&sample);
    let text = handle.render();
    let labels = format!("{{stream=\"{stream}\",group=\"{GROUP}\"}}");
    for line in [
        format!("stream_length{{stream=\"{stream}\"}} 3"),
        format!("stream_group_lag{labels} 1"),
        format!("stream_group_pending{labels} 2"),
        format!("stream_group_pending_stuck{labels} 2"),
        format!("stream_retries_scheduled{labels} 1"),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("stream_group_oldest_pending_age_seconds{labels} "))),
        "{text}"
    );
    assert!(text.contains("stream_outbox_oldest_unpublished_age_seconds "));
}

#[tokio::test]
async fn the_gauges_sampler_stops_on_shutdown() {
    let redis = TestRedis::new().await;
    let pool = deadpool_redis::Config::from_url(redis_url())
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let sampler = tokio::spawn(
        Gauges::new(pool, redis.keys.clone())
            .group(STREAM, GROUP)
            .interval(Duration::from_millis(100))
            .run(shutdown.clone()),
    );

    shutdown.cancel();

    tokio::time::timeout(Duration::from_secs(2), sampler)
        .await
        .expect("the sampler stops at once")
        .unwrap();
}

/// A batch handler that logs one line per run.
struct LoggingRuns;

impl HandleBatch<Placed> for LoggingRuns {
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: Vec<Delivered<'a, Placed>>,
    ) -> Result<(), HandlerError> {
        tracing::info!("reserving a run");
        for delivered in events {
            effect(tx, delivered.meta.event_id).await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_batch_handlers_log_lines_name_every_entry_of_its_run() {
    let logs = CapturedLogs::new();
    let _capture = logs.install();
    let redis = TestRedis::new().await;
    let db = TestDb::new("run_span_").await;
    let events: Vec<Envelope> = (0..3).map(placed).collect();
    for event in &events {
        redis.publish(STREAM, event).await;
    }
    let mut settings = config(STREAM, GROUP);
    settings.concurrency = 1;

    let consumer = spawn(
        &redis,
        &db,
        settings,
        Handlers::new().on_batch::<Placed, _>(LoggingRuns),
    );
    wait_until(Duration::from_secs(10), "the run is applied", || async {
        db.all_effects().await == 3
    })
    .await;
    consumer.stop().await;

    let lines = logs.lines();
    let line = lines
        .iter()
        .find(|line| line["message"] == "reserving a run")
        .unwrap_or_else(|| panic!("the batch handler's line is logged: {lines:#?}"));
    let span = &line["span"];
    assert_eq!(span["name"], "events");
    assert_eq!(span["event_type"], PLACED);
    assert_eq!(span["size"], 3);
    let ids: Vec<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(span["event_ids"], ids.join(","));
    assert_eq!(span["correlation_ids"], "req-0,req-1,req-2");
}

#[tokio::test]
async fn the_consumer_reports_paused_while_redis_is_down_and_stopped_at_shutdown() {
    let mut private = PrivateRedis::start().await;
    let db = TestDb::new("consumer_state_").await;
    let heard: Arc<Mutex<Vec<TaskState>>> = Arc::default();
    let consumer = Consumer::new(
        &private.url(),
        StreamKeys::default(),
        config(STREAM, GROUP),
        db.pool.clone(),
        applying(|_| async { Ok(()) }),
    )
    .unwrap()
    .with_state_listener({
        let heard = heard.clone();
        move |state: &TaskState| heard.lock().unwrap().push(state.clone())
    });
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consumer.run(shutdown.clone()));
    let last = || heard.lock().unwrap().last().cloned();
    wait_until(Duration::from_secs(10), "the consumer runs", || async {
        last() == Some(TaskState::Running)
    })
    .await;

    private.stop();
    wait_until(
        Duration::from_secs(10),
        "the consumer is paused",
        || async { matches!(last(), Some(TaskState::Paused { .. })) },
    )
    .await;
    private.restart().await;
    wait_until(
        Duration::from_secs(20),
        "the consumer runs again",
        || async { last() == Some(TaskState::Running) },
    )
    .await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(15), task)
        .await
        .expect("the consumer stops")
        .unwrap()
        .unwrap();

    assert_eq!(
        last(),
        Some(TaskState::Stopped {
            reason: "shut down".to_owned()
        })
    );
}
