//! What an operator sees of the consumer: every log line of an entry's handling names the event,
//! its correlation id and its aggregate; handler latency per stream, group and type; and the
//! trace an event carries from the span that produced it to the consumer's spans.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceContextExt, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use stream_lib::{
    Delivered, Envelope, HandleBatch, HandlerError, Handlers, StreamKeys, Tx,
    consumer::Consumer,
    envelope::TRACEPARENT_FIELD,
    gauges::Gauges,
    outbox::{OutboxRelay, RelayConfig},
    state::TaskState,
};
use tokio_util::sync::CancellationToken;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
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
    let mut connection = redis.connection.clone();
    // Three entries, the first written 20 s ago; the group read two of them and acked none.
    let first = written_seconds_ago(&redis, &stream, 20).await;
    for n in 1..3 {
        redis.publish(&stream, &placed(n)).await;
    }
    create_group(&redis, &stream, GROUP).await;
    read_into_pending(&redis, &stream, GROUP, 2).await;
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
    let streams = stream_lib::StreamRedis::node(&redis_url()).unwrap();

    let gauges = Gauges::new(streams, redis.keys.clone())
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
    let streams = stream_lib::StreamRedis::node(&redis_url()).unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let sampler = tokio::spawn(
        Gauges::new(streams, redis.keys.clone())
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

/// A batch handler that answers every entry of its run through the outbox (one statement for the
/// run), each answer with its entry's correlation id, as a service's replies do.
struct ReplyingRuns;

impl HandleBatch<Placed> for ReplyingRuns {
    async fn handle_batch<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: Vec<Delivered<'a, Placed>>,
    ) -> Result<(), HandlerError> {
        let replies = events
            .iter()
            .map(|delivered| {
                let reply = Placed {
                    n: delivered.event.n + 100,
                    order_id: None,
                };
                OUTBOX.envelope(&delivered.meta.correlation_id, &reply)
            })
            .collect::<Result<Vec<_>, _>>()?;
        OUTBOX.enqueue_envelopes(tx, &replies).await?;
        for delivered in events {
            effect(tx, delivered.meta.event_id).await?;
        }
        Ok(())
    }
}

/// Publishes `events` before a consumer with the [`LoggingRuns`] batch handler and one sub-batch
/// at a time starts (so they are one run), and waits until all are applied.
async fn apply_as_one_run(label: &str, events: &[Envelope]) {
    apply_as_one_run_with(TestDb::new(label).await, events, LoggingRuns).await;
}

/// [`apply_as_one_run`] with `handler`, in `db` (returned for a look at what the run wrote).
async fn apply_as_one_run_with(
    db: TestDb,
    events: &[Envelope],
    handler: impl HandleBatch<Placed>,
) -> TestDb {
    let redis = TestRedis::new().await;
    for event in events {
        redis.publish(STREAM, event).await;
    }
    let mut settings = config(STREAM, GROUP);
    settings.concurrency = 1;

    let consumer = spawn(
        &redis,
        &db,
        settings,
        Handlers::new().on_batch::<Placed, _>(handler),
    );
    wait_until(Duration::from_secs(10), "the run is applied", || async {
        db.all_effects().await == events.len() as i64
    })
    .await;
    consumer.stop().await;
    db
}

#[tokio::test]
async fn a_batch_handlers_log_lines_name_every_entry_of_its_run() {
    let logs = CapturedLogs::new();
    let _capture = logs.install();
    let events: Vec<Envelope> = (0..3).map(placed).collect();
    apply_as_one_run("run_span_", &events).await;

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

    private.stop().await;
    wait_until(
        Duration::from_secs(10),
        "the consumer is paused",
        || async { matches!(last(), Some(TaskState::Paused { .. })) },
    )
    .await;
    private.restart_empty().await;
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

/// Every span of this thread exported to memory through the services' OpenTelemetry layer
/// (a current-thread runtime keeps the consumer's tasks on the test's thread).
struct Traces {
    exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Traces {
    fn install() -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry().with(web_kit::otel::layer(&provider));
        let _guard = tracing::subscriber::set_default(subscriber);
        Self {
            exporter,
            provider,
            _guard,
        }
    }

    fn spans(&self) -> Vec<SpanData> {
        self.provider.force_flush().unwrap();
        self.exporter.get_finished_spans().unwrap()
    }
}

/// The envelope of event `n` made by the outbox inside a span of its own (a trace of its own),
/// with that span's context.
fn traced(n: u64) -> (Envelope, SpanContext) {
    let producer = tracing::info_span!("producing", n);
    let envelope = producer
        .in_scope(|| OUTBOX.envelope(&format!("req-{n}"), &Placed { n, order_id: None }))
        .unwrap();
    let context = producer.context().span().span_context().clone();
    (envelope, context)
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|span| span.name == name).collect()
}

fn linked(span: &SpanData) -> HashSet<(TraceId, SpanId)> {
    span.links
        .iter()
        .map(|link| (link.span_context.trace_id(), link.span_context.span_id()))
        .collect()
}

/// Writes `events` into the outbox in one transaction and runs a relay until all are on the
/// stream; returns the stream's entries (id, fields in order).
async fn relayed(
    redis: &TestRedis,
    db: &TestDb,
    events: &[Envelope],
) -> Vec<(String, Vec<(String, String)>)> {
    let mut transaction = web_kit::db::begin(&db.pool).await.unwrap();
    OUTBOX
        .enqueue_envelopes(&mut transaction, events)
        .await
        .unwrap();
    transaction.commit().await.unwrap();

    let streams = stream_lib::StreamRedis::node(&redis_url()).unwrap();
    let shutdown = CancellationToken::new();
    let config = RelayConfig {
        poll_interval: Duration::from_millis(100),
        ..RelayConfig::default()
    };
    let relay = OutboxRelay::new(db.pool.clone(), streams, redis.keys.clone(), config);
    let relay = tokio::spawn(relay.run(shutdown.clone()));
    wait_until(Duration::from_secs(10), "all are published", || async {
        redis.xlen(STREAM).await == events.len() as u64
    })
    .await;
    shutdown.cancel();
    relay.await.unwrap();

    let mut connection = redis.connection.clone();
    redis::cmd("XRANGE")
        .arg(redis.key(STREAM))
        .arg("-")
        .arg("+")
        .query_async(&mut connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_event_made_in_a_span_carries_its_traceparent_through_the_outbox_row_and_the_relay() {
    let traces = Traces::install();
    let redis = TestRedis::new().await;
    let db = TestDb::new("traceparent_relay_").await;
    let (in_trace, context) = traced(1);
    let untraced = OUTBOX
        .envelope(
            "req-2",
            &Placed {
                n: 2,
                order_id: None,
            },
        )
        .unwrap();
    let traceparent = format!("00-{}-{}-01", context.trace_id(), context.span_id());
    assert_eq!(in_trace.traceparent.as_deref(), Some(traceparent.as_str()));
    assert_eq!(untraced.traceparent, None, "no span, no trace");

    let entries = relayed(&redis, &db, &[in_trace.clone(), untraced.clone()]).await;

    let rows: Vec<Option<String>> =
        sqlx::query_scalar("SELECT traceparent FROM outbox ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(rows, [Some(traceparent), None]);
    let names = |fields: &[(String, String)]| -> Vec<String> {
        fields.iter().map(|(name, _)| name.clone()).collect()
    };
    let written = |event: &Envelope| -> Vec<String> {
        event
            .to_fields()
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect()
    };
    assert_eq!(names(&entries[0].1), written(&in_trace));
    assert_eq!(
        names(&entries[1].1),
        written(&untraced),
        "no traceparent field at all"
    );
    // The relay's span of the row's publication sits between the producer and the entry.
    let spans = traces.spans();
    let publish = named(&spans, "publish");
    assert_eq!(publish.len(), 1, "only the traced row has one: {spans:#?}");
    assert_eq!(publish[0].span_kind, SpanKind::Producer);
    assert_eq!(publish[0].span_context.trace_id(), context.trace_id());
    assert_eq!(publish[0].parent_span_id, context.span_id());
    let carried = format!(
        "00-{}-{}-01",
        context.trace_id(),
        publish[0].span_context.span_id()
    );
    assert_eq!(
        entries[0].1.last().unwrap(),
        &(TRACEPARENT_FIELD.to_owned(), carried)
    );
}

#[tokio::test]
async fn a_relay_that_does_not_trace_passes_the_stored_traceparent_on_unchanged() {
    let redis = TestRedis::new().await;
    let db = TestDb::new("traceparent_untraced_relay_").await;
    let mut event = placed(1);
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    event.traceparent = Some(traceparent.to_owned());

    let entries = relayed(&redis, &db, &[event]).await;

    assert_eq!(
        entries[0].1.last().unwrap(),
        &(TRACEPARENT_FIELD.to_owned(), traceparent.to_owned())
    );
}

#[tokio::test]
async fn a_consumers_span_of_an_entry_is_a_child_of_the_span_that_produced_it() {
    let traces = Traces::install();
    let redis = TestRedis::new().await;
    let db = TestDb::new("traceparent_entry_").await;
    let (event, producer) = traced(1);
    redis.publish(STREAM, &event).await;

    let consumer = spawn(
        &redis,
        &db,
        config(STREAM, GROUP),
        applying(|_| async { Ok(()) }),
    );
    wait_until(Duration::from_secs(10), "the event is applied", || async {
        db.effects(event.event_id).await == 1
    })
    .await;
    consumer.stop().await;

    let spans = traces.spans();
    let entry = named(&spans, "event");
    assert_eq!(entry.len(), 1, "{spans:#?}");
    assert_eq!(entry[0].span_context.trace_id(), producer.trace_id());
    assert_eq!(entry[0].parent_span_id, producer.span_id());
    // A sub-batch of one trace continues it, and links its entry.
    let batch = named(&spans, "batch");
    assert_eq!(batch.len(), 1, "{spans:#?}");
    assert_eq!(batch[0].span_context.trace_id(), producer.trace_id());
    assert_eq!(batch[0].parent_span_id, producer.span_id());
    assert_eq!(
        linked(batch[0]),
        HashSet::from([(producer.trace_id(), producer.span_id())])
    );
}

#[tokio::test]
async fn a_batch_handlers_run_and_its_sub_batch_link_the_producer_of_every_entry() {
    let traces = Traces::install();
    let produced: Vec<(Envelope, SpanContext)> = (0..3).map(traced).collect();
    let events: Vec<Envelope> = produced.iter().map(|(event, _)| event.clone()).collect();
    apply_as_one_run("traceparent_run_", &events).await;

    let producers: HashSet<(TraceId, SpanId)> = produced
        .iter()
        .map(|(_, context)| (context.trace_id(), context.span_id()))
        .collect();
    let spans = traces.spans();
    let run = named(&spans, "events");
    assert_eq!(run.len(), 1, "one run of three: {spans:#?}");
    assert_eq!(linked(run[0]), producers);
    let batch = named(&spans, "batch");
    assert_eq!(batch.len(), 1, "{spans:#?}");
    assert_eq!(linked(batch[0]), producers);
    // Entries of three traces: the sub-batch is a trace of its own, the run inside it.
    let batch_trace = batch[0].span_context.trace_id();
    assert!(producers.iter().all(|(trace, _)| *trace != batch_trace));
    assert_eq!(run[0].span_context.trace_id(), batch_trace);
    assert_eq!(run[0].parent_span_id, batch[0].span_context.span_id());
}

#[tokio::test]
async fn each_reply_of_a_batch_handler_continues_the_trace_of_the_entry_it_answers() {
    let traces = Traces::install();
    let produced: Vec<(Envelope, SpanContext)> = (0..3).map(traced).collect();
    let events: Vec<Envelope> = produced.iter().map(|(event, _)| event.clone()).collect();
    let db = TestDb::new("traceparent_replies_").await;
    let db = apply_as_one_run_with(db, &events, ReplyingRuns).await;

    let spans = traces.spans();
    let run = named(&spans, "events");
    assert_eq!(run.len(), 1, "one run of three: {spans:#?}");
    let replies: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT correlation_id, traceparent FROM outbox ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(replies.len(), 3);
    for ((event, producer), (correlation_id, traceparent)) in produced.iter().zip(&replies) {
        assert_eq!(*correlation_id, event.correlation_id);
        // 00-<trace id>-<span id>-01: the span of this entry inside the run.
        let traceparent = traceparent.as_deref().expect("a reply in a trace");
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(
            parts[1],
            producer.trace_id().to_string(),
            "the reply to {correlation_id} is in its order's trace, not the run's"
        );
        let entry = spans
            .iter()
            .find(|span| span.span_context.span_id().to_string() == parts[2])
            .unwrap_or_else(|| panic!("no span {traceparent} among {spans:#?}"));
        assert_eq!(entry.name, "event");
        assert_eq!(entry.parent_span_id, producer.span_id());
        assert_eq!(
            linked(entry),
            HashSet::from([(
                run[0].span_context.trace_id(),
                run[0].span_context.span_id()
            )]),
            "the entry's span links its run"
        );
    }
}

#[tokio::test]
async fn status_shows_each_groups_oldest_pending_entry_and_its_age() {
    let redis = TestRedis::new().await;
    let mut connection = redis.connection.clone();
    // The first entry written 20 s ago; one group has read both, the other nothing.
    let first = written_seconds_ago(&redis, STREAM, 20).await;
    redis.publish(STREAM, &placed(1)).await;
    for group in [GROUP, "idle-group"] {
        create_group(&redis, STREAM, group).await;
    }
    read_into_pending(&redis, STREAM, GROUP, 10).await;

    let status = stream_lib::status::stream_status(&mut connection, &redis.keys, &[STREAM])
        .await
        .unwrap();

    let groups = &status[0].groups;
    let reading = groups.iter().find(|g| g.health.name == GROUP).unwrap();
    assert_eq!(reading.health.pending, 2);
    assert_eq!(reading.oldest_pending_id.as_deref(), Some(first.as_str()));
    let age = reading.oldest_pending_age_seconds.unwrap();
    assert!((19.0..60.0).contains(&age), "{age}");
    let idle = groups
        .iter()
        .find(|g| g.health.name == "idle-group")
        .unwrap();
    assert_eq!(idle.oldest_pending_id, None);
    assert_eq!(idle.oldest_pending_age_seconds, None);

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_stream-admin"))
        .arg("status")
        .env("REDIS_URL", redis_url())
        .env("REDIS_KEY_PREFIX", redis.keys.prefix())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let group = printed[0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == GROUP)
        .unwrap()
        .clone();
    assert_eq!(group["oldest_pending_id"], first);
    assert!(group["oldest_pending_age_seconds"].as_f64().unwrap() >= 19.0);
}

/// XADDs event 0 to `stream` with the id of `seconds` ago; returns that id.
async fn written_seconds_ago(redis: &TestRedis, stream: &str, seconds: i64) -> String {
    let ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - seconds * 1000;
    let id = format!("{ms}-0");
    let mut connection = redis.connection.clone();
    let fields = placed(0).to_fields();
    let _: String = redis::AsyncCommands::xadd(&mut connection, redis.key(stream), &id, &fields)
        .await
        .unwrap();
    id
}

/// Creates `group` on `stream`, from its first entry.
pub async fn create_group(redis: &TestRedis, stream: &str, group: &str) {
    let mut connection = redis.connection.clone();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(redis.key(stream))
        .arg(group)
        .arg("0")
        .query_async(&mut connection)
        .await
        .unwrap();
}

/// Reads up to `count` new entries of `stream` into `group`'s pending list; returns their ids.
pub async fn read_into_pending(
    redis: &TestRedis,
    stream: &str,
    group: &str,
    count: usize,
) -> Vec<String> {
    let mut connection = redis.connection.clone();
    let reply: redis::streams::StreamReadReply = redis::AsyncCommands::xread_options(
        &mut connection,
        &[redis.key(stream)],
        &[">"],
        &redis::streams::StreamReadOptions::default()
            .group(group, "c1")
            .count(count),
    )
    .await
    .unwrap();
    reply
        .keys
        .iter()
        .flat_map(|stream| stream.ids.iter().map(|entry| entry.id.clone()))
        .collect()
}
