//! The shared Redis of the tests, and a key prefix of one test's own on it that is deleted with
//! everything under it when the test ends.

use redis::Commands;

/// The shared Redis tests use: `TEST_REDIS_URL`, default `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A unique key prefix (`test-<label>-<uuid>:`) on a Redis server; every key under it is deleted
/// when the value is dropped (even when the test panics), so tests share one Redis, run in
/// parallel and leave nothing behind. Never FLUSHALL the shared server: use this, or a
/// [`super::PrivateRedis`] for a test that must lose or stop its Redis.
#[derive(Debug)]
pub struct RedisPrefix {
    prefix: String,
    url: String,
}

impl RedisPrefix {
    /// A prefix on the shared Redis ([`redis_url`]).
    pub fn new(label: &str) -> Self {
        Self::on(redis_url(), label)
    }

    /// A prefix on the server at `url`.
    pub fn on(url: impl Into<String>, label: &str) -> Self {
        let label = label.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
        Self {
            prefix: format!("test-{label}-{}:", uuid::Uuid::new_v4().simple()),
            url: url.into(),
        }
    }

    /// The prefix, ending in `:`.
    pub fn as_str(&self) -> &str {
        &self.prefix
    }

    /// The URL of the server it lives on.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `name` under the prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Deletes every key under the prefix (SCAN, then UNLINK: the shared server is never held
    /// up by a KEYS over everyone's keys); returns how many there were.
    fn delete_keys(&self) -> redis::RedisResult<usize> {
        let mut connection = redis::Client::open(self.url.as_str())?.get_connection()?;
        // The prefix holds only [A-Za-z0-9-:], none of them special in a MATCH pattern.
        let keys = connection
            .scan_match::<_, String>(format!("{}*", self.prefix))?
            .collect::<redis::RedisResult<Vec<String>>>()?;
        for chunk in keys.chunks(500) {
            redis::cmd("UNLINK").arg(chunk).exec(&mut connection)?;
        }
        Ok(keys.len())
    }
}

impl std::fmt::Display for RedisPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.prefix)
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        // Drop cannot await, and may run on a runtime's thread: a blocking connection on a
        // thread of its own.
        let deleted = std::thread::scope(|scope| scope.spawn(|| self.delete_keys()).join());
        if !matches!(deleted, Ok(Ok(_))) {
            eprintln!(
                "could not delete the test's Redis keys under {}",
                self.prefix
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_under_the_prefix_goes_with_it_and_no_other() {
        let mut connection = redis::Client::open(redis_url())
            .unwrap()
            .get_connection()
            .unwrap();
        let neighbour = RedisPrefix::new("neighbour");
        let () = connection.set(neighbour.key("kept"), 1).unwrap();
        let prefix = RedisPrefix::new("kit");
        for n in 0..1200 {
            let () = connection.set(prefix.key(&format!("k{n}")), n).unwrap();
        }
        let () = connection
            .xadd(prefix.key("stream"), "*", &[("f", "v")])
            .unwrap();
        let under = format!("{prefix}*");

        drop(prefix);

        let left = connection
            .scan_match::<_, String>(&under)
            .unwrap()
            .collect::<redis::RedisResult<Vec<String>>>()
            .unwrap();
        assert!(left.is_empty(), "{left:?}");
        let kept: Option<i64> = connection.get(neighbour.key("kept")).unwrap();
        assert_eq!(kept, Some(1));
    }

    #[test]
    fn a_label_cannot_widen_the_pattern() {
        let prefix = RedisPrefix::new("a*b?[c]");

        assert!(prefix.as_str().starts_with("test-a-b--c--"), "{prefix}");
        assert!(prefix.as_str().ends_with(':'));
    }
}
