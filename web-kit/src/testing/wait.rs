//! Waiting for an asynchronous outcome: poll with a deadline, never a bare sleep.

use std::{future::Future, time::Duration};

use tokio::time::Instant;

/// How often [`wait_until`] asks again.
const POLL: Duration = Duration::from_millis(20);

/// What a check of [`wait_until`] answers: `bool` (holds or not yet), or `Option<T>` (the value
/// it waited for, or not yet).
pub trait Outcome {
    /// What [`wait_until`] returns once the check holds.
    type Value;
    /// `Some` once the check holds.
    fn settled(self) -> Option<Self::Value>;
}

impl Outcome for bool {
    type Value = ();

    fn settled(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;

    fn settled(self) -> Option<T> {
        self
    }
}

/// Polls `check` until it holds (`true`, or `Some(value)`: returned) and fails the test, naming
/// `what`, once `patience` has passed without.
pub async fn wait_until<F, Fut>(
    patience: Duration,
    what: &str,
    mut check: F,
) -> <Fut::Output as Outcome>::Value
where
    F: FnMut() -> Fut,
    Fut: Future,
    Fut::Output: Outcome,
{
    let deadline = Instant::now() + patience;
    loop {
        if let Some(value) = check().await.settled() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {patience:?} waiting until {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn it_returns_the_value_once_the_check_holds() {
        let calls = AtomicU32::new(0);

        let value = wait_until(Duration::from_secs(5), "the third call", || async {
            let call = calls.fetch_add(1, Ordering::SeqCst) + 1;
            (call == 3).then_some(call)
        })
        .await;

        assert_eq!(value, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "waiting until it never holds")]
    async fn it_fails_the_test_after_its_patience() {
        wait_until(Duration::from_millis(100), "it never holds", || async {
            false
        })
        .await;
    }
}
