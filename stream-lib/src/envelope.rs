//! The envelope of every stream entry.

use serde::{Serialize, de::DeserializeOwned};
use time::OffsetDateTime;
use uuid::Uuid;

/// One event as it travels: stored as flat stream fields `event_id`, `type`, `source`,
/// `occurred_at` (RFC 3339), `correlation_id`, `payload` (JSON text).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// UUIDv7; unchanged across retries and replays: the idempotency key.
    pub event_id: Uuid,
    /// Past-tense, dotted: `order.placed`, `stock.reserved`.
    pub event_type: String,
    /// The producing service, e.g. `orders-service`.
    pub source: String,
    pub occurred_at: OffsetDateTime,
    /// The request id that caused it, so one order can be followed across services.
    pub correlation_id: String,
    pub payload: serde_json::Value,
}

impl Event {
    /// A new event with a fresh UUIDv7 id, stamped now.
    pub fn new(
        event_type: &str,
        source: &str,
        correlation_id: impl Into<String>,
        payload: &impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event_id: Uuid::now_v7(),
            event_type: event_type.to_owned(),
            source: source.to_owned(),
            occurred_at: OffsetDateTime::now_utc(),
            correlation_id: correlation_id.into(),
            payload: serde_json::to_value(payload)?,
        })
    }

    /// Reads the payload as the consumer's own struct (a tolerant reader: declare only the fields
    /// you use).
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }
}
