//! The stream gauges a service exports, sampled every few seconds by [`Gauges::run`]: per stream
//! its length; per consumer group its lag, pending count, the age of its oldest pending entry,
//! how many pending entries sat idle past the stuck threshold, and the retries scheduled; the
//! dead-letter stream's length; and, for a producing service, the outbox backlog and the age of
//! its oldest unpublished row.
//!
//! ```text
//! stream_length{stream}                                   XLEN
//! stream_group_lag{stream,group}                          XINFO GROUPS lag
//! stream_group_pending{stream,group}                      XPENDING summary: count
//! stream_group_oldest_pending_age_seconds{stream,group}   now - the time in XPENDING's smallest id
//! stream_group_pending_stuck{stream,group}                XPENDING IDLE <stuck_after> (at most 1000)
//! stream_retries_scheduled{stream,group}                  ZCARD {<stream>}:<group>:retries
//! stream_dead_letters                                     XLEN dead_letter_stream
//! stream_outbox_unpublished                               rows WHERE published_at IS NULL
//! stream_outbox_oldest_unpublished_age_seconds            now - min(occurred_at) of those rows
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Value;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    DEAD_LETTER_STREAM, StreamKeys, StreamRedis,
    connection::Control,
    wire::{as_array, as_string, as_u64, is_nogroup},
};

/// Pending entries counted as stuck at most (one XPENDING reply).
const STUCK_COUNT_LIMIT: u64 = 1000;

/// One consumer group's sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSample {
    pub stream: String,
    pub group: String,
    pub length: u64,
    pub lag: Option<u64>,
    pub pending: u64,
    /// Seconds since the oldest pending entry was written (0 when nothing is pending).
    pub oldest_pending_age: f64,
    /// Pending entries idle longer than the stuck threshold (counted up to 1000).
    pub stuck: u64,
    pub retries_scheduled: u64,
}

/// What one round of sampling saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub groups: Vec<GroupSample>,
    pub dead_letters: u64,
    /// `(rows unpublished, seconds since the oldest of them occurred)`, when an outbox is sampled.
    pub outbox: Option<(u64, f64)>,
}

/// The sampler of one service: the consumer groups it reads with and, if it produces, its outbox.
#[derive(Clone)]
pub struct Gauges {
    redis: StreamRedis,
    keys: StreamKeys,
    groups: Vec<(String, String)>,
    outbox: Option<PgPool>,
    interval: Duration,
    stuck_after: Duration,
}

impl Gauges {
    /// A sampler over `redis` (a server or a cluster; keys under `keys`), every 5 s, pending
    /// entries idle for 60 s counted as stuck.
    pub fn new(redis: StreamRedis, keys: StreamKeys) -> Self {
        Self {
            redis,
            keys,
            groups: Vec::new(),
            outbox: None,
            interval: Duration::from_secs(5),
            stuck_after: Duration::from_secs(60),
        }
    }

    /// Samples `group`'s reading of `stream` (a logical name).
    pub fn group(mut self, stream: &str, group: &str) -> Self {
        self.groups.push((stream.to_owned(), group.to_owned()));
        self
    }

    /// Samples the outbox table in `pool`.
    pub fn outbox(mut self, pool: PgPool) -> Self {
        self.outbox = Some(pool);
        self
    }

    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Pending entries idle longer than `after` count as stuck (the consumers' claim idle time
    /// is the natural choice: past it they should have been taken over).
    pub fn stuck_after(mut self, after: Duration) -> Self {
        self.stuck_after = after;
        self
    }

    /// Samples every [`Self::interval`] until `shutdown` is cancelled; a failed sample is logged
    /// and the gauges keep their last values.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(self.interval.max(Duration::from_millis(100)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            let sample = tokio::select! {
                _ = shutdown.cancelled() => break,
                sample = tokio::time::timeout(self.interval.max(Duration::from_secs(5)), self.sample()) => sample,
            };
            match sample {
                Ok(Ok(sample)) => record(&sample),
                Ok(Err(error)) => tracing::debug!(%error, "stream gauges not sampled"),
                Err(_) => tracing::debug!("stream gauges not sampled in time"),
            }
        }
    }

    /// One sample of everything (without recording it).
    pub async fn sample(&self) -> Result<Sample, GaugeError> {
        let mut redis = self.redis.control().await?;
        let mut sample = Sample::default();
        for (stream, group) in &self.groups {
            sample
                .groups
                .push(self.sample_group(&mut redis, stream, group).await?);
        }
        sample.dead_letters = redis::cmd("XLEN")
            .arg(self.keys.key(DEAD_LETTER_STREAM))
            .query_async(&mut redis)
            .await?;
        if let Some(pool) = &self.outbox {
            let (rows, age): (i64, Option<f64>) = sqlx::query_as(
                "SELECT count(*), EXTRACT(EPOCH FROM now() - min(occurred_at))::float8
                 FROM outbox WHERE published_at IS NULL",
            )
            .fetch_one(pool)
            .await?;
            sample.outbox = Some((
                u64::try_from(rows).unwrap_or(0),
                age.unwrap_or(0.0).max(0.0),
            ));
        }
        Ok(sample)
    }

    async fn sample_group(
        &self,
        redis: &mut Control,
        stream: &str,
        group: &str,
    ) -> Result<GroupSample, redis::RedisError> {
        let health = crate::admin::stream_health(&mut *redis, &self.keys, &[stream])
            .await?
            .pop();
        let mut sample = GroupSample {
            stream: stream.to_owned(),
            group: group.to_owned(),
            ..GroupSample::default()
        };
        if let Some(health) = health {
            sample.length = health.length;
            sample.lag = health
                .groups
                .iter()
                .find(|found| found.name == group)
                .and_then(|found| found.lag);
        }
        let key = self.keys.key(stream);
        match redis::cmd("XPENDING")
            .arg(&key)
            .arg(group)
            .query_async::<Value>(&mut *redis)
            .await
        {
            Ok(summary) => {
                let parts = as_array(&summary);
                sample.pending = parts.first().and_then(as_u64).unwrap_or(0);
                if let Some(oldest) = parts.get(1).and_then(as_string) {
                    sample.oldest_pending_age = age_of_entry_id(&oldest);
                }
            }
            // The group does not exist (yet): nothing pending.
            Err(error) if is_nogroup(&error) => return Ok(sample),
            Err(error) => return Err(error),
        }
        if sample.pending > 0 {
            let stuck: Value = redis::cmd("XPENDING")
                .arg(&key)
                .arg(group)
                .arg("IDLE")
                .arg(u64::try_from(self.stuck_after.as_millis()).unwrap_or(u64::MAX))
                .arg("-")
                .arg("+")
                .arg(STUCK_COUNT_LIMIT)
                .query_async(&mut *redis)
                .await?;
            sample.stuck = as_array(&stuck).len() as u64;
        }
        sample.retries_scheduled = redis::cmd("ZCARD")
            .arg(self.keys.retries(stream, group))
            .query_async(&mut *redis)
            .await?;
        Ok(sample)
    }
}

/// Seconds since the entry `id` (`<ms>-<seq>`) was written, by this host's clock.
pub(crate) fn age_of_entry_id(id: &str) -> f64 {
    let Some(written) = id.split('-').next().and_then(|ms| ms.parse::<u64>().ok()) else {
        return 0.0;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |now| u64::try_from(now.as_millis()).unwrap_or(u64::MAX));
    now.saturating_sub(written) as f64 / 1000.0
}

/// Records `sample` as the gauges listed in the module's documentation.
pub fn record(sample: &Sample) {
    for group in &sample.groups {
        let labels = [
            ("stream", group.stream.clone()),
            ("group", group.group.clone()),
        ];
        metrics::gauge!("stream_length", "stream" => group.stream.clone()).set(group.length as f64);
        if let Some(lag) = group.lag {
            metrics::gauge!("stream_group_lag", &labels).set(lag as f64);
        }
        metrics::gauge!("stream_group_pending", &labels).set(group.pending as f64);
        metrics::gauge!("stream_group_oldest_pending_age_seconds", &labels)
            .set(group.oldest_pending_age);
        metrics::gauge!("stream_group_pending_stuck", &labels).set(group.stuck as f64);
        metrics::gauge!("stream_retries_scheduled", &labels).set(group.retries_scheduled as f64);
    }
    metrics::gauge!("stream_dead_letters").set(sample.dead_letters as f64);
    if let Some((rows, age)) = sample.outbox {
        metrics::gauge!("stream_outbox_unpublished").set(rows as f64);
        metrics::gauge!("stream_outbox_oldest_unpublished_age_seconds").set(age);
    }
}

/// Why a sample failed.
#[derive(Debug, thiserror::Error)]
pub enum GaugeError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_ids_age_comes_from_its_milliseconds() {
        let ten_seconds_ago = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
            - 10_000;
        let age = age_of_entry_id(&format!("{ten_seconds_ago}-3"));
        assert!((10.0..11.0).contains(&age), "{age}");
        assert_eq!(age_of_entry_id("garbage"), 0.0);
    }
}
