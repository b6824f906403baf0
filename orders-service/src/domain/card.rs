//! The demo payment card: number (Luhn-checked, spaces allowed), expiry `MM/YY` not in the past,
//! 3-digit cvc. None of it is stored or logged: `Debug` shows only the last four digits.

use std::{collections::BTreeMap, fmt};

use time::{Date, Month};

/// The test card that is always approved.
pub const APPROVED_CARD: &str = "4242424242424242";
/// The test card that is always declined.
pub const DECLINED_CARD: &str = "4000000000000002";

/// A parsed card. Holds the number only long enough to decide the outcome.
pub struct Card {
    number: String,
}

impl fmt::Debug for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last4 = &self.number[self.number.len().saturating_sub(4)..];
        write!(f, "Card(**** {last4})")
    }
}

/// What the demo gateway answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    Approved,
    Declined,
}

/// Per-field messages for a card that cannot be used (never containing the card data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardError(pub BTreeMap<String, Vec<String>>);

impl Card {
    /// Parses the three fields; `today` decides whether the expiry has passed (a card is valid
    /// through the last day of its expiry month).
    pub fn parse(number: &str, expiry: &str, cvc: &str, today: Date) -> Result<Self, CardError> {
        let mut errors = BTreeMap::new();
        let number: String = number.chars().filter(|c| *c != ' ').collect();
        if !(12..=19).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
            errors.insert(
                "card_number".into(),
                vec!["must be 12 to 19 digits (spaces allowed)".into()],
            );
        } else if !luhn_valid(&number) {
            errors.insert(
                "card_number".into(),
                vec!["is not a valid card number".into()],
            );
        }
        match parse_expiry(expiry) {
            None => {
                errors.insert("expiry".into(), vec!["must be MM/YY".into()]);
            }
            Some((year, month)) => {
                let current = (today.year(), u8::from(today.month()));
                if (year, month) < current {
                    errors.insert("expiry".into(), vec!["the card has expired".into()]);
                }
            }
        }
        if cvc.len() != 3 || !cvc.bytes().all(|b| b.is_ascii_digit()) {
            errors.insert("cvc".into(), vec!["must be 3 digits".into()]);
        }
        if errors.is_empty() {
            Ok(Self { number })
        } else {
            Err(CardError(errors))
        }
    }

    /// The demo gateway: the declined test card is declined; every other valid card is approved
    /// (4242 4242 4242 4242 is the documented one).
    pub fn charge(&self) -> PaymentOutcome {
        if self.number == DECLINED_CARD {
            PaymentOutcome::Declined
        } else {
            PaymentOutcome::Approved
        }
    }
}

fn parse_expiry(expiry: &str) -> Option<(i32, u8)> {
    let (month, year) = expiry.trim().split_once('/')?;
    let (month, year) = (month.trim(), year.trim());
    if month.len() != 2 || year.len() != 2 {
        return None;
    }
    let month: u8 = month.parse().ok()?;
    let year: i32 = year.parse().ok()?;
    Month::try_from(month).ok()?;
    Some((2000 + year, month))
}

/// The Luhn checksum over a string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 21);

    #[test]
    fn the_test_cards_pass_luhn_and_a_changed_digit_does_not() {
        assert!(luhn_valid(APPROVED_CARD));
        assert!(luhn_valid(DECLINED_CARD));
        assert!(!luhn_valid("4242424242424241"));
    }

    #[test]
    fn the_approved_card_with_spaces_is_approved_and_the_declined_one_declined() {
        let card = Card::parse("4242 4242 4242 4242", "12/30", "123", TODAY).unwrap();
        assert_eq!(card.charge(), PaymentOutcome::Approved);
        let card = Card::parse("4000 0000 0000 0002", "11/26", "000", TODAY).unwrap();
        assert_eq!(card.charge(), PaymentOutcome::Declined);
    }

    #[test]
    fn a_past_or_malformed_expiry_and_a_bad_cvc_are_refused_by_field() {
        let error = Card::parse("4242424242424242", "10/26", "12", TODAY).unwrap_err();
        assert!(error.0.contains_key("expiry"));
        assert!(error.0.contains_key("cvc"));
        for bad in ["13/30", "1/30", "12-30", "", "00/30", "12/2030"] {
            let error = Card::parse("4242424242424242", bad, "123", TODAY).unwrap_err();
            assert!(error.0.contains_key("expiry"), "{bad}");
        }
    }

    #[test]
    fn a_luhn_invalid_or_non_numeric_number_is_refused() {
        for bad in ["4242424242424241", "4242-4242-4242-4242", "abcd", "42"] {
            let error = Card::parse(bad, "12/30", "123", TODAY).unwrap_err();
            assert!(error.0.contains_key("card_number"), "{bad}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_full_number() {
        let card = Card::parse("4242424242424242", "12/30", "123", TODAY).unwrap();
        let shown = format!("{card:?}");
        assert!(!shown.contains("42424242"));
        assert!(shown.contains("4242"));
    }
}
