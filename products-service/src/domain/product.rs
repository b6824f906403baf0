//! The fields of a listing as newtypes: each is built only through `parse`, so an invalid name,
//! price or stock cannot exist past the HTTP edge.

use std::str::FromStr;

use rust_decimal::Decimal;

/// Largest accepted price and stock.
pub const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
pub const MAX_STOCK: i64 = 1_000_000;

/// Refuses control characters (NUL, escape, bell, ...), which PostgreSQL cannot store (NUL) or
/// which no one types; `line_breaks` lets newlines and tabs through (free text).
pub fn refuse_control_characters(text: &str, line_breaks: bool) -> Result<(), String> {
    let allowed = |c: char| line_breaks && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// A listing's name: 1-200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(String);

impl ProductName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        refuse_control_characters(trimmed, false)?;
        match trimmed.chars().count() {
            0 => Err("must not be empty".into()),
            1..=200 => Ok(Self(trimmed.to_owned())),
            _ => Err("must be at most 200 characters".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text, up to 5,000 characters (may be empty); line breaks and tabs, but no other control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description(String);

impl Description {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        refuse_control_characters(trimmed, true)?;
        if trimmed.chars().count() > 5000 {
            return Err("must be at most 5000 characters".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A category label: 1-50 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category(String);

impl Category {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        refuse_control_characters(trimmed, false)?;
        match trimmed.chars().count() {
            0 => Err("must not be empty".into()),
            1..=50 => Ok(Self(trimmed.to_owned())),
            _ => Err("must be at most 50 characters".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A price: more than 0, at most 1,000,000, at most 2 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Price(Decimal);

impl Price {
    /// From a decimal string ("24.99") as a client or a query string sends it.
    pub fn parse_str(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let well_formed = !raw.is_empty()
            && raw
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-' || c == '+');
        let value = well_formed
            .then(|| Decimal::from_str(raw).ok())
            .flatten()
            .ok_or_else(|| "must be a decimal number such as 24.99".to_owned())?;
        Self::new(value)
    }

    /// From a JSON value: a string or a number.
    pub fn parse_json(raw: &serde_json::Value) -> Result<Self, String> {
        match raw {
            serde_json::Value::String(text) => Self::parse_str(text),
            // serde_json prints floats in plain decimal notation (24.99, never 2.499e1).
            serde_json::Value::Number(number) => Self::parse_str(&number.to_string()),
            _ => Err("must be a decimal number such as 24.99".into()),
        }
    }

    pub fn new(value: Decimal) -> Result<Self, String> {
        if value <= Decimal::ZERO {
            return Err("must be more than 0".into());
        }
        if value > MAX_PRICE {
            return Err("must be at most 1000000".into());
        }
        let value = value.normalize();
        if value.scale() > 2 {
            return Err("must have at most 2 decimals".into());
        }
        Ok(Self(value))
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

/// Units for sale: a whole number from 0 to 1,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock(i32);

impl Stock {
    pub fn parse_json(raw: &serde_json::Value) -> Result<Self, String> {
        let whole = match raw {
            serde_json::Value::Number(number) => number.as_i64().or_else(|| {
                // 5.0 is a whole number; 5.5 is not.
                number
                    .as_f64()
                    .filter(|value| value.fract() == 0.0 && value.abs() < 1e15)
                    .map(|value| value as i64)
            }),
            serde_json::Value::String(text) => text.trim().parse::<i64>().ok(),
            _ => None,
        }
        .ok_or_else(|| "must be a whole number".to_owned())?;
        Self::new(whole)
    }

    pub fn new(value: i64) -> Result<Self, String> {
        match i32::try_from(value) {
            Ok(units) if (0..=MAX_STOCK).contains(&value) => Ok(Self(units)),
            _ => Err("must be between 0 and 1000000".into()),
        }
    }

    pub fn value(self) -> i32 {
        self.0
    }
}

/// An absolute http(s) URL of at most 2,048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUrl(String);

impl ImageUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() > 2048 {
            return Err("must be at most 2048 characters".into());
        }
        let url = url::Url::parse(raw).map_err(|_| "must be an http(s) URL".to_owned())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err("must be an http(s) URL".into());
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_price_is_accepted_as_a_string_or_a_number_with_at_most_two_decimals() {
        assert_eq!(
            Price::parse_json(&json!("24.99"))
                .unwrap()
                .value()
                .to_string(),
            "24.99"
        );
        assert_eq!(
            Price::parse_json(&json!(24.99))
                .unwrap()
                .value()
                .to_string(),
            "24.99"
        );
        assert_eq!(
            Price::parse_json(&json!(10)).unwrap().value().to_string(),
            "10"
        );
        assert_eq!(
            Price::parse_json(&json!("5.50"))
                .unwrap()
                .value()
                .to_string(),
            "5.5"
        );
        assert!(Price::parse_json(&json!("1000000")).is_ok());
    }

    #[test]
    fn a_price_that_is_zero_negative_too_large_too_precise_or_not_a_number_is_refused() {
        for bad in [
            json!("0"),
            json!(-1),
            json!("1000000.01"),
            json!("1.999"),
            json!(0.001),
            json!("abc"),
            json!("1e3"),
            json!(""),
            json!(null),
            json!(true),
            json!("NaN"),
        ] {
            assert!(Price::parse_json(&bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn stock_is_a_whole_number_from_zero_to_a_million() {
        assert_eq!(Stock::parse_json(&json!(0)).unwrap().value(), 0);
        assert_eq!(
            Stock::parse_json(&json!(1_000_000)).unwrap().value(),
            1_000_000
        );
        assert_eq!(Stock::parse_json(&json!(3.0)).unwrap().value(), 3);
        for bad in [
            json!(-1),
            json!(1_000_001),
            json!(2.5),
            json!("many"),
            json!(null),
            json!(1e300),
        ] {
            assert!(Stock::parse_json(&bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn names_and_categories_are_trimmed_and_bounded() {
        assert_eq!(
            ProductName::parse("  Blue Train ").unwrap().as_str(),
            "Blue Train"
        );
        assert!(ProductName::parse("   ").is_err());
        assert!(ProductName::parse(&"é".repeat(200)).is_ok());
        assert!(ProductName::parse(&"é".repeat(201)).is_err());
        assert!(Category::parse(&"x".repeat(50)).is_ok());
        assert!(Category::parse(&"x".repeat(51)).is_err());
        assert!(Description::parse(&"x".repeat(5000)).is_ok());
        assert!(Description::parse(&"x".repeat(5001)).is_err());
    }

    #[test]
    fn only_http_and_https_urls_are_images() {
        assert!(ImageUrl::parse("https://img.example.com/a.jpg").is_ok());
        assert!(ImageUrl::parse("http://example.com/a.jpg").is_ok());
        for bad in [
            "ftp://example.com/a.jpg",
            "javascript:alert(1)",
            "example.com/a.jpg",
            "https://",
            "data:image/png;base64,AAAA",
        ] {
            assert!(ImageUrl::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
