//! Stream names (part of the contract operators read with `redis-cli`) and the key prefix that
//! lets tests isolate themselves.

/// Written by orders-service, read by the `products-service` group.
pub const ORDERS_STREAM: &str = "orders_stream";
/// Written by products-service, read by the `orders-service` group.
pub const INVENTORY_STREAM: &str = "inventory_stream";
/// Where entries go after their last failed attempt.
pub const DEAD_LETTER_STREAM: &str = "dead_letter_stream";

/// Maps logical names to Redis keys under an optional prefix (empty in production).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamKeys {
    prefix: String,
}

impl StreamKeys {
    /// Keys under `prefix` (e.g. `"test-3f2a:"`); `""` for the real names.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The prefix itself.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of a stream (or of any other key stream-lib owns).
    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }
}
