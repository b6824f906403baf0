//! The envelope of every stream entry.

use serde::{Serialize, de::DeserializeOwned};

use crate::Event;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

/// One event as it travels: stored as flat stream fields `event_id`, `type`, `source`,
/// `occurred_at` (RFC 3339), `correlation_id`, `payload` (JSON text), and `traceparent` only when
/// the event was produced inside a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
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
    /// The W3C trace context (`00-<trace id>-<span id>-<flags>`) of the span that produced the
    /// event, so its consumers' spans join the producer's trace; `None` (and no stream field)
    /// when tracing is off.
    pub traceparent: Option<String>,
}

/// The optional stream field of [`Envelope::traceparent`], written after the others.
pub const TRACEPARENT_FIELD: &str = "traceparent";

impl Envelope {
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
            traceparent: None,
        })
    }

    /// Reads the payload as the consumer's own struct (a tolerant reader: declare only the fields
    /// you use).
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }

    /// The envelope of a typed event: its `type` is `E::TYPE`, with a fresh UUIDv7 id, stamped
    /// now.
    pub fn of<E: Event>(
        event: &E,
        source: &str,
        correlation_id: impl Into<String>,
    ) -> Result<Self, serde_json::Error> {
        Self::new(E::TYPE, source, correlation_id, event)
    }

    /// The payload as the typed event `E`; an error when the envelope carries another type or
    /// the payload does not fit `E`.
    pub fn decode<E: Event>(&self) -> Result<E, DecodeError> {
        if self.event_type != E::TYPE {
            return Err(DecodeError::InvalidField {
                field: "type",
                reason: format!("expected `{}`, found `{}`", E::TYPE, self.event_type),
            });
        }
        self.payload_as()
            .map_err(|error| DecodeError::InvalidField {
                field: "payload",
                reason: error.to_string(),
            })
    }
}

/// Why a stream entry could not be read as an [`Envelope`], or its payload as an [`Event`].
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    #[error("field `{field}` is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
}

impl Envelope {
    /// The flat stream fields of the envelope, in the order they are written (`traceparent`
    /// last, and only when there is one).
    pub fn to_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("event_id", self.event_id.to_string()),
            ("type", self.event_type.clone()),
            ("source", self.source.clone()),
            ("occurred_at", format_timestamp(self.occurred_at)),
            ("correlation_id", self.correlation_id.clone()),
            ("payload", self.payload.to_string()),
        ];
        if let Some(traceparent) = &self.traceparent {
            fields.push((TRACEPARENT_FIELD, traceparent.clone()));
        }
        fields
    }

    /// Reads an envelope back from its stream fields (extra fields are ignored; a blank
    /// `traceparent` is none: a trace never makes an entry undecodable).
    pub fn from_fields<'a>(
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, DecodeError> {
        let mut event_id = None;
        let mut event_type = None;
        let mut source = None;
        let mut occurred_at = None;
        let mut correlation_id = None;
        let mut payload = None;
        let mut traceparent = None;
        for (name, value) in fields {
            match name {
                "event_id" => event_id = Some(value),
                "type" => event_type = Some(value),
                "source" => source = Some(value),
                "occurred_at" => occurred_at = Some(value),
                "correlation_id" => correlation_id = Some(value),
                "payload" => payload = Some(value),
                TRACEPARENT_FIELD => traceparent = Some(value),
                _ => {}
            }
        }
        let invalid = |field, reason: String| DecodeError::InvalidField { field, reason };
        let event_id = event_id.ok_or(DecodeError::MissingField("event_id"))?;
        let event_id =
            Uuid::parse_str(event_id).map_err(|error| invalid("event_id", error.to_string()))?;
        let occurred_at = occurred_at.ok_or(DecodeError::MissingField("occurred_at"))?;
        let occurred_at = OffsetDateTime::parse(occurred_at, &Rfc3339)
            .map_err(|error| invalid("occurred_at", error.to_string()))?;
        let payload = payload.ok_or(DecodeError::MissingField("payload"))?;
        let payload =
            serde_json::from_str(payload).map_err(|error| invalid("payload", error.to_string()))?;
        Ok(Self {
            event_id,
            event_type: event_type
                .ok_or(DecodeError::MissingField("type"))?
                .to_owned(),
            source: source
                .ok_or(DecodeError::MissingField("source"))?
                .to_owned(),
            occurred_at,
            correlation_id: correlation_id
                .ok_or(DecodeError::MissingField("correlation_id"))?
                .to_owned(),
            payload,
            traceparent: traceparent
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned),
        })
    }
}

/// RFC 3339, as every timestamp field in the streams is written.
pub(crate) fn format_timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_survives_its_stream_fields() {
        let event = Envelope::new(
            "order.placed",
            "orders-service",
            "req-1",
            &serde_json::json!({"total": "24.99"}),
        )
        .unwrap();
        let fields = event.to_fields();
        let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "event_id",
                "type",
                "source",
                "occurred_at",
                "correlation_id",
                "payload"
            ]
        );
        let decoded = Envelope::from_fields(fields.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
        assert_eq!(decoded, event);
    }

    #[test]
    fn a_traceparent_is_written_last_only_when_there_is_one_and_read_back() {
        let mut event = Envelope::new("order.placed", "orders-service", "req-1", &1).unwrap();
        assert!(
            event
                .to_fields()
                .iter()
                .all(|(name, _)| *name != TRACEPARENT_FIELD)
        );
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        event.traceparent = Some(traceparent.to_owned());
        let fields = event.to_fields();
        assert_eq!(
            fields.last().unwrap(),
            &(TRACEPARENT_FIELD, traceparent.to_owned())
        );
        let decoded = Envelope::from_fields(fields.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
        assert_eq!(decoded, event);
        let blank = fields.iter().map(|(k, v)| {
            (
                *k,
                if *k == TRACEPARENT_FIELD {
                    " "
                } else {
                    v.as_str()
                },
            )
        });
        assert_eq!(Envelope::from_fields(blank).unwrap().traceparent, None);
    }

    #[test]
    fn a_missing_or_malformed_field_is_a_decode_error_naming_it() {
        let event = Envelope::new("order.placed", "orders-service", "req-1", &1).unwrap();
        let fields = event.to_fields();
        let without_source = fields.iter().filter(|(name, _)| *name != "source");
        let error =
            Envelope::from_fields(without_source.map(|(k, v)| (*k, v.as_str()))).unwrap_err();
        assert!(matches!(error, DecodeError::MissingField("source")));
        let bad_time = fields.iter().map(|(k, v)| {
            if *k == "occurred_at" {
                (*k, "yesterday")
            } else {
                (*k, v.as_str())
            }
        });
        let error = Envelope::from_fields(bad_time).unwrap_err();
        assert!(error.to_string().contains("occurred_at"), "{error}");
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Placed {
        order_id: Uuid,
    }

    impl Event for Placed {
        const TYPE: &'static str = "order.placed";
    }

    #[derive(Debug, serde::Serialize, serde::Deserialize)]
    struct Cancelled {
        order_id: Uuid,
    }

    impl Event for Cancelled {
        const TYPE: &'static str = "order.cancelled";
    }

    #[test]
    fn a_typed_event_names_its_type_and_decodes_only_as_itself() {
        let placed = Placed {
            order_id: Uuid::now_v7(),
        };
        let envelope = Envelope::of(&placed, "orders-service", "req-1").unwrap();
        assert_eq!(envelope.event_type, "order.placed");
        assert_eq!(envelope.decode::<Placed>().unwrap(), placed);
        let error = envelope.decode::<Cancelled>().unwrap_err();
        assert!(error.to_string().contains("order.cancelled"), "{error}");
    }
}
