//! What a consumer's logs and metrics say about each entry it handles: the span every log line
//! of an entry's handling carries (event id, type, correlation id, aggregate), the span of a
//! batch handler's run and of a sub-batch (their entries' ids) and the handler latency histogram;
//! and the W3C trace context an event carries from its producer's span through the relay's
//! span of its publication to its consumers' spans (an entry's span is a child of its
//! `traceparent`, also inside a batch handler's run; a run or sub-batch links every entry's),
//! and on through the events a handler makes for that entry.

use std::{collections::HashMap, future::Future, time::Instant};

use opentelemetry::{
    propagation::TextMapPropagator,
    trace::{SpanContext, TraceContextExt},
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::{Instrument, Span, field};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{ConsumerSettings, Envelope, envelope::TRACEPARENT_FIELD};

/// The `traceparent` of the current span, for an event produced in it; `None` when tracing is
/// off (no OpenTelemetry layer) or the span is not recorded.
fn current_traceparent() -> Option<String> {
    traceparent_of(&Span::current())
}

/// The `traceparent` of `span` (built now if it has not started); `None` when tracing is off.
fn traceparent_of(span: &Span) -> Option<String> {
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&span.context(), &mut carrier);
    carrier.remove(TRACEPARENT_FIELD)
}

/// The span a `traceparent` names; `None` when it is not a valid one.
fn parse(traceparent: &str) -> Option<SpanContext> {
    let carrier = HashMap::from([(TRACEPARENT_FIELD.to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    let span = context.span().span_context().clone();
    span.is_valid().then_some(span)
}

/// The span that published `envelope` (from its `traceparent`); `None` without a valid one.
fn producer(envelope: &Envelope) -> Option<SpanContext> {
    parse(envelope.traceparent.as_deref()?)
}

/// The relay's span of one outbox row's publication, a child of the span that wrote the row
/// (`stored`, the row's `traceparent`), so that a trace reads producer -> relay -> consumer.
/// Returns it with the `traceparent` the published entry carries: the relay span's, or `stored`
/// itself when this process does not trace. The span ends when dropped (the relay keeps it until
/// its batch is marked published).
pub(crate) fn publication(
    stream: &str,
    event_id: uuid::Uuid,
    event_type: &str,
    stored: String,
) -> (Span, String) {
    let Some(writer) = parse(&stored) else {
        return (Span::none(), stored);
    };
    let span = tracing::info_span!(
        "publish",
        otel.kind = "producer",
        stream = %stream,
        event_id = %event_id,
        event_type = %event_type,
    );
    child_of(&span, writer);
    let carried = traceparent_of(&span).unwrap_or(stored);
    (span, carried)
}

/// Makes `span` a child of `producer` (before it starts; a no-op when tracing is off).
fn child_of(span: &Span, producer: SpanContext) {
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(producer));
}

/// Links `span` to the producer of every envelope (a batch belongs to many traces), and makes
/// it a child of theirs when they all come from one trace (a lone order stays one trace).
fn link_producers<'a>(span: &Span, envelopes: impl IntoIterator<Item = &'a Envelope>) {
    let producers: Vec<SpanContext> = envelopes.into_iter().filter_map(producer).collect();
    for linked in &producers {
        span.add_link(linked.clone());
    }
    if let Some(first) = producers.first()
        && producers
            .iter()
            .all(|other| other.trace_id() == first.trace_id())
    {
        child_of(span, first.clone());
    }
}

tokio::task_local! {
    /// While a batch handler runs: the `traceparent` of the span of each traced entry of its run,
    /// by the entry's correlation id (the first entry's, when several share one).
    static RUN_ENTRIES: HashMap<String, String>;
}

/// The `traceparent` an event made now carries ([`crate::outbox::Outbox::envelope`]): inside a
/// batch handler's run, that of the run's entry with `correlation_id`, so a reply descends from
/// the entry it answers rather than from the run of many; otherwise the current span's.
pub(crate) fn traceparent_for(correlation_id: &str) -> Option<String> {
    RUN_ENTRIES
        .try_with(|entries| entries.get(correlation_id).cloned())
        .ok()
        .flatten()
        .or_else(current_traceparent)
}

/// The span of one entry, under `parent` in the process's span tree: `event_id`, `event_type`,
/// `correlation_id`, with room for the stream entry id, the aggregate and the attempt; in the
/// trace, a child of the producer's span when the entry carries a `traceparent`.
fn event_span(settings: &ConsumerSettings, envelope: &Envelope, parent: &Span) -> Span {
    let span = tracing::info_span!(
        parent: parent,
        "event",
        stream = %settings.stream,
        group = %settings.group,
        entry_id = field::Empty,
        event_id = %envelope.event_id,
        event_type = %envelope.event_type,
        correlation_id = %envelope.correlation_id,
        aggregate_id = field::Empty,
        attempt = field::Empty,
    );
    if let Some(parent) = producer(envelope) {
        child_of(&span, parent);
    }
    span
}

/// The span of one entry's handling: `event_id`, `event_type`, `correlation_id`, `aggregate_id`
/// (the order or product; empty when the event has none), the stream entry id and the attempt.
/// A child of the producer's span when the entry carries a `traceparent`.
pub(crate) fn entry_span(
    settings: &ConsumerSettings,
    entry_id: &str,
    envelope: &Envelope,
    aggregate: Option<uuid::Uuid>,
    attempt: u32,
) -> Span {
    let span = event_span(settings, envelope, &Span::current());
    span.record("entry_id", entry_id);
    span.record("attempt", attempt);
    if let Some(aggregate) = aggregate {
        span.record("aggregate_id", field::display(aggregate));
    }
    span
}

/// The span of a sub-batch (one transaction): its size and the event ids it holds, linked to
/// each entry's producer ([`link_producers`]).
pub(crate) fn batch_span<'a>(
    settings: &ConsumerSettings,
    envelopes: impl Iterator<Item = &'a Envelope>,
) -> Span {
    let envelopes: Vec<&Envelope> = envelopes.collect();
    let ids: Vec<String> = envelopes.iter().map(|e| e.event_id.to_string()).collect();
    let span = tracing::info_span!(
        "batch",
        stream = %settings.stream,
        group = %settings.group,
        size = ids.len(),
        event_ids = %ids.join(","),
    );
    link_producers(&span, envelopes);
    span
}

/// The span of a batch handler's call with a run of entries of one type: the ids and
/// correlation ids of its entries, linked to each entry's producer. It runs inside its
/// sub-batch's span (and so in the sub-batch's trace).
fn run_span(settings: &ConsumerSettings, envelopes: &[&Envelope]) -> Span {
    let joined = |field: fn(&Envelope) -> String| {
        envelopes
            .iter()
            .map(|envelope| field(envelope))
            .collect::<Vec<_>>()
            .join(",")
    };
    let span = tracing::info_span!(
        "events",
        stream = %settings.stream,
        group = %settings.group,
        event_type = %envelopes.first().map_or("", |first| first.event_type.as_str()),
        size = envelopes.len(),
        event_ids = %joined(|envelope| envelope.event_id.to_string()),
        correlation_ids = %joined(|envelope| envelope.correlation_id.clone()),
    );
    for linked in envelopes.iter().copied().filter_map(producer) {
        span.add_link(linked);
    }
    span
}

/// Runs a batch handler with a run of entries inside the run's span ([`handled`]), with a span
/// of each traced entry beside it: a child of the entry's producer, linked to the run, lasting
/// the call. The events the handler makes for an entry (with its correlation id) carry that
/// span's `traceparent` ([`traceparent_for`]), so each order's trace goes on through its own
/// reply, whichever run it was handled in.
pub(crate) async fn handled_run<T>(
    settings: &ConsumerSettings,
    envelopes: &[&Envelope],
    handler: impl Future<Output = T>,
) -> T {
    let run = run_span(settings, envelopes);
    let run_context = run.context().span().span_context().clone();
    let mut spans = Vec::new();
    let mut entries: HashMap<String, String> = HashMap::new();
    for envelope in envelopes
        .iter()
        .filter(|envelope| producer(envelope).is_some())
    {
        let span = event_span(settings, envelope, &run);
        span.add_link(run_context.clone());
        if let Some(traceparent) = traceparent_of(&span) {
            entries
                .entry(envelope.correlation_id.clone())
                .or_insert(traceparent);
        }
        spans.push(span);
    }
    let event_type = envelopes
        .first()
        .map_or("", |first| first.event_type.as_str());
    let outcome = RUN_ENTRIES
        .scope(entries, handled(settings, event_type, run, handler))
        .await;
    drop(spans);
    outcome
}

/// Runs a handler (of one entry, or a batch handler with a run) inside `span` and records its
/// latency (`stream_handler_duration_seconds{stream,group,type}`: one sample per call).
pub(crate) async fn handled<T>(
    settings: &ConsumerSettings,
    event_type: &str,
    span: Span,
    handler: impl Future<Output = T>,
) -> T {
    let started = Instant::now();
    let outcome = handler.instrument(span.clone()).await;
    let elapsed = started.elapsed();
    span.in_scope(|| tracing::debug!(elapsed_ms = elapsed.as_millis() as u64, "handler returned"));
    metrics::histogram!(
        "stream_handler_duration_seconds",
        "stream" => settings.stream.clone(),
        "group" => settings.group.clone(),
        "type" => event_type.to_owned(),
    )
    .record(elapsed.as_secs_f64());
    outcome
}
