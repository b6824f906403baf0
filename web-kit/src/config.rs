//! Reading settings from environment variables with the same rules and messages in every service:
//! a blank value counts as unset, values are trimmed, and every error names its variable. Each
//! service keeps its own `Settings` and names the variables it reads at the call sites.

use std::{fmt::Display, str::FromStr};

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

    /// The value as set, `None` when unset or blank (for values whose spaces matter, such as a
    /// password).
    pub fn exact(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.trim().is_empty())
    }

    /// The trimmed value, `None` when unset or blank.
    pub fn var(&self, name: &str) -> Option<String> {
        self.exact(name).map(|value| value.trim().to_owned())
    }

    /// The trimmed value; unset or blank is an error saying what to set (`hint`).
    pub fn required(&self, name: &str, hint: &str) -> Result<String, EnvError> {
        self.var(name).ok_or_else(|| EnvError::Missing {
            name: name.to_owned(),
            hint: hint.to_owned(),
        })
    }

    /// The value parsed as `T`, `default` when unset or blank.
    pub fn parse<T>(&self, name: &str, default: T) -> Result<T, EnvError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.var(name) {
            Some(value) => value.parse().map_err(|error: T::Err| EnvError::Malformed {
                name: name.to_owned(),
                reason: error.to_string(),
                value,
            }),
            None => Ok(default),
        }
    }

    /// A boolean (`true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`, any case), `default` when
    /// unset or blank.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, EnvError> {
        match self
            .var(name)
            .map(|value| value.to_ascii_lowercase())
            .as_deref()
        {
            None => Ok(default),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(other) => Err(EnvError::NotABool {
                name: name.to_owned(),
                value: other.to_owned(),
            }),
        }
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

    #[test]
    fn blank_is_unset_and_values_are_trimmed_except_by_exact() {
        let env = env(&[("TEST_BLANK", "  "), ("TEST_SPACED", " a b ")]);

        assert_eq!(env.var("TEST_BLANK"), None);
        assert_eq!(env.var("TEST_UNSET"), None);
        assert_eq!(env.exact("TEST_BLANK"), None);
        assert_eq!(env.var("TEST_SPACED").as_deref(), Some("a b"));
        assert_eq!(env.exact("TEST_SPACED").as_deref(), Some(" a b "));
    }

    #[test]
    fn a_missing_required_value_names_the_variable_and_the_hint() {
        let error = env(&[("TEST_BLANK", " ")])
            .required("TEST_BLANK", "a URL")
            .unwrap_err();

        assert_eq!(error.to_string(), "TEST_BLANK must be set (a URL)");
    }

    #[test]
    fn parsing_defaults_when_unset_and_names_the_variable_when_malformed() {
        let env = env(&[
            ("TEST_PORT", " 8080 "),
            ("TEST_BAD", "eighty"),
            ("TEST_NEG", "-1"),
        ]);

        assert_eq!(env.parse("TEST_PORT", 1u16).unwrap(), 8080);
        assert_eq!(env.parse("TEST_UNSET", 7u16).unwrap(), 7);
        let error = env.parse("TEST_BAD", 1u16).unwrap_err().to_string();
        assert!(error.starts_with("TEST_BAD is malformed"), "{error}");
        assert!(error.ends_with("got \"eighty\""), "{error}");
        assert!(env.parse("TEST_NEG", 1u32).is_err());
    }

    #[test]
    fn flags_take_the_usual_spellings_and_refuse_the_rest() {
        let env = env(&[("TEST_ON", "Yes"), ("TEST_OFF", "0"), ("TEST_BAD", "Maybe")]);

        assert!(env.flag("TEST_ON", false).unwrap());
        assert!(!env.flag("TEST_OFF", true).unwrap());
        assert!(env.flag("TEST_UNSET", true).unwrap());
        assert_eq!(
            env.flag("TEST_BAD", false).unwrap_err().to_string(),
            "TEST_BAD must be true or false, got \"maybe\""
        );
    }
}
