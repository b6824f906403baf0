//! A username: 3 to 30 letters, digits, `_` or `-`; unique case-insensitively.

/// A valid username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        let length = name.chars().count();
        if !(3..=30).contains(&length) {
            return Err("must be 3 to 30 characters long".into());
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err("may contain only letters, digits, '_' and '-'".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Username;

    #[test]
    fn usernames_are_three_to_thirty_safe_characters() {
        for good in ["abc", "a_b-c", "Alice99", &"x".repeat(30)] {
            assert!(Username::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "ab",
            "",
            &"x".repeat(31),
            "a b c",
            "al!ce",
            "ålice",
            "<script>",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }
}
