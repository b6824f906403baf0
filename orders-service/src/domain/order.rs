//! The lines of a new order, parsed: 1 to 50 distinct products, each with a quantity of 1 to 1000.

use std::collections::{BTreeMap, HashSet};

use uuid::Uuid;

/// Most lines one order may have.
pub const MAX_LINES: usize = 50;

/// A quantity of one product in an order: 1 to 1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(u16);

impl Quantity {
    pub const MAX: i64 = 1000;

    pub fn parse(value: i64) -> Option<Self> {
        (1..=Self::MAX)
            .contains(&value)
            .then(|| Self(u16::try_from(value).unwrap_or(0)))
    }

    pub fn get(self) -> i32 {
        i32::from(self.0)
    }
}

/// The lines of a new order, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrderLines(Vec<(Uuid, Quantity)>);

/// Per-field messages (`items[2].quantity`), as the 422 body names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineRequestError(pub BTreeMap<String, Vec<String>>);

impl NewOrderLines {
    /// Parses `(product_id, quantity)` pairs as the client sent them.
    pub fn parse(lines: &[(Uuid, i64)]) -> Result<Self, OrderLineRequestError> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if lines.is_empty() || lines.len() > MAX_LINES {
            errors
                .entry("items".into())
                .or_default()
                .push(format!("must have between 1 and {MAX_LINES} lines"));
        }
        let mut seen = HashSet::new();
        let mut parsed = Vec::with_capacity(lines.len());
        for (index, (product_id, quantity)) in lines.iter().enumerate() {
            if !seen.insert(*product_id) {
                errors
                    .entry(format!("items[{index}].product_id"))
                    .or_default()
                    .push("appears more than once; put the whole quantity on one line".into());
            }
            match Quantity::parse(*quantity) {
                Some(quantity) => parsed.push((*product_id, quantity)),
                None => errors
                    .entry(format!("items[{index}].quantity"))
                    .or_default()
                    .push(format!("must be between 1 and {}", Quantity::MAX)),
            }
        }
        if errors.is_empty() {
            Ok(Self(parsed))
        } else {
            Err(OrderLineRequestError(errors))
        }
    }

    pub fn lines(&self) -> &[(Uuid, Quantity)] {
        &self.0
    }

    pub fn product_ids(&self) -> Vec<Uuid> {
        self.0.iter().map(|(id, _)| *id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_from_1_to_1000_are_accepted_and_others_refused() {
        assert!(Quantity::parse(0).is_none());
        assert!(Quantity::parse(-3).is_none());
        assert!(Quantity::parse(1001).is_none());
        assert_eq!(Quantity::parse(1).unwrap().get(), 1);
        assert_eq!(Quantity::parse(1000).unwrap().get(), 1000);
    }

    #[test]
    fn an_empty_order_and_one_with_51_lines_are_refused() {
        assert!(NewOrderLines::parse(&[]).is_err());
        let many: Vec<_> = (0..51).map(|_| (Uuid::now_v7(), 1)).collect();
        let error = NewOrderLines::parse(&many).unwrap_err();
        assert!(error.0.contains_key("items"));
        assert!(NewOrderLines::parse(&many[..50]).is_ok());
    }

    #[test]
    fn a_repeated_product_and_a_bad_quantity_are_named_by_line() {
        let id = Uuid::now_v7();
        let error = NewOrderLines::parse(&[(id, 1), (id, 2), (Uuid::now_v7(), 0)]).unwrap_err();
        let fields: Vec<_> = error.0.keys().cloned().collect();
        assert_eq!(fields, vec!["items[1].product_id", "items[2].quantity"]);
    }
}
