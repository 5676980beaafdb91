//! A JSON value as the CEL value a rule sees, typed by its schema as
//! upstream types it: `integer` as int, `number` as double (also when the
//! JSON has no fraction), strings of format `byte` as bytes, `duration` as
//! duration and `date`/`date-time` as timestamp, objects as maps; at a
//! resource (the root, an embedded resource) only `apiVersion`, `kind` and
//! `metadata.name`/`generateName` of the server's fields are visible.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value as Cel;
use cel::objects::Key;
use serde_json::Value;

use crate::crd::schema::Node;

/// `value` where the schema is `node` (`None`: nothing is known there).
pub(super) fn to_cel(value: &Value, node: Option<&Node>, resource: bool) -> Cel {
    let resource = resource || node.is_some_and(|n| n.embedded_resource);
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => number(n, node),
        Value::String(s) => string(s, node),
        Value::Array(items) => {
            let item_schema = node.and_then(|n| n.items.as_deref());
            Cel::List(Arc::new(
                items
                    .iter()
                    .map(|item| to_cel(item, item_schema, false))
                    .collect(),
            ))
        }
        Value::Object(map) => {
            let mut out: HashMap<Key, Cel> = HashMap::with_capacity(map.len());
            for (key, value) in map {
                let converted = if resource && key == "metadata" {
                    metadata(value)
                } else if resource && (key == "apiVersion" || key == "kind") {
                    to_cel(value, None, false)
                } else {
                    to_cel(value, node.and_then(|n| n.field(key)), false)
                };
                out.insert(Key::String(Arc::new(key.clone())), converted);
            }
            Cel::Map(out.into())
        }
    }
}

fn number(n: &serde_json::Number, node: Option<&Node>) -> Cel {
    let as_double = || Cel::Float(n.as_f64().unwrap_or(f64::NAN));
    match node.map(|n| n.type_.as_str()) {
        Some("number") => as_double(),
        _ => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cel::Int(i),
            (None, Some(u)) => Cel::UInt(u),
            _ => as_double(),
        },
    }
}

fn string(s: &str, node: Option<&Node>) -> Cel {
    let plain = || Cel::String(Arc::new(s.to_string()));
    let Some(node) = node.filter(|n| n.type_ == "string") else {
        return plain();
    };
    match node.format.as_str() {
        "byte" => {
            use base64::Engine;
            match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(bytes) => Cel::Bytes(Arc::new(bytes)),
                Err(_) => plain(),
            }
        }
        "date-time" => {
            chrono::DateTime::parse_from_rfc3339(s).map_or_else(|_| plain(), Cel::Timestamp)
        }
        "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or_else(plain, |t| Cel::Timestamp(t.and_utc().fixed_offset())),
        "duration" => go_duration(s).map_or_else(plain, Cel::Duration),
        _ => plain(),
    }
}

/// The server's metadata as rules see it: `name` and `generateName`.
fn metadata(value: &Value) -> Cel {
    let mut out: HashMap<Key, Cel> = HashMap::new();
    if let Value::Object(map) = value {
        for key in ["name", "generateName"] {
            if let Some(Value::String(s)) = map.get(key) {
                out.insert(
                    Key::String(Arc::new(key.to_string())),
                    Cel::String(Arc::new(s.clone())),
                );
            }
        }
    }
    Cel::Map(out.into())
}

/// A Go duration (`1h30m`, `-1.5s`, `300ms`).
fn go_duration(s: &str) -> Option<chrono::Duration> {
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(chrono::Duration::zero());
    }
    let mut nanos: f64 = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let amount: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        nanos += amount * scale;
    }
    let nanos = if negative { -nanos } else { nanos };
    Some(chrono::Duration::nanoseconds(nanos as i64))
}

/// The largest list or map in `value` (how many times a comprehension
/// over it may run) and the longest string (what a string function may
/// have to read), for the cost bound.
pub(super) fn sizes(value: &Value) -> (u64, u64) {
    match value {
        Value::String(s) => (0, s.len() as u64),
        Value::Array(items) => items
            .iter()
            .map(sizes)
            .fold((items.len() as u64, 0), max_pair),
        Value::Object(map) => map
            .values()
            .map(sizes)
            .fold((map.len() as u64, 0), max_pair),
        _ => (0, 0),
    }
}

fn max_pair(a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
    (a.0.max(b.0), a.1.max(b.1))
}
