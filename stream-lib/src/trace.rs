//! What a consumer's logs and metrics say about each entry it handles: the span every log line
//! of an entry's handling carries (event id, type, correlation id, aggregate), the span of a
//! batch handler's run and of a sub-batch (their entries' ids) and the handler latency histogram.

use std::{future::Future, time::Instant};

use tracing::{Instrument, Span, field};

use crate::{ConsumerSettings, Envelope};

/// The span of one entry's handling: `event_id`, `event_type`, `correlation_id`, `aggregate_id`
/// (the order or product; empty when the event has none), the stream entry id and the attempt.
pub(crate) fn entry_span(
    settings: &ConsumerSettings,
    entry_id: &str,
    envelope: &Envelope,
    aggregate: Option<uuid::Uuid>,
    attempt: u32,
) -> Span {
    let span = tracing::info_span!(
        "event",
        stream = %settings.stream,
        group = %settings.group,
        entry_id = %entry_id,
        event_id = %envelope.event_id,
        event_type = %envelope.event_type,
        correlation_id = %envelope.correlation_id,
        aggregate_id = field::Empty,
        attempt,
    );
    if let Some(aggregate) = aggregate {
        span.record("aggregate_id", field::display(aggregate));
    }
    span
}

/// The span of a sub-batch (one transaction): its size and the event ids it holds.
pub(crate) fn batch_span<'a>(
    settings: &ConsumerSettings,
    envelopes: impl Iterator<Item = &'a Envelope>,
) -> Span {
    let ids: Vec<String> = envelopes.map(|e| e.event_id.to_string()).collect();
    tracing::info_span!(
        "batch",
        stream = %settings.stream,
        group = %settings.group,
        size = ids.len(),
        event_ids = %ids.join(","),
    )
}

/// The span of a batch handler's call with a run of entries of one type: the ids and
/// correlation ids of its entries.
pub(crate) fn run_span(settings: &ConsumerSettings, envelopes: &[&Envelope]) -> Span {
    let joined = |field: fn(&Envelope) -> String| {
        envelopes
            .iter()
            .map(|envelope| field(envelope))
            .collect::<Vec<_>>()
            .join(",")
    };
    tracing::info_span!(
        "events",
        stream = %settings.stream,
        group = %settings.group,
        event_type = %envelopes.first().map_or("", |first| first.event_type.as_str()),
        size = envelopes.len(),
        event_ids = %joined(|envelope| envelope.event_id.to_string()),
        correlation_ids = %joined(|envelope| envelope.correlation_id.clone()),
    )
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
