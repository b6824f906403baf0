//! How long to wait: [`RetryPolicy`] for an entry's next attempt (durable, in Redis) and the one
//! [`Backoff`] for reconnecting and for pausing while a dependency is unavailable.

use std::time::Duration;

/// Exponential backoff with jitter: `base * factor^(attempt-1)`, capped, ± `jitter`.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub factor: f64,
    pub cap: Duration,
    /// Attempts in all, the first included; after the last the entry is dead-lettered.
    pub max_attempts: u32,
    /// Fraction of the delay drawn at random either way (0.2 = ±20 %).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            factor: 2.0,
            cap: Duration::from_secs(300),
            max_attempts: 8,
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The delay before the attempt after failed attempt `attempt` (1-based), jitter included.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let nominal = self.base.as_secs_f64() * self.factor.max(1.0).powi(exponent);
        let capped = nominal.min(self.cap.as_secs_f64());
        Duration::from_secs_f64((capped * spread(self.jitter)).max(0.0))
    }
}

/// `1 ± jitter`, drawn at random.
fn spread(jitter: f64) -> f64 {
    let jitter = jitter.clamp(0.0, 1.0);
    if jitter > 0.0 {
        1.0 + rand::random_range(-jitter..=jitter)
    } else {
        1.0
    }
}

/// Exponential backoff for reconnects and pauses: 100 ms doubling to 5 s (by default), ±20 %
/// jitter so replicas do not retry in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(5))
    }
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        let max = max.max(min);
        Self {
            min,
            max,
            current: min,
        }
    }

    /// The next delay (jittered); doubles the one after it, up to the maximum.
    pub fn next_delay(&mut self) -> Duration {
        let current = self.current;
        self.current = (self.current * 2).min(self.max);
        current.mul_f64(spread(0.2))
    }

    /// Back to the minimum, after a success.
    pub fn reset(&mut self) {
        self.current = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_by_the_factor_up_to_the_cap() {
        let policy = RetryPolicy {
            base: Duration::from_millis(100),
            factor: 2.0,
            cap: Duration::from_millis(500),
            max_attempts: 8,
            jitter: 0.0,
        };
        let delays: Vec<u128> = (1..=5).map(|n| policy.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let policy = RetryPolicy {
            jitter: 0.2,
            ..RetryPolicy::default()
        };
        for _ in 0..1000 {
            let delay = policy.delay(2).as_secs_f64();
            assert!((1.6..=2.4).contains(&delay), "{delay}");
        }
    }

    #[test]
    fn the_defaults_are_one_second_doubling_to_five_minutes_eight_attempts() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.base, Duration::from_secs(1));
        assert_eq!(policy.cap, Duration::from_secs(300));
        assert_eq!(policy.max_attempts, 8);
    }

    #[test]
    fn the_backoff_doubles_to_its_maximum_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<Duration> = (0..8).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] <= Duration::from_millis(120));
        assert!(delays[1] >= Duration::from_millis(160));
        assert!(delays[7] >= Duration::from_secs(4) && delays[7] <= Duration::from_secs(6));
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(120));
    }
}
