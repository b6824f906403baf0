//! Typed events: a Rust type names its `type` string once, so producers and consumers never
//! pass event type strings beside untyped payloads.

use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

/// An event type: the payload of one `type` of stream entry.
///
/// The producer owns its payload types; a consumer declares its own type for the same `TYPE`
/// with only the fields it reads (a tolerant reader). Types are past tense and versioned by
/// adding a new type, never by changing an old one.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use stream_lib::Event;
/// use uuid::Uuid;
///
/// #[derive(Serialize, Deserialize)]
/// struct OrderCancelled {
///     order_id: Uuid,
/// }
///
/// impl Event for OrderCancelled {
///     const TYPE: &'static str = "order.cancelled";
///     fn aggregate_id(&self) -> Option<Uuid> {
///         Some(self.order_id)
///     }
/// }
/// ```
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The envelope's `type` field: dotted, past tense (`order.placed`).
    const TYPE: &'static str;

    /// The aggregate this event is about (an order, a product). A consumer applies the entries
    /// of one aggregate in stream order; entries of different aggregates may be applied
    /// concurrently. `None`: no aggregate, so no order to keep with other entries.
    fn aggregate_id(&self) -> Option<Uuid> {
        None
    }
}
