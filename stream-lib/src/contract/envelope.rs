//! The stream entry as stored in Redis: flat string fields, in the order
//! [`Envelope::to_fields`](crate::Envelope::to_fields) writes them, and the fields a dead
//! letter adds ([`DEAD_LETTER_FIELDS`](crate::dead_letter::DEAD_LETTER_FIELDS)).

use schemars::{JsonSchema, generate::Contract};
use uuid::Uuid;

use super::{SchemaFiles, payload_schema};

/// An entry of `orders_stream` or `inventory_stream`: every field is a Redis string; the event
/// itself is `payload`, whose schema `type` names (`docs/events/<stream>/<type>.json`).
#[derive(JsonSchema)]
#[schemars(title = "Envelope")]
pub struct EnvelopeFields {
    /// UUIDv7, unchanged across retries and replays: the consumers' idempotency key.
    pub event_id: Uuid,
    /// The event type, dotted and past tense (`order.placed`): it names the payload's schema.
    #[schemars(rename = "type")]
    pub event_type: String,
    /// The producing service (`orders-service`, `products-service`).
    pub source: String,
    /// When the event happened (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub occurred_at: String,
    /// The request id (`x-request-id`) that caused the event, to follow it across services.
    pub correlation_id: String,
    /// The event's payload as JSON text.
    #[schemars(extend("contentMediaType" = "application/json"))]
    pub payload: String,
    /// The W3C trace context of the span that produced the event
    /// (`00-<trace id>-<span id>-<flags>`), so its consumers join that trace. Absent when
    /// tracing is off; readers that do not trace ignore it.
    #[schemars(
        skip_serializing_if = "String::is_empty",
        regex(pattern = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
    )]
    pub traceparent: String,
}

/// An entry of `dead_letter_stream`: the original entry's fields, and where it came from and
/// why it failed. Readers deduplicate by `origin_stream` + `origin_id`.
#[derive(JsonSchema)]
#[schemars(title = "DeadLetter")]
pub struct DeadLetterFields {
    #[schemars(flatten)]
    pub entry: EnvelopeFields,
    /// The stream the entry was read from (`orders_stream`, `inventory_stream`).
    pub origin_stream: String,
    /// The entry's id on its origin stream.
    #[schemars(regex(pattern = r"^[0-9]+-[0-9]+$"))]
    pub origin_id: String,
    /// The consumer group that gave up on it.
    pub group: String,
    /// How many attempts failed (a decimal integer).
    #[schemars(regex(pattern = r"^[0-9]+$"))]
    pub attempts: String,
    /// The last attempt's error.
    pub error: String,
    /// When it was dead-lettered (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub failed_at: String,
}

/// `docs/events/envelope.json` and `docs/events/dead-letter.json`.
pub fn envelope_schemas() -> SchemaFiles {
    SchemaFiles::new()
        .file(
            "envelope.json",
            payload_schema::<EnvelopeFields>(Contract::Serialize),
        )
        .file(
            "dead-letter.json",
            payload_schema::<DeadLetterFields>(Contract::Serialize),
        )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;
    use crate::{Envelope, contract::docs_dir, dead_letter::DEAD_LETTER_FIELDS};

    fn names(schema: &Value, key: &str) -> BTreeSet<String> {
        match &schema[key] {
            Value::Object(map) => map.keys().cloned().collect(),
            Value::Array(items) => items
                .iter()
                .filter_map(|item| Some(item.as_str()?.to_owned()))
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    fn written_fields() -> BTreeSet<String> {
        let envelope = Envelope::new("order.paid", "orders-service", "req-1", &1).unwrap();
        envelope
            .to_fields()
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect()
    }

    #[test]
    fn the_envelope_schema_requires_exactly_the_fields_an_entry_is_written_with() {
        let schema = payload_schema::<EnvelopeFields>(Contract::Serialize);
        assert_eq!(names(&schema, "required"), written_fields());
        assert!(names(&schema, "properties").is_superset(&written_fields()));
    }

    #[test]
    fn the_traceparent_is_an_optional_property_of_the_envelope_and_of_a_dead_letter() {
        let mut traced = Envelope::new("order.paid", "orders-service", "req-1", &1).unwrap();
        traced.traceparent =
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned());
        let (name, _) = traced.to_fields().pop().unwrap();
        for schema in [
            payload_schema::<EnvelopeFields>(Contract::Serialize),
            payload_schema::<DeadLetterFields>(Contract::Serialize),
        ] {
            assert!(names(&schema, "properties").contains(name), "{schema}");
            assert!(!names(&schema, "required").contains(name), "{schema}");
        }
    }

    #[test]
    fn the_dead_letter_schema_adds_exactly_the_dead_letter_fields() {
        let schema = payload_schema::<DeadLetterFields>(Contract::Serialize);
        let mut expected = written_fields();
        expected.extend(DEAD_LETTER_FIELDS.map(str::to_owned));
        assert_eq!(names(&schema, "required"), expected);
    }

    #[test]
    fn the_committed_envelope_schemas_are_the_generated_ones() {
        let root = docs_dir(env!("CARGO_MANIFEST_DIR"));
        let write = std::env::var("EVENT_SCHEMAS").is_ok_and(|mode| mode == "write");
        if let Err(problems) = envelope_schemas().sync(&root, write) {
            panic!("{problems}");
        }
    }
}
