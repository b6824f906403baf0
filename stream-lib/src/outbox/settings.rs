//! The relay's settings from the environment, for a service's start-up: their declarations
//! and their parser.

use std::{str::FromStr, time::Duration};

use config_kit::Setting;

use super::RelayConfig;

const RETENTION_SECS: Setting = Setting::value(
    "OUTBOX_RETENTION_SECS",
    "86400",
    "published outbox rows are kept this long (republished if Redis loses them)",
);
const BATCH_SIZE: Setting = Setting::value(
    "OUTBOX_BATCH_SIZE",
    "256",
    "outbox rows the relay publishes per round trip",
);
const POLL_INTERVAL_MS: Setting = Setting::value(
    "OUTBOX_POLL_INTERVAL_MS",
    "500",
    "the relay's poll when no commit woke it",
);
const LINGER_MS: Setting = Setting::value(
    "OUTBOX_LINGER_MS",
    "5",
    "while busy, the relay's rounds this far apart (0: every commit published at once)",
);
const CHECK_INTERVAL_MS: Setting = Setting::value(
    "OUTBOX_CHECK_INTERVAL_MS",
    "5000",
    "how often the idle relay checks that Redis kept what it published",
);

/// A relay setting that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{name} must be a whole number of {unit}, got {value:?}")]
pub struct SettingError {
    pub name: &'static str,
    pub unit: &'static str,
    pub value: String,
}

impl RelayConfig {
    /// The variables [`RelayConfig::from_lookup`] reads, with [`RelayConfig::default`]'s
    /// defaults.
    pub const SETTINGS: &'static [Setting] = &[
        RETENTION_SECS,
        BATCH_SIZE,
        POLL_INTERVAL_MS,
        LINGER_MS,
        CHECK_INTERVAL_MS,
    ];

    /// Reads `OUTBOX_RETENTION_SECS` (default 86400: published rows kept, and republished after
    /// a Redis loss, for a day), `OUTBOX_BATCH_SIZE` (256), `OUTBOX_POLL_INTERVAL_MS` (500),
    /// `OUTBOX_LINGER_MS` (5: rounds at least that far apart while busy; 0 publishes every
    /// commit at once) and `OUTBOX_CHECK_INTERVAL_MS` (5000) from the process environment; unset
    /// or blank means the default.
    pub fn from_env() -> Result<Self, SettingError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`RelayConfig::from_env`], reading through `lookup` (a service's own settings source,
    /// a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let defaults = Self::default();
        let read = |setting: &Setting, unit: &'static str, default: u64| {
            parse(&lookup, setting.name, unit, default)
        };
        let millis = |duration: Duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        let batch_size = read(&BATCH_SIZE, "rows", defaults.batch_size as u64)?;
        Ok(Self {
            batch_size: usize::try_from(batch_size.max(1)).unwrap_or(usize::MAX),
            retention: Duration::from_secs(read(
                &RETENTION_SECS,
                "seconds",
                defaults.retention.as_secs(),
            )?),
            poll_interval: Duration::from_millis(read(
                &POLL_INTERVAL_MS,
                "milliseconds",
                millis(defaults.poll_interval),
            )?),
            linger: Duration::from_millis(read(
                &LINGER_MS,
                "milliseconds",
                millis(defaults.linger),
            )?),
            check_interval: Duration::from_millis(read(
                &CHECK_INTERVAL_MS,
                "milliseconds",
                millis(defaults.check_interval),
            )?),
            ..defaults
        })
    }
}

fn parse<T: FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    unit: &'static str,
    default: T,
) -> Result<T, SettingError> {
    match lookup(name).map(|value| value.trim().to_owned()) {
        Some(value) if !value.is_empty() => {
            value
                .parse()
                .map_err(|_| SettingError { name, unit, value })
        }
        _ => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<RelayConfig, SettingError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        RelayConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn the_declared_defaults_are_those_of_default() {
        let declared = RelayConfig::from_lookup(|name| {
            RelayConfig::SETTINGS
                .iter()
                .find(|setting| setting.name == name)
                .and_then(|setting| setting.default_value())
                .map(str::to_owned)
        });

        assert_eq!(
            format!("{:?}", declared.unwrap()),
            format!("{:?}", RelayConfig::default())
        );
    }

    #[test]
    fn unset_or_blank_settings_take_the_defaults() {
        let config = config(&[("OUTBOX_BATCH_SIZE", "  ")]).unwrap();
        assert_eq!(config.retention, Duration::from_secs(86_400));
        assert_eq!(config.batch_size, 256);
        assert_eq!(config.check_interval, Duration::from_secs(5));
        assert_eq!(config.linger, Duration::from_millis(5));
    }

    #[test]
    fn settings_are_read_and_a_malformed_one_is_named() {
        let config = config(&[
            ("OUTBOX_RETENTION_SECS", "3600"),
            ("OUTBOX_BATCH_SIZE", "64"),
            ("OUTBOX_POLL_INTERVAL_MS", "100"),
            ("OUTBOX_CHECK_INTERVAL_MS", "1000"),
            ("OUTBOX_LINGER_MS", "0"),
        ])
        .unwrap();
        assert_eq!(config.retention, Duration::from_secs(3600));
        assert_eq!(config.batch_size, 64);
        assert_eq!(config.poll_interval, Duration::from_millis(100));
        assert_eq!(config.check_interval, Duration::from_secs(1));
        assert_eq!(config.linger, Duration::ZERO);
        let error = super::tests::config(&[("OUTBOX_RETENTION_SECS", "1d")]).unwrap_err();
        assert!(
            error.to_string().contains("OUTBOX_RETENTION_SECS"),
            "{error}"
        );
    }
}
