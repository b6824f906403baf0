//! The password policy for new accounts: 8 to 128 characters and not one of the most common
//! passwords (a compact embedded list, compared case-insensitively).

use std::{collections::HashSet, sync::LazyLock};

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// A password that satisfies the policy. Its `Debug` never shows it.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let length = raw.chars().count();
        if length < 8 {
            return Err("must be at least 8 characters long".into());
        }
        if length > 128 {
            return Err("must be at most 128 characters long".into());
        }
        if is_common(raw) {
            return Err("is too common; choose a less guessable password".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Whether `password` is on the embedded list of common passwords.
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_rejects_short_long_and_common_passwords() {
        assert!(NewPassword::parse("seven77").is_err());
        assert!(NewPassword::parse(&"x".repeat(129)).is_err());
        for common in [
            "password",
            "Password1",
            "12345678",
            "qwertyuiop",
            "demotest",
        ] {
            assert!(NewPassword::parse(common).is_err(), "{common}");
        }
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert!(NewPassword::parse(&"ü".repeat(8)).is_ok());
    }

    #[test]
    fn the_list_is_lowercase_and_not_empty() {
        assert!(COMMON.len() > 150);
        assert!(COMMON.iter().all(|p| *p == p.to_lowercase()));
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = NewPassword::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
