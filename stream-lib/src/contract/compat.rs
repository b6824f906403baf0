//! Whether a producer's payload schema meets a reader's needs: every field the reader requires
//! is one the producer always sends, with a type, format, range and values the reader accepts.
//! Patterns are not compared (the sample payloads are validated against the readers' schemas
//! for that).

use std::collections::BTreeSet;

use serde_json::Value;

/// Every need of `reader` that `producer` does not meet, one message each, naming the field
/// (`payload.lines[].quantity: ...`); empty when every payload the producer may send carries
/// what the reader needs. Both are root schemas (their `$ref`s point into themselves).
pub fn unmet_needs(producer: &Value, reader: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let sides = Sides { producer, reader };
    sides.check(producer, reader, "payload", &mut problems);
    problems
}

#[derive(Clone, Copy)]
struct Sides<'a> {
    producer: &'a Value,
    reader: &'a Value,
}

impl<'a> Sides<'a> {
    fn check(self, sent: &'a Value, read: &'a Value, at: &str, problems: &mut Vec<String>) {
        let sent = resolve(self.producer, sent);
        let read = resolve(self.reader, read);
        if let Some(alternatives) = alternatives(read) {
            let fits = alternatives.iter().any(|alternative| {
                let mut found = Vec::new();
                self.check(sent, alternative, at, &mut found);
                found.is_empty()
            });
            if !fits {
                problems.push(format!(
                    "{at}: what the producer sends fits none of the reader's alternatives"
                ));
            }
            return;
        }
        if let Some(alternatives) = alternatives(sent) {
            for alternative in alternatives {
                self.check(alternative, read, at, problems);
            }
            return;
        }
        check_type(sent, read, at, problems);
        check_values(sent, read, at, problems);
        check_format(sent, read, at, problems);
        check_range(sent, read, at, problems);
        self.check_object(sent, read, at, problems);
        if let Some(read_items) = read.get("items") {
            match sent.get("items") {
                Some(sent_items) => {
                    self.check(sent_items, read_items, &format!("{at}[]"), problems)
                }
                None => problems.push(format!(
                    "{at}: the producer does not say what its items are"
                )),
            }
        }
    }

    fn check_object(self, sent: &'a Value, read: &'a Value, at: &str, problems: &mut Vec<String>) {
        let empty = serde_json::Map::new();
        let sent_properties = sent
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let always_sent = names(sent.get("required"));
        for name in names(read.get("required")) {
            if !sent_properties.contains_key(name) {
                problems.push(format!(
                    "{at}.{name}: the reader requires it; the producer never sends it"
                ));
            } else if !always_sent.contains(name) {
                problems.push(format!(
                    "{at}.{name}: the reader requires it; the producer does not always send it"
                ));
            }
        }
        let read_properties = read
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (name, read_property) in read_properties {
            if let Some(sent_property) = sent_properties.get(name) {
                self.check(
                    sent_property,
                    read_property,
                    &format!("{at}.{name}"),
                    problems,
                );
            }
        }
        if read.get("additionalProperties") == Some(&Value::Bool(false)) {
            for name in sent_properties
                .keys()
                .filter(|name| !read_properties.contains_key(*name))
            {
                problems.push(format!(
                    "{at}.{name}: the producer sends it; the reader rejects unknown fields"
                ));
            }
        }
    }
}

/// Follows local `$ref`s (`#/definitions/...`) and one-element `allOf`s (a `$ref` with
/// siblings, in draft 07).
fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..32 {
        if let Some(pointer) = schema.get("$ref").and_then(Value::as_str) {
            match pointer
                .strip_prefix('#')
                .and_then(|pointer| root.pointer(pointer))
            {
                Some(target) => schema = target,
                None => return schema,
            }
        } else if let Some([only]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            schema = only;
        } else {
            return schema;
        }
    }
    schema
}

fn alternatives(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
}

fn names(list: Option<&Value>) -> BTreeSet<&str> {
    list.and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The JSON types a schema allows; `None`: any.
fn types(schema: &Value) -> Option<BTreeSet<String>> {
    match schema.get("type") {
        Some(Value::String(name)) => Some(BTreeSet::from([name.clone()])),
        Some(Value::Array(names)) => Some(
            names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => values(schema).map(|values| {
            values
                .into_iter()
                .map(json_type)
                .map(str::to_owned)
                .collect()
        }),
    }
}

/// The values a schema allows (`enum`, `const`); `None`: not restricted that way.
fn values(schema: &Value) -> Option<Vec<&Value>> {
    if let Some(value) = schema.get("const") {
        return Some(vec![value]);
    }
    schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|values| values.iter().collect())
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check_type(sent: &Value, read: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(accepted) = types(read) else { return };
    let Some(sent_types) = types(sent) else {
        problems.push(format!(
            "{at}: the producer does not say its type; the reader accepts {}",
            list(&accepted)
        ));
        return;
    };
    for sent_type in sent_types {
        let fits = accepted.contains(&sent_type)
            || (sent_type == "integer" && accepted.contains("number"));
        if !fits {
            problems.push(format!(
                "{at}: the producer may send {sent_type}; the reader accepts {}",
                list(&accepted)
            ));
        }
    }
}

fn check_values(sent: &Value, read: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(accepted) = values(read) else { return };
    match values(sent) {
        None => problems.push(format!(
            "{at}: the reader accepts only {accepted:?}; the producer's values are not restricted"
        )),
        Some(sent_values) => {
            for value in sent_values
                .into_iter()
                .filter(|value| !accepted.contains(value))
            {
                problems.push(format!(
                    "{at}: the producer may send {value}; the reader accepts only {accepted:?}"
                ));
            }
        }
    }
}

fn check_format(sent: &Value, read: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(expected) = read.get("format").and_then(Value::as_str) else {
        return;
    };
    let sent_format = sent.get("format").and_then(Value::as_str);
    let fits = match (sent_format, integer_range(expected)) {
        (Some(format), _) if format == expected => true,
        (Some(format), Some((low, high))) => integer_range(format)
            .is_some_and(|(sent_low, sent_high)| low <= sent_low && sent_high <= high),
        _ => false,
    };
    if !fits {
        let sent_format = sent_format.unwrap_or("no format");
        problems.push(format!(
            "{at}: the reader expects format {expected}; the producer sends {sent_format}"
        ));
    }
}

fn check_range(sent: &Value, read: &Value, at: &str, problems: &mut Vec<String>) {
    let bound = |schema: &Value, key| schema.get(key).and_then(Value::as_f64);
    if let Some(minimum) = bound(read, "minimum")
        && !bound(sent, "minimum").is_some_and(|sent| sent >= minimum)
    {
        problems.push(format!(
            "{at}: the reader needs at least {minimum}; the producer may send less"
        ));
    }
    if let Some(maximum) = bound(read, "maximum")
        && !bound(sent, "maximum").is_some_and(|sent| sent <= maximum)
    {
        problems.push(format!(
            "{at}: the reader needs at most {maximum}; the producer may send more"
        ));
    }
}

/// The range of an integer format (`int32`, `uint64`, ...).
fn integer_range(format: &str) -> Option<(i128, i128)> {
    let signed = |bits: u32| (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1);
    let unsigned = |bits: u32| (0, (1i128 << bits) - 1);
    Some(match format {
        "int8" => signed(8),
        "int16" => signed(16),
        "int32" => signed(32),
        "int64" | "int" => signed(64),
        "uint8" => unsigned(8),
        "uint16" => unsigned(16),
        "uint32" => unsigned(32),
        "uint64" | "uint" => unsigned(64),
        _ => return None,
    })
}

fn list(types: &BTreeSet<String>) -> String {
    types.iter().cloned().collect::<Vec<_>>().join(" or ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(properties: Value, required: &[&str]) -> Value {
        json!({"type": "object", "properties": properties, "required": required})
    }

    #[test]
    fn a_reader_needing_less_than_the_producer_sends_is_met() {
        let producer = object(
            json!({"order_id": {"type": "string", "format": "uuid"}, "stock": {"type": "integer", "format": "int32"}}),
            &["order_id", "stock"],
        );
        let reader = object(
            json!({"order_id": {"type": "string", "format": "uuid"}, "stock": {"type": "integer", "format": "int64"}}),
            &["order_id"],
        );
        assert_eq!(unmet_needs(&producer, &reader), Vec::<String>::new());
    }

    #[test]
    fn a_field_the_reader_requires_and_the_producer_never_or_not_always_sends_is_unmet() {
        let producer = object(
            json!({"order_id": {"type": "string"}, "product_id": {"type": "string"}}),
            &["order_id"],
        );
        let reader = object(
            json!({"reason": {"type": "string"}, "product_id": {"type": "string"}}),
            &["reason", "product_id"],
        );
        let problems = unmet_needs(&producer, &reader);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems.iter().any(|p| p.starts_with(
                "payload.reason: the reader requires it; the producer never sends it"
            )),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with(
                "payload.product_id: the reader requires it; the producer does not always send it"
            )),
            "{problems:?}"
        );
    }

    #[test]
    fn incompatible_types_formats_values_and_nulls_deep_inside_are_unmet() {
        let producer = json!({
            "type": "object", "required": ["lines", "reason"],
            "properties": {
                "lines": {"type": "array", "items": {"$ref": "#/definitions/Line"}},
                "reason": {"type": "string", "enum": ["out_of_stock", "own_product"]},
            },
            "definitions": {"Line": object(json!({"quantity": {"type": "integer", "format": "int64"}, "price": {"type": ["string", "null"]}}), &["quantity", "price"])},
        });
        let reader = object(
            json!({
                "lines": {"type": "array", "items": object(json!({"quantity": {"type": "integer", "format": "int32"}, "price": {"type": "string"}}), &["quantity", "price"])},
                "reason": {"enum": ["out_of_stock"]},
            }),
            &["lines", "reason"],
        );
        let problems = unmet_needs(&producer, &reader);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("payload.lines[].quantity: the reader expects format int32")), "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("payload.lines[].price: the producer may send null")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("payload.reason: the producer may send \"own_product\"")),
            "{problems:?}"
        );
    }

    #[test]
    fn an_enum_the_producer_sends_meets_a_reader_of_plain_strings() {
        let producer = object(
            json!({"reason": {"$ref": "#/definitions/Reason"}}),
            &["reason"],
        );
        let producer = {
            let mut producer = producer;
            producer["definitions"] =
                json!({"Reason": {"type": "string", "enum": ["out_of_stock"]}});
            producer
        };
        let reader = object(json!({"reason": {"type": "string"}}), &["reason"]);
        assert_eq!(unmet_needs(&producer, &reader), Vec::<String>::new());
    }
}
