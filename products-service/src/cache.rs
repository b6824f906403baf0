//! A small in-process cache for derived figures (category counts, page starts): an entry lives a
//! fixed time from the moment its computation started, so what it serves is never older than
//! that on any replica, and one computation per key runs at a time (the others wait for it
//! rather than all querying at once when an entry expires).

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant, SystemTime},
};

use tokio::sync::OnceCell;

/// Cheap to clone; clones share the entries.
pub struct TtlCache<V> {
    inner: Arc<Inner<V>>,
}

impl<V> Clone for TtlCache<V> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<V> {
    ttl: Duration,
    capacity: usize,
    slots: Mutex<HashMap<String, Slot<V>>>,
}

struct Slot<V> {
    started: Instant,
    /// `started` on the wall clock: what the value is as of, for HTTP caching headers.
    as_of: SystemTime,
    value: Arc<OnceCell<V>>,
}

impl<V: Clone> TtlCache<V> {
    /// Entries live `ttl`; at most `capacity` keys are kept (expired ones are dropped first,
    /// then all of them).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                ttl,
                capacity,
                slots: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The value under `key`, computed by `compute` when it is missing or expired, and the time
    /// its computation started (the data is at least that fresh). A failed computation is not
    /// kept: the next caller (or a waiting one) computes again.
    pub async fn get_or_try_compute<E, F, Fut>(
        &self,
        key: String,
        compute: F,
    ) -> Result<(V, SystemTime), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let (cell, as_of) = {
            let mut slots = self
                .inner
                .slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match slots.get(&key) {
                Some(slot) if slot.started.elapsed() < self.inner.ttl => {
                    (Arc::clone(&slot.value), slot.as_of)
                }
                _ => {
                    if slots.len() >= self.inner.capacity {
                        let ttl = self.inner.ttl;
                        slots.retain(|_, slot| slot.started.elapsed() < ttl);
                        if slots.len() >= self.inner.capacity {
                            slots.clear();
                        }
                    }
                    let cell = Arc::new(OnceCell::new());
                    let as_of = SystemTime::now();
                    slots.insert(
                        key,
                        Slot {
                            started: Instant::now(),
                            as_of,
                            value: Arc::clone(&cell),
                        },
                    );
                    (cell, as_of)
                }
            }
        };
        let value = cell.get_or_try_init(compute).await?.clone();
        Ok((value, as_of))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn concurrent_callers_share_one_computation_until_the_entry_expires() {
        let cache = TtlCache::new(Duration::from_millis(200), 8);
        let runs = Arc::new(AtomicUsize::new(0));
        let compute = || {
            let runs = Arc::clone(&runs);
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, ()>(runs.load(Ordering::SeqCst))
            }
        };
        let values = futures::future::join_all(
            (0..10).map(|_| cache.get_or_try_compute("k".to_owned(), compute)),
        )
        .await;
        assert!(
            values
                .iter()
                .all(|value| value.as_ref().map(|(n, _)| *n) == Ok(1)),
            "{values:?}"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        tokio::time::sleep(Duration::from_millis(250)).await;
        let (value, as_of) = cache
            .get_or_try_compute("k".to_owned(), compute)
            .await
            .unwrap();
        assert_eq!(value, 2);
        assert!(as_of <= SystemTime::now());
    }

    #[tokio::test]
    async fn a_failed_computation_is_not_kept() {
        let cache = TtlCache::new(Duration::from_secs(60), 8);
        let failed = cache
            .get_or_try_compute("k".to_owned(), || async { Err::<u32, _>("down") })
            .await;
        assert_eq!(failed, Err("down"));
        let value = cache
            .get_or_try_compute("k".to_owned(), || async { Ok::<_, &str>(7) })
            .await;
        assert_eq!(value.map(|(value, _)| value), Ok(7));
    }

    #[tokio::test]
    async fn a_full_cache_makes_room() {
        let cache = TtlCache::new(Duration::from_secs(60), 2);
        for key in ["a", "b", "c"] {
            let value = cache
                .get_or_try_compute(key.to_owned(), || async { Ok::<_, ()>(key) })
                .await;
            assert_eq!(value.map(|(value, _)| value), Ok(key));
        }
        let slots = cache.inner.slots.lock().unwrap().len();
        assert!(slots <= 2, "{slots} entries kept");
    }
}
