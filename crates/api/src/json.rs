//! Small helpers to read and fill `serde_json` objects the way defaulting
//! and validation need: a missing field and an explicit `null` mean the
//! same, and a field of the wrong type reads as absent rather than
//! panicking (the decoder, not this code, reports type errors).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Whether a field is unset in Go's sense of a nil pointer: missing or `null`.
pub(crate) fn is_absent(value: Option<&Value>) -> bool {
    matches!(value, None | Some(Value::Null))
}

/// Whether a field holds Go's zero value: missing, `null`, `""` or `0`.
pub(crate) fn is_zero(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(_) => false,
    }
}

/// Sets `object[key]` to `value` when it is missing or `null` (a defaulted
/// pointer field). Does nothing when `object` is not an object.
pub(crate) fn default_absent(object: &mut Value, key: &str, value: Value) {
    if let Some(map) = object.as_object_mut()
        && is_absent(map.get(key))
    {
        map.insert(key.to_string(), value);
    }
}

/// Sets `object[key]` to `value` when it holds the zero value (a defaulted
/// string or integer field that is not a pointer).
pub(crate) fn default_zero(object: &mut Value, key: &str, value: Value) {
    if let Some(map) = object.as_object_mut()
        && is_zero(map.get(key))
    {
        map.insert(key.to_string(), value);
    }
}

/// The object at `object[key]`, created empty when missing or `null`.
/// `None` when `object` is not an object or the field is another type.
pub(crate) fn object_entry<'a>(object: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    let map = object.as_object_mut()?;
    if is_absent(map.get(key)) {
        map.insert(key.to_string(), Value::Object(Map::new()));
    }
    map.get_mut(key).filter(|v| v.is_object())
}

/// The value at a path of object keys, if every step exists.
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

/// The mutable value at a path of object keys, if every step exists.
pub(crate) fn at_mut<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(value, |v, key| v.get_mut(key))
        .filter(|v| !v.is_null())
}

/// `value[key]` as a string.
pub(crate) fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// `value[key]` as an integer.
pub(crate) fn int_of(value: &Value, key: &str) -> Option<i64> {
    value.get(key).and_then(Value::as_i64)
}

/// `value[key]` as a boolean.
pub(crate) fn bool_of(value: &Value, key: &str) -> Option<bool> {
    value.get(key).and_then(Value::as_bool)
}

/// The items of the list at `value[key]`, empty when there is none.
pub(crate) fn list_of<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Calls `f` on every item of the list at `value[key]`.
pub(crate) fn for_each_item(value: &mut Value, key: &str, mut f: impl FnMut(&mut Value)) {
    if let Some(items) = value.get_mut(key).and_then(Value::as_array_mut) {
        items.iter_mut().for_each(&mut f);
    }
}

/// The string-to-string map at `value[key]` (labels, annotations,
/// selectors); entries whose value is not a string are skipped.
pub(crate) fn string_map(value: &Value, key: &str) -> BTreeMap<String, String> {
    value
        .get(key)
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// A copy of `value` without `null`s, empty lists and empty objects, so
/// that two objects compare equal when Go's semantic equality would call
/// them equal (nil and empty collections are the same there).
pub(crate) fn normalized(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .filter(|(_, v)| !is_empty_value(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Whether two values are equal once normalized (see [`normalized`]).
pub(crate) fn semantically_equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    let wrap = |v: Option<&Value>| {
        let mut map = Map::new();
        map.insert("v".to_string(), v.cloned().unwrap_or(Value::Null));
        normalized(&Value::Object(map))
    };
    wrap(a) == wrap(b)
}
