//! A consumer's settings, the declarations of the `STREAM_*` environment variables and their
//! one parser.

use std::time::Duration;

use config_kit::Setting;

use crate::RetryPolicy;

const BATCH_SIZE: Setting = Setting::value(
    "STREAM_BATCH_SIZE",
    "128",
    "entries read at once (one XREADGROUP)",
);
const CONCURRENCY: Setting = Setting::value(
    "STREAM_CONCURRENCY",
    "2",
    "transactions at once; a batch is split by aggregate (order, product)",
);
const BLOCK_MS: Setting = Setting::value(
    "STREAM_BLOCK_MS",
    "2000",
    "how long a read waits for entries",
);
const MIN_SUB_BATCH: Setting = Setting::value(
    "STREAM_MIN_SUB_BATCH",
    "16",
    "the fewest entries a sub-batch is given before another runs beside it",
);
const LINGER_MS: Setting = Setting::value(
    "STREAM_LINGER_MS",
    "5",
    "while busy, reads this far apart, so what arrives meanwhile is applied together (0: at once)",
);
const CLAIM_IDLE_MS: Setting = Setting::value(
    "STREAM_CLAIM_IDLE_MS",
    "30000",
    "an entry held this long by a silent replica is taken over",
);
const HANDLER_DEADLINE_MS: Setting = Setting::value(
    "STREAM_HANDLER_DEADLINE_MS",
    "10000",
    "a batch transaction running longer is abandoned and retried (keep it above \
     `DATABASE_STATEMENT_TIMEOUT_MS`)",
);
const RETRY_BASE_MS: Setting = Setting::value(
    "STREAM_RETRY_BASE_MS",
    "1000",
    "first backoff of a failing entry, doubling at each attempt",
);
const RETRY_MAX_ATTEMPTS: Setting = Setting::value(
    "STREAM_RETRY_MAX_ATTEMPTS",
    "8",
    "attempts before a failing entry is dead-lettered",
);
const INBOX_RETENTION_SECS: Setting = Setting::value(
    "INBOX_RETENTION_SECS",
    "604800",
    "handled event ids are remembered this long (more than `OUTBOX_RETENTION_SECS`)",
);

/// Where and how a consumer reads. [`ConsumerSettings::new`] gives the defaults,
/// [`ConsumerSettings::from_env`] reads the environment over them.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerSettings {
    /// Logical stream name, e.g. [`crate::ORDERS_STREAM`].
    pub stream: String,
    /// The consumer group: the consuming service's name. Also its name in the inbox.
    pub group: String,
    /// This process's name in the group; unique per process.
    pub consumer: String,
    /// Entries per read (XREADGROUP COUNT): `STREAM_BATCH_SIZE`, default 128.
    pub batch_size: usize,
    /// Transactions at once; a batch is split into this many sub-batches by aggregate:
    /// `STREAM_CONCURRENCY`, default 2.
    pub concurrency: usize,
    /// The fewest entries a sub-batch is given before another runs beside it: a transaction of
    /// a few entries costs about what one entry costs (BEGIN, the inbox statement, the commit),
    /// so a smaller batch is applied in fewer transactions: `STREAM_MIN_SUB_BATCH`, default 16.
    pub min_sub_batch: usize,
    /// How long a read blocks (XREADGROUP BLOCK): `STREAM_BLOCK_MS`, default 2000.
    pub block: Duration,
    /// While busy (the last read brought entries, but not a full batch), the next read waits
    /// until this long after it, so that the entries of that time are applied together (one
    /// transaction, not one each); an idle consumer reads an entry at once: `STREAM_LINGER_MS`,
    /// default 5 (0: read again at once).
    pub linger: Duration,
    /// An entry pending this long with no heartbeat is taken over from its consumer:
    /// `STREAM_CLAIM_IDLE_MS`, default 30000.
    pub claim_idle: Duration,
    /// A batch transaction running longer is abandoned (rolled back) and retried:
    /// `STREAM_HANDLER_DEADLINE_MS`, default 10000.
    pub handler_deadline: Duration,
    /// `STREAM_RETRY_BASE_MS` (default 1000) and `STREAM_RETRY_MAX_ATTEMPTS` (default 8).
    pub retry: RetryPolicy,
    /// How long shutdown waits for the batch in flight.
    pub shutdown_grace: Duration,
    /// How often the stream is trimmed, idle consumers forgotten, gauges refreshed and the
    /// inbox pruned.
    pub maintenance_interval: Duration,
    /// Inbox rows older than this are pruned: `INBOX_RETENTION_SECS`, default 7 days. Must
    /// exceed the producers' outbox retention (a republish after a Redis loss brings back
    /// events that old).
    pub inbox_retention: Duration,
}

impl ConsumerSettings {
    /// The variables [`ConsumerSettings::with`] reads, with [`ConsumerSettings::new`]'s
    /// defaults.
    pub const SETTINGS: &'static [Setting] = &[
        BATCH_SIZE,
        CONCURRENCY,
        BLOCK_MS,
        MIN_SUB_BATCH,
        LINGER_MS,
        CLAIM_IDLE_MS,
        HANDLER_DEADLINE_MS,
        RETRY_BASE_MS,
        RETRY_MAX_ATTEMPTS,
        INBOX_RETENTION_SECS,
    ];

    /// Defaults for `stream` read by `group`, with a unique consumer name.
    pub fn new(stream: &str, group: &str) -> Self {
        Self {
            stream: stream.to_owned(),
            group: group.to_owned(),
            consumer: format!("{group}-{}", uuid::Uuid::now_v7().simple()),
            batch_size: 128,
            concurrency: 2,
            min_sub_batch: 16,
            block: Duration::from_secs(2),
            linger: Duration::from_millis(5),
            claim_idle: Duration::from_secs(30),
            handler_deadline: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            shutdown_grace: Duration::from_secs(10),
            maintenance_interval: Duration::from_secs(30),
            inbox_retention: Duration::from_secs(7 * 24 * 3600),
        }
    }

    /// The defaults with every `STREAM_*` variable (and `INBOX_RETENTION_SECS`) that is set
    /// read over them.
    pub fn from_env(stream: &str, group: &str) -> Result<Self, SettingsError> {
        Self::new(stream, group).with(|name| std::env::var(name).ok())
    }

    /// These settings with the variables `lookup` knows read over them (the testable half of
    /// [`ConsumerSettings::from_env`]).
    pub fn with(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let number = |setting: &Setting| -> Result<Option<u64>, SettingsError> {
            let name = setting.name;
            lookup(name)
                .map(|value| {
                    value
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| SettingsError { name, value })
                })
                .transpose()
        };
        let positive = |setting: &Setting| -> Result<Option<u64>, SettingsError> {
            match number(setting)? {
                Some(0) => Err(SettingsError {
                    name: setting.name,
                    value: "0".to_owned(),
                }),
                other => Ok(other),
            }
        };
        let millis = Duration::from_millis;
        if let Some(n) = positive(&BATCH_SIZE)? {
            self.batch_size = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = positive(&CONCURRENCY)? {
            self.concurrency = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = positive(&BLOCK_MS)? {
            self.block = millis(n);
        }
        if let Some(n) = positive(&MIN_SUB_BATCH)? {
            self.min_sub_batch = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = number(&LINGER_MS)? {
            self.linger = millis(n);
        }
        if let Some(n) = positive(&CLAIM_IDLE_MS)? {
            self.claim_idle = millis(n);
        }
        if let Some(n) = positive(&HANDLER_DEADLINE_MS)? {
            self.handler_deadline = millis(n);
        }
        if let Some(n) = positive(&RETRY_BASE_MS)? {
            self.retry.base = millis(n);
        }
        if let Some(n) = positive(&RETRY_MAX_ATTEMPTS)? {
            self.retry.max_attempts = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(n) = positive(&INBOX_RETENTION_SECS)? {
            self.inbox_retention = Duration::from_secs(n);
        }
        Ok(self)
    }
}

/// A setting whose value does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be a positive whole number, not {value:?}")]
pub struct SettingsError {
    pub name: &'static str,
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let settings = ConsumerSettings::new("orders_stream", "products-service");
        assert_eq!(settings.batch_size, 128);
        assert_eq!(settings.concurrency, 2);
        assert_eq!(settings.min_sub_batch, 16);
        assert_eq!(settings.block, Duration::from_millis(2000));
        assert_eq!(settings.linger, Duration::from_millis(5));
        assert_eq!(settings.claim_idle, Duration::from_millis(30000));
        assert_eq!(settings.handler_deadline, Duration::from_millis(10000));
        assert_eq!(settings.retry.base, Duration::from_millis(1000));
        assert_eq!(settings.retry.max_attempts, 8);
        assert_eq!(settings.inbox_retention, Duration::from_secs(604_800));
        assert!(settings.consumer.starts_with("products-service-"));
    }

    #[test]
    fn the_declared_defaults_are_those_of_new() {
        let defaults = ConsumerSettings::new("orders_stream", "products-service");
        let declared = |name: &str| {
            ConsumerSettings::SETTINGS
                .iter()
                .find(|setting| setting.name == name)
                .and_then(|setting| setting.default_value())
                .map(str::to_owned)
        };

        assert_eq!(defaults.clone().with(declared).unwrap(), defaults);
    }

    #[test]
    fn every_variable_is_read_and_a_bad_one_is_named() {
        let vars = [
            ("STREAM_BATCH_SIZE", "64"),
            ("STREAM_CONCURRENCY", "4"),
            ("STREAM_MIN_SUB_BATCH", "1"),
            ("STREAM_BLOCK_MS", "500"),
            ("STREAM_LINGER_MS", "0"),
            ("STREAM_CLAIM_IDLE_MS", "15000"),
            ("STREAM_HANDLER_DEADLINE_MS", "3000"),
            ("STREAM_RETRY_BASE_MS", "250"),
            ("STREAM_RETRY_MAX_ATTEMPTS", "5"),
            ("INBOX_RETENTION_SECS", "172800"),
        ];
        let lookup = |name: &str| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| (*value).to_owned())
        };
        let settings = ConsumerSettings::new("s", "g").with(lookup).unwrap();
        assert_eq!(settings.batch_size, 64);
        assert_eq!(settings.concurrency, 4);
        assert_eq!(settings.min_sub_batch, 1);
        assert_eq!(settings.block, Duration::from_millis(500));
        assert_eq!(settings.linger, Duration::ZERO);
        assert_eq!(settings.claim_idle, Duration::from_secs(15));
        assert_eq!(settings.handler_deadline, Duration::from_secs(3));
        assert_eq!(settings.retry.base, Duration::from_millis(250));
        assert_eq!(settings.retry.max_attempts, 5);
        assert_eq!(settings.inbox_retention, Duration::from_secs(172_800));

        let error = ConsumerSettings::new("s", "g")
            .with(|name| (name == "STREAM_CONCURRENCY").then(|| "two".to_owned()))
            .unwrap_err();
        assert_eq!(error.name, "STREAM_CONCURRENCY");
        let zero = ConsumerSettings::new("s", "g")
            .with(|name| (name == "STREAM_BATCH_SIZE").then(|| "0".to_owned()));
        assert!(zero.is_err());
    }
}
