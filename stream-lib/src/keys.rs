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

    /// A key that belongs with `stream` and `group`: `{<prefix><stream>}:<group>:<name>`. The
    /// hash tag puts it in the stream's own cluster slot (the slot of `orders_stream` is the
    /// slot of `{orders_stream}`), so one script or MULTI may touch both.
    pub fn aux(&self, stream: &str, group: &str, name: &str) -> String {
        format!("{{{}{}}}:{}:{}", self.prefix, stream, group, name)
    }

    /// The sorted set of entries waiting for a retry (member: entry id, score: due time in Unix
    /// milliseconds, Redis clock).
    pub fn retries(&self, stream: &str, group: &str) -> String {
        self.aux(stream, group, "retries")
    }

    /// The hash of failed attempts per entry id (it only grows; cleared on ack or dead letter).
    pub fn attempts(&self, stream: &str, group: &str) -> String {
        self.aux(stream, group, "attempts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aux_keys_carry_the_hash_tag_of_their_stream() {
        let keys = StreamKeys::new("t:");
        assert_eq!(
            keys.retries(ORDERS_STREAM, "products-service"),
            "{t:orders_stream}:products-service:retries"
        );
        assert_eq!(
            StreamKeys::default().attempts(ORDERS_STREAM, "g"),
            "{orders_stream}:g:attempts"
        );
    }
}
