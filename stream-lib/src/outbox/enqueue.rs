//! Writing events into the outbox inside the caller's transaction: the typed [`Outbox`] of a
//! service's stream, over the envelope-level `enqueue` / `enqueue_many` (private to it).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Envelope, Event};

/// A service's outbox for one stream: every event it enqueues carries `source` and goes to
/// `stream`. Declare it once as a constant:
///
/// ```
/// use stream_lib::{ORDERS_STREAM, outbox::Outbox};
///
/// const OUTBOX: Outbox = Outbox::new("orders-service", ORDERS_STREAM);
/// ```
///
/// then `OUTBOX.enqueue(&mut tx, correlation_id, &OrderPlaced { .. })` in the transaction that
/// makes the change. Nothing is published if that transaction rolls back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outbox {
    source: &'static str,
    stream: &'static str,
}

impl Outbox {
    /// The outbox of `source` (the producing service's name) for `stream` (a logical name such
    /// as [`crate::ORDERS_STREAM`]).
    pub const fn new(source: &'static str, stream: &'static str) -> Self {
        Self { source, stream }
    }

    pub const fn source(&self) -> &'static str {
        self.source
    }

    pub const fn stream(&self) -> &'static str {
        self.stream
    }

    /// Writes `event` (a fresh UUIDv7 id, stamped now, in the current span's trace) inside the
    /// caller's transaction; returns its event id.
    pub async fn enqueue<E: Event>(
        &self,
        connection: &mut PgConnection,
        correlation_id: &str,
        event: &E,
    ) -> Result<Uuid, sqlx::Error> {
        let envelope = self.envelope(correlation_id, event)?;
        enqueue(connection, self.stream, &envelope).await?;
        Ok(envelope.event_id)
    }

    /// Writes `events` in order with one statement (one round trip) inside the caller's
    /// transaction; returns their event ids in the same order.
    pub async fn enqueue_all<E: Event>(
        &self,
        connection: &mut PgConnection,
        correlation_id: &str,
        events: &[E],
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        let envelopes = events
            .iter()
            .map(|event| self.envelope(correlation_id, event))
            .collect::<Result<Vec<_>, _>>()?;
        enqueue_many(connection, self.stream, &envelopes).await?;
        Ok(envelopes.iter().map(|envelope| envelope.event_id).collect())
    }

    /// The envelope [`Outbox::enqueue`] would write for `event`: to collect events of several
    /// types, each with its own correlation id, for one [`Outbox::enqueue_envelopes`]. It
    /// carries the current span's `traceparent` (none when tracing is off), so the consumers'
    /// spans continue the trace that produced it; inside a batch handler, the `traceparent` of
    /// the run's entry with this correlation id (the reply continues that entry's trace).
    pub fn envelope<E: Event>(
        &self,
        correlation_id: &str,
        event: &E,
    ) -> Result<Envelope, sqlx::Error> {
        let mut envelope =
            Envelope::of(event, self.source, correlation_id).map_err(encode_error)?;
        envelope.traceparent = crate::trace::traceparent_for(correlation_id);
        Ok(envelope)
    }

    /// Writes `envelopes` (made by [`Outbox::envelope`]) in order with one statement (one round
    /// trip) inside the caller's transaction.
    pub async fn enqueue_envelopes(
        &self,
        connection: &mut PgConnection,
        envelopes: &[Envelope],
    ) -> Result<(), sqlx::Error> {
        enqueue_many(connection, self.stream, envelopes).await
    }
}

/// A payload that does not serialize is an encoding error of the statement that would carry it.
fn encode_error(error: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(error))
}

/// Writes `event` for `stream` (a logical name such as [`crate::ORDERS_STREAM`]) inside the
/// caller's transaction. Nothing is published if that transaction rolls back.
async fn enqueue(
    connection: &mut PgConnection,
    stream: &str,
    event: &Envelope,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (stream, event_id, event_type, source, occurred_at, correlation_id, payload,
                             traceparent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(stream)
    .bind(event.event_id)
    .bind(&event.event_type)
    .bind(&event.source)
    .bind(event.occurred_at)
    .bind(&event.correlation_id)
    .bind(sqlx::types::Json(&event.payload))
    .bind(&event.traceparent)
    .execute(connection)
    .await?;
    Ok(())
}

/// Writes several events for `stream` in one statement (one round trip), in order, inside the
/// caller's transaction.
async fn enqueue_many(
    connection: &mut PgConnection,
    stream: &str,
    events: &[Envelope],
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&Envelope) -> String| events.iter().map(f).collect::<Vec<String>>();
    sqlx::query(
        "INSERT INTO outbox (stream, event_id, event_type, source, occurred_at, correlation_id, payload,
                             traceparent)
         SELECT $1, e.event_id, e.event_type, e.source, e.occurred_at, e.correlation_id, e.payload,
                e.traceparent
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::jsonb[],
                     $8::text[])
              WITH ORDINALITY AS e(event_id, event_type, source, occurred_at, correlation_id, payload,
                                   traceparent, position)
         ORDER BY e.position",
    )
    .bind(stream)
    .bind(events.iter().map(|e| e.event_id).collect::<Vec<Uuid>>())
    .bind(column(|e| e.event_type.clone()))
    .bind(column(|e| e.source.clone()))
    .bind(events.iter().map(|e| e.occurred_at).collect::<Vec<OffsetDateTime>>())
    .bind(column(|e| e.correlation_id.clone()))
    .bind(
        events
            .iter()
            .map(|e| sqlx::types::Json(&e.payload))
            .collect::<Vec<_>>(),
    )
    .bind(
        events
            .iter()
            .map(|e| e.traceparent.clone())
            .collect::<Vec<Option<String>>>(),
    )
    .execute(connection)
    .await?;
    Ok(())
}
