//! Reading settings from environment variables with the same rules and messages in every service:
//! a blank value counts as unset, values are trimmed, and every error names its variable. Each
//! crate declares what it reads as [`Setting`]s (config-kit) and [`Env`] reads only declared
//! settings, applying their declared defaults. The settings web-kit itself reads are declared
//! here ([`TELEMETRY`], [`DATABASE_TIMEOUTS`], [`REDIS_CLUSTER_URLS`]) for the services' tables.

use std::{fmt::Display, str::FromStr};

pub use config_kit::{
    Default, Setting, Settings, all, check_crate_docs, check_docs, find, markdown,
};

/// `LOG_FORMAT`: read by [`crate::telemetry::init`].
pub const LOG_FORMAT: Setting = Setting::derived(
    "LOG_FORMAT",
    "`pretty` on a terminal, else `json`",
    "log lines as `json` (containers) or `pretty` (terminals)",
);
/// `RUST_LOG`: read by [`crate::telemetry::init`].
pub const RUST_LOG: Setting = Setting::derived(
    "RUST_LOG",
    "`info` (debug for the service itself)",
    "the log filter, e.g. `info,orders_service=debug,sqlx=warn`",
);
/// `OTEL_EXPORTER_OTLP_ENDPOINT`: read by [`crate::otel::provider_from_env`].
pub const OTEL_EXPORTER_OTLP_ENDPOINT: Setting = Setting::unset(
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTLP/HTTP endpoint the traces are exported to (`http://jaeger:4318`); unset: none",
);
/// What every service's telemetry reads.
pub const TELEMETRY: &[Setting] = &[LOG_FORMAT, RUST_LOG, OTEL_EXPORTER_OTLP_ENDPOINT];

/// `DATABASE_STATEMENT_TIMEOUT_MS`: [`crate::db::Timeouts::statement`].
pub const DATABASE_STATEMENT_TIMEOUT_MS: Setting = Setting::value(
    "DATABASE_STATEMENT_TIMEOUT_MS",
    "5000",
    "every session's `statement_timeout`: a statement running longer fails (0: off; migrations \
     run without it)",
);
/// `DATABASE_LOCK_TIMEOUT_MS`: [`crate::db::Timeouts::lock`].
pub const DATABASE_LOCK_TIMEOUT_MS: Setting = Setting::value(
    "DATABASE_LOCK_TIMEOUT_MS",
    "4000",
    "`lock_timeout`: a wait for a row or table lock longer than this fails (0: off)",
);
/// `DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS`: [`crate::db::Timeouts::idle_in_transaction`].
pub const DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: Setting = Setting::value(
    "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
    "3000",
    "`idle_in_transaction_session_timeout`: a session idle this long inside a transaction (a \
     frozen or hung peer) is ended and its locks released (0: off)",
);
/// The deadlines of every database session, read by [`crate::db::Timeouts::from_env`].
pub const DATABASE_TIMEOUTS: &[Setting] = &[
    DATABASE_STATEMENT_TIMEOUT_MS,
    DATABASE_LOCK_TIMEOUT_MS,
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
];

/// `REDIS_CLUSTER_URLS`, read by [`crate::redis_pool::cluster_urls`].
pub const REDIS_CLUSTER_URLS: Setting = Setting::value(
    "REDIS_CLUSTER_URLS",
    "",
    "comma-separated `redis://` node URLs of a Redis Cluster; when set it wins over `REDIS_URL` \
     for the service's own keys",
);

/// A setting that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("{name} must be set ({hint})")]
    Missing { name: String, hint: String },
    #[error("{name} is malformed ({reason}): got {value:?}")]
    Malformed {
        name: String,
        value: String,
        reason: String,
    },
    #[error("{name} must be true or false, got {value:?}")]
    NotABool { name: String, value: String },
}

/// Where settings are read from: the process environment ([`Env::process`]) or a lookup function
/// (a map in tests, [`Env::from_lookup`]).
pub struct Env<F = fn(&str) -> Option<String>> {
    lookup: F,
}

impl Env {
    /// The process environment (a value that is not UTF-8 counts as unset).
    pub fn process() -> Self {
        Self {
            lookup: |name| std::env::var(name).ok(),
        }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// Settings read through `lookup`.
    pub fn from_lookup(lookup: F) -> Self {
        Self { lookup }
    }

    /// The trimmed value of the variable `name`, `None` when unset or blank: the lookup to hand
    /// a library that reads settings it declares itself (stream-lib's consumer and relay).
    pub fn lookup(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .filter(|value| !value.trim().is_empty())
            .map(|value| value.trim().to_owned())
    }

    /// The value as set, `None` when unset or blank (for values whose spaces matter, such as a
    /// password).
    pub fn exact(&self, setting: &Setting) -> Option<String> {
        (self.lookup)(setting.name).filter(|value| !value.trim().is_empty())
    }

    /// The trimmed value, `None` when unset or blank (the declared default is not applied).
    pub fn var(&self, setting: &Setting) -> Option<String> {
        self.lookup(setting.name)
    }

    /// The trimmed value, else the declared default value (empty when there is none).
    pub fn text(&self, setting: &Setting) -> String {
        self.var(setting)
            .unwrap_or_else(|| setting.default_value().unwrap_or_default().to_owned())
    }

    /// The trimmed value; unset or blank is an error saying what to set (the declared hint).
    pub fn required(&self, setting: &Setting) -> Result<String, EnvError> {
        self.var(setting).ok_or_else(|| missing(setting))
    }

    /// The value parsed as `T`, else the declared default parsed as `T`; a setting without a
    /// default value must be set.
    pub fn parse<T>(&self, setting: &Setting) -> Result<T, EnvError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let value = match (self.var(setting), setting.default_value()) {
            (Some(value), _) => value,
            (None, Some(default)) => default.to_owned(),
            (None, None) => return Err(missing(setting)),
        };
        value.parse().map_err(|error: T::Err| EnvError::Malformed {
            name: setting.name.to_owned(),
            reason: error.to_string(),
            value,
        })
    }

    /// The value parsed as `T`, `default` when unset or blank: for a setting whose default is
    /// worked out from other settings.
    pub fn parse_or<T>(&self, setting: &Setting, default: T) -> Result<T, EnvError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.var(setting) {
            Some(_) => self.parse(setting),
            None => Ok(default),
        }
    }

    /// A boolean (`true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`, any case), else the declared
    /// default.
    pub fn flag(&self, setting: &Setting) -> Result<bool, EnvError> {
        match (self.var(setting), setting.default_value()) {
            (Some(value), _) => parse_flag(setting, &value),
            (None, Some(default)) => parse_flag(setting, default),
            (None, None) => Err(missing(setting)),
        }
    }

    /// As [`Env::flag`], `default` when unset or blank: for a default worked out from other
    /// settings.
    pub fn flag_or(&self, setting: &Setting, default: bool) -> Result<bool, EnvError> {
        match self.var(setting) {
            Some(value) => parse_flag(setting, &value),
            None => Ok(default),
        }
    }
}

fn missing(setting: &Setting) -> EnvError {
    let hint = match setting.default {
        Default::Required(hint) => hint,
        _ => "it has no default",
    };
    EnvError::Missing {
        name: setting.name.to_owned(),
        hint: hint.to_owned(),
    }
}

fn parse_flag(setting: &Setting, value: &str) -> Result<bool, EnvError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(EnvError::NotABool {
            name: setting.name.to_owned(),
            value: other.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&'static str, &'static str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        Env::from_lookup(move |name| map.get(name).map(|value| (*value).to_owned()))
    }

    const BLANK: Setting = Setting::unset("TEST_BLANK", "");
    const SPACED: Setting = Setting::unset("TEST_SPACED", "");
    const UNSET: Setting = Setting::unset("TEST_UNSET", "");
    const URL: Setting = Setting::required("TEST_URL", "a URL", "");
    const PORT: Setting = Setting::value("TEST_PORT", "7", "");
    const BAD: Setting = Setting::value("TEST_BAD", "1", "");
    const NEG: Setting = Setting::value("TEST_NEG", "1", "");
    const BAD_DEFAULT: Setting = Setting::value("TEST_BAD_DEFAULT", "seven", "");

    #[test]
    fn blank_is_unset_and_values_are_trimmed_except_by_exact() {
        let env = env(&[("TEST_BLANK", "  "), ("TEST_SPACED", " a b ")]);

        assert_eq!(env.var(&BLANK), None);
        assert_eq!(env.var(&UNSET), None);
        assert_eq!(env.exact(&BLANK), None);
        assert_eq!(env.var(&SPACED).as_deref(), Some("a b"));
        assert_eq!(env.exact(&SPACED).as_deref(), Some(" a b "));
        assert_eq!(env.lookup("TEST_SPACED").as_deref(), Some("a b"));
        assert_eq!(env.text(&PORT), "7");
        assert_eq!(env.text(&UNSET), "");
    }

    #[test]
    fn a_missing_required_value_names_the_variable_and_the_hint() {
        let error = env(&[("TEST_URL", " ")]).required(&URL).unwrap_err();

        assert_eq!(error.to_string(), "TEST_URL must be set (a URL)");
        let error = env(&[]).parse::<u16>(&URL).unwrap_err();
        assert_eq!(error.to_string(), "TEST_URL must be set (a URL)");
    }

    #[test]
    fn parsing_takes_the_declared_default_and_names_the_variable_when_malformed() {
        let env = env(&[
            ("TEST_PORT", " 8080 "),
            ("TEST_BAD", "eighty"),
            ("TEST_NEG", "-1"),
        ]);

        assert_eq!(env.parse::<u16>(&PORT).unwrap(), 8080);
        assert_eq!(self::env(&[]).parse::<u16>(&PORT).unwrap(), 7);
        assert_eq!(env.parse_or::<u16>(&UNSET, 9).unwrap(), 9);
        assert_eq!(env.parse_or::<u16>(&PORT, 9).unwrap(), 8080);
        let error = env.parse::<u16>(&BAD).unwrap_err().to_string();
        assert!(error.starts_with("TEST_BAD is malformed"), "{error}");
        assert!(error.ends_with("got \"eighty\""), "{error}");
        assert!(env.parse::<u32>(&NEG).is_err());
        let error = env.parse::<u16>(&BAD_DEFAULT).unwrap_err().to_string();
        assert!(
            error.starts_with("TEST_BAD_DEFAULT is malformed"),
            "{error}"
        );
    }

    #[test]
    fn flags_take_the_usual_spellings_and_refuse_the_rest() {
        const ON: Setting = Setting::value("TEST_ON", "false", "");
        const OFF: Setting = Setting::value("TEST_OFF", "true", "");
        const DEFAULT_ON: Setting = Setting::value("TEST_UNSET", "on", "");
        const MAYBE: Setting = Setting::value("TEST_BAD", "false", "");
        let env = env(&[("TEST_ON", "Yes"), ("TEST_OFF", "0"), ("TEST_BAD", "Maybe")]);

        assert!(env.flag(&ON).unwrap());
        assert!(!env.flag(&OFF).unwrap());
        assert!(env.flag(&DEFAULT_ON).unwrap());
        assert!(!env.flag_or(&UNSET, false).unwrap());
        assert_eq!(
            env.flag(&MAYBE).unwrap_err().to_string(),
            "TEST_BAD must be true or false, got \"maybe\""
        );
    }
}
