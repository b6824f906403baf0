//! What a catalog page asks for: the query string parsed into a filter, a sort and a page, with a
//! per-field message for each bad value (never a 500 for a bad query).

use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use web_kit::error::FieldErrors;

use super::{Price, ProductId, UserId, product::refuse_control_characters};

/// Largest page a client may ask for.
pub const MAX_PER_PAGE: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// Deepest page a client may ask for by number (deeper ones are reached with `after`).
pub const MAX_PAGE: u32 = 10_000;

/// The raw query string of `GET /api/products` and `GET /api/products/mine`; every value is a
/// string so that a bad one gets a per-field message rather than a generic rejection.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Search text (name, description, category), at most 200 characters.
    pub q: Option<String>,
    /// Exactly this category, at most 50 characters.
    pub category: Option<String>,
    /// Lowest price, a decimal (`10` or `9.99`).
    pub min_price: Option<String>,
    /// Highest price, a decimal, not below `min_price`.
    pub max_price: Option<String>,
    /// `newest` (the default), `price_asc`, `price_desc`, `name` or `relevance` (the default
    /// when searching).
    #[param(inline, value_type = Option<SortParam>)]
    pub sort: Option<String>,
    /// From 1 (the default) to 10,000; deeper pages are reached with `after`.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    pub page: Option<String>,
    /// From 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
    /// A listing id: the page of listings that follow it in this query's order.
    #[param(value_type = Option<Uuid>)]
    pub after: Option<String>,
    /// A listing id: the page of listings that precede it in this query's order (not with
    /// `after`).
    #[param(value_type = Option<Uuid>)]
    pub before: Option<String>,
}

/// The orders a catalog page can be sorted in (the OpenAPI name of [`Sort`]'s spellings).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum SortParam {
    Newest,
    PriceAsc,
    PriceDesc,
    Name,
    Relevance,
}

/// The order of a catalog page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Best text match first (the default when searching).
    Relevance,
    /// Newest first (the default otherwise).
    Newest,
    PriceAsc,
    PriceDesc,
    Name,
}

impl Sort {
    /// The name a query string uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Relevance => "relevance",
            Self::Newest => "newest",
            Self::PriceAsc => "price_asc",
            Self::PriceDesc => "price_desc",
            Self::Name => "name",
        }
    }

    fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "relevance" => Ok(Self::Relevance),
            "newest" => Ok(Self::Newest),
            "price_asc" => Ok(Self::PriceAsc),
            "price_desc" => Ok(Self::PriceDesc),
            "name" => Ok(Self::Name),
            _ => Err("must be one of newest, price_asc, price_desc, name, relevance".into()),
        }
    }
}

/// A page number (from 1) and a page size (1-100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }
}

/// Where a page starts when the client continues from a listing it has seen (keyset
/// pagination): items do not shift between pages when listings are created meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The listings that follow this one.
    After(ProductId),
    /// The listings that precede this one.
    Before(ProductId),
}

/// A parsed catalog request.
#[derive(Debug, Clone)]
pub struct CatalogFilter {
    /// The search text as typed (trimmed, at most 200 characters).
    pub text: Option<String>,
    pub category: Option<String>,
    pub min_price: Option<Price>,
    pub max_price: Option<Price>,
    /// Only this seller's listings (`/mine`).
    pub seller_id: Option<UserId>,
    pub sort: Sort,
    pub page: Page,
    /// Continue from a listing instead of counting pages (`page` is then only a label).
    pub cursor: Option<Cursor>,
}

impl CatalogFilter {
    /// Parses the query string, collecting a message for every bad field.
    pub fn parse(query: CatalogQuery) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut fail = |field: &str, message: String| {
            errors.entry(field.to_owned()).or_default().push(message);
        };
        let present = |value: Option<String>| {
            value
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };

        let text = present(query.q);
        if text.as_ref().is_some_and(|text| text.chars().count() > 200) {
            fail("q", "must be at most 200 characters".into());
        }
        let category = present(query.category);
        if category.as_ref().is_some_and(|c| c.chars().count() > 50) {
            fail("category", "must be at most 50 characters".into());
        }
        for (field, value) in [("q", &text), ("category", &category)] {
            if let Some(Err(message)) = value
                .as_deref()
                .map(|value| refuse_control_characters(value, false))
            {
                fail(field, message);
            }
        }
        let mut price = |field: &str, raw: Option<String>| {
            present(raw).and_then(|raw| {
                Price::parse_str(&raw)
                    .map_err(|message| fail(field, message))
                    .ok()
            })
        };
        let min_price = price("min_price", query.min_price);
        let max_price = price("max_price", query.max_price);
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            fail("max_price", "must not be below min_price".into());
        }
        let sort = match present(query.sort) {
            Some(raw) => Sort::parse(&raw).unwrap_or_else(|message| {
                fail("sort", message);
                Sort::Newest
            }),
            None if text.is_some() => Sort::Relevance,
            None => Sort::Newest,
        };
        let mut number =
            |field: &str, raw: Option<String>, default: u32, max: u32| match present(raw) {
                None => default,
                Some(raw) => match raw.parse::<u32>() {
                    Ok(value) if (1..=max).contains(&value) => value,
                    _ => {
                        fail(field, format!("must be a whole number from 1 to {max}"));
                        default
                    }
                },
            };
        let page = number("page", query.page, 1, MAX_PAGE);
        let per_page = number("per_page", query.per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE);
        let mut listing = |field: &str, raw: Option<String>| {
            present(raw).and_then(|raw| {
                raw.parse::<Uuid>()
                    .map(ProductId::from)
                    .map_err(|_| fail(field, "must be the id of a listing".into()))
                    .ok()
            })
        };
        let after = listing("after", query.after);
        let before = listing("before", query.before);
        let cursor = match (after, before) {
            (Some(_), Some(_)) => {
                fail("before", "cannot be combined with after".into());
                None
            }
            (Some(id), None) => Some(Cursor::After(id)),
            (None, Some(id)) => Some(Cursor::Before(id)),
            (None, None) => None,
        };

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            text,
            category,
            min_price,
            max_price,
            seller_id: None,
            sort,
            page: Page { page, per_page },
            cursor,
        })
    }

    /// The search text as a prefix-matching `tsquery` (`blue:* & train:*`), built only from
    /// letters and digits so no user input reaches the tsquery syntax. `None` when the text has
    /// no word in it.
    pub fn prefix_tsquery(&self) -> Option<String> {
        let text = self.text.as_deref()?;
        let terms: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .take(8)
            .map(|word| format!("{}:*", word.to_lowercase()))
            .collect();
        (!terms.is_empty()).then(|| terms.join(" & "))
    }

    /// The search text as an `ILIKE` substring pattern (wildcards escaped), used with the
    /// trigram index; `None` for texts shorter than a trigram.
    pub fn substring_pattern(&self) -> Option<String> {
        let text = self.text.as_deref()?;
        if text.chars().count() < 3 {
            return None;
        }
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        Some(format!("%{escaped}%"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> CatalogQuery {
        let object = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), serde_json::Value::from(*value)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(object)).unwrap()
    }

    #[test]
    fn defaults_are_page_one_twenty_per_page_newest_first() {
        let filter = CatalogFilter::parse(CatalogQuery::default()).unwrap();
        assert_eq!(
            filter.page,
            Page {
                page: 1,
                per_page: 20
            }
        );
        assert_eq!(filter.sort, Sort::Newest);
    }

    #[test]
    fn a_search_defaults_to_relevance_and_escapes_its_patterns() {
        let filter = CatalogFilter::parse(query(&[("q", "50% off_the (blue) train!")])).unwrap();
        assert_eq!(filter.sort, Sort::Relevance);
        assert_eq!(
            filter.prefix_tsquery().unwrap(),
            "50:* & off:* & the:* & blue:* & train:*"
        );
        assert_eq!(
            filter.substring_pattern().unwrap(),
            "%50\\% off\\_the (blue) train!%"
        );
        let symbols = CatalogFilter::parse(query(&[("q", "&|!")])).unwrap();
        assert_eq!(symbols.prefix_tsquery(), None);
    }

    #[test]
    fn every_bad_value_is_named() {
        let errors = CatalogFilter::parse(query(&[
            ("page", "0"),
            ("per_page", "101"),
            ("sort", "cheapest"),
            ("min_price", "abc"),
            ("max_price", "-3"),
        ]))
        .unwrap_err();
        for field in ["page", "per_page", "sort", "min_price", "max_price"] {
            assert!(
                errors.contains_key(field),
                "{field} not reported: {errors:?}"
            );
        }
        let errors =
            CatalogFilter::parse(query(&[("min_price", "10"), ("max_price", "5")])).unwrap_err();
        assert!(errors.contains_key("max_price"));
    }
}
