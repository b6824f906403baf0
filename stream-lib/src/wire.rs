//! Reading raw Redis replies (stream entries, XINFO maps) in both RESP2 and RESP3 shapes.

use redis::Value;

/// One stream entry as stored: its id and its fields in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub id: String,
    pub fields: Vec<(String, String)>,
}

impl RawEntry {
    /// The value of the last field named `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

pub(crate) fn as_string(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(text) => Some(text.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(number) => Some(number.to_string()),
        Value::Double(number) => Some(number.to_string()),
        Value::Okay => Some("OK".to_owned()),
        _ => None,
    }
}

pub(crate) fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Int(number) => u64::try_from(*number).ok(),
        other => as_string(other)?.parse().ok(),
    }
}

pub(crate) fn as_array(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) | Value::Set(items) => items,
        _ => &[],
    }
}

/// A flat `[k, v, k, v, ...]` array or a RESP3 map, as name/value pairs.
pub(crate) fn as_pairs(value: &Value) -> Vec<(String, &Value)> {
    match value {
        Value::Map(pairs) => pairs
            .iter()
            .filter_map(|(name, value)| Some((as_string(name)?, value)))
            .collect(),
        other => as_array(other)
            .chunks_exact(2)
            .filter_map(|pair| Some((as_string(&pair[0])?, &pair[1])))
            .collect(),
    }
}

/// `[id, [field, value, ...]]`; `None` for the nil a deleted entry can leave.
pub(crate) fn parse_entry(value: &Value) -> Option<RawEntry> {
    let parts = as_array(value);
    let id = as_string(parts.first()?)?;
    let fields = as_pairs(parts.get(1)?)
        .into_iter()
        .map(|(name, value)| (name, as_string(value).unwrap_or_default()))
        .collect();
    Some(RawEntry { id, fields })
}

pub(crate) fn parse_entries(value: &Value) -> Vec<RawEntry> {
    as_array(value).iter().filter_map(parse_entry).collect()
}

/// An XREAD/XREADGROUP reply (nil on timeout) for a single stream.
pub(crate) fn parse_read_reply(value: &Value) -> Vec<RawEntry> {
    match value {
        Value::Map(streams) => streams
            .iter()
            .flat_map(|(_, entries)| parse_entries(entries))
            .collect(),
        other => as_array(other)
            .iter()
            .flat_map(|stream| {
                as_array(stream)
                    .get(1)
                    .map(parse_entries)
                    .unwrap_or_default()
            })
            .collect(),
    }
}

/// Whether Redis answered that the group (or its stream) does not exist.
pub(crate) fn is_nogroup(error: &redis::RedisError) -> bool {
    error.code() == Some("NOGROUP") || error.to_string().contains("NOGROUP")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn read_replies_parse_in_resp2_and_resp3_shapes() {
        let entry = Value::Array(vec![
            bulk("1-1"),
            Value::Array(vec![bulk("type"), bulk("order.placed")]),
        ]);
        let resp2 = Value::Array(vec![Value::Array(vec![
            bulk("s"),
            Value::Array(vec![entry.clone(), Value::Nil]),
        ])]);
        let resp3 = Value::Map(vec![(bulk("s"), Value::Array(vec![entry]))]);
        for reply in [resp2, resp3] {
            let entries = parse_read_reply(&reply);
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0].id, "1-1");
            assert_eq!(entries[0].field("type"), Some("order.placed"));
        }
        assert!(parse_read_reply(&Value::Nil).is_empty());
    }
}
