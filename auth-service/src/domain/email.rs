//! An email address, trimmed and syntactically valid; compared case-insensitively by the database.

use validator::ValidateEmail;

/// A valid email address (as entered, trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim();
        if email.is_empty() {
            return Err("is required".into());
        }
        if email.chars().count() > 254 {
            return Err("must be at most 254 characters".into());
        }
        if !email.validate_email() {
            return Err("must be a valid email address".into());
        }
        Ok(Self(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive identity of the address (rate-limit keys).
    pub fn normalized(raw: &str) -> String {
        raw.trim().to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn addresses_are_trimmed_and_checked() {
        assert_eq!(Email::parse(" a@b.co ").unwrap().as_str(), "a@b.co");
        for bad in ["", "   ", "plain", "a@", "@b.co", "a b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@b.co", "a".repeat(260))).is_err());
    }
}
