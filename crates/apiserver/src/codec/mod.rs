//! Decoding documents (JSON, YAML and protobuf) into JSON values, with a
//! depth limit and clear errors, and finding the fields a JSON body names
//! twice. No HTTP here: the HTTP layer reads bodies and picks the media
//! type; patches and apply configurations are decoded here too.

pub mod protobuf;

use keelson_api::ApiError;
use serde_json::Value;

/// Deepest nesting accepted in a body.
const MAX_DEPTH: usize = 100;

/// Decodes a JSON, YAML or protobuf document into a JSON value.
pub fn decode(bytes: &[u8], media_type: &str) -> Result<Value, ApiError> {
    if media_type == protobuf::MEDIA_TYPE {
        return within_depth(protobuf::decode(bytes)?);
    }
    if !(media_type.contains("json") || media_type.contains("yaml")) {
        return Err(ApiError::unsupported_media_type(format!(
            "the body of type {media_type:?} is not supported: send application/json, application/yaml or application/vnd.kubernetes.protobuf"
        )));
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::bad_request("the request body is not valid UTF-8"));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    let value: Value = if media_type.contains("yaml") {
        parse_yaml(bytes)?
    } else {
        serde_json::from_slice(bytes).map_err(|err| {
            ApiError::bad_request(format!("the request body is not valid JSON: {err}"))
        })?
    };
    within_depth(value)
}

/// The stack of the thread that parses a YAML body: the parser's frames
/// take tens of KiB each in unoptimized builds, and it nests one per level
/// up to [`MAX_DEPTH`].
const YAML_STACK_BYTES: usize = 16 * 1024 * 1024;

/// Parses a YAML body on a thread of its own, with the stack its depth
/// limit needs.
fn parse_yaml(bytes: &[u8]) -> Result<Value, ApiError> {
    let parse = || {
        serde_saphyr::from_slice_with_options::<Value>(bytes, yaml_options()).map_err(|err| {
            ApiError::bad_request(format!("the request body is not valid YAML: {err}"))
        })
    };
    std::thread::scope(|scope| {
        let parser = std::thread::Builder::new()
            .name("yaml".into())
            .stack_size(YAML_STACK_BYTES)
            .spawn_scoped(scope, parse)
            .map_err(|err| ApiError::internal(format!("failed to start the YAML parser: {err}")))?;
        parser
            .join()
            .unwrap_or_else(|_| Err(ApiError::internal("the YAML parser failed")))
    })
}

/// How YAML bodies are read: the parser itself stops at the depth limit
/// and at alias expansions beyond a fraction of a body's worth, before
/// building anything.
fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_aliases = 1_000;
    budget.max_nodes = 1_000_000;
    // No more than a whole request body (3 MiB) kept for anchors.
    budget.max_recorded_anchor_bytes = 3 * 1024 * 1024;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // What aliases may add: a tenth of the nodes a body may hold, so that
    // a few bytes of nested aliases do not expand to a machine's memory.
    options.alias_limits.max_total_replayed_events = 100_000;
    options.with_snippet = false;
    options.emit_comments = false;
    options
}

fn within_depth(value: Value) -> Result<Value, ApiError> {
    if depth(&value) > MAX_DEPTH {
        return Err(ApiError::bad_request(format!(
            "the request body is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(value)
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The paths of fields a JSON document names more than once in one object
/// (`spec.replicas`, `spec.containers[0].name`); JSON parsing keeps the last
/// value silently, upstream's strict decoding reports them.
pub fn duplicate_fields(bytes: &[u8]) -> Vec<String> {
    let found = std::cell::RefCell::new(Vec::new());
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let walk = duplicates::Walk {
        path: String::new(),
        found: &found,
    };
    // A body that does not parse was refused already; nothing to report.
    let _ = serde::de::DeserializeSeed::deserialize(walk, &mut deserializer);
    found.into_inner()
}

mod duplicates {
    //! A serde visitor that walks a JSON document and records repeated keys.

    use std::cell::RefCell;
    use std::collections::HashSet;
    use std::fmt;

    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

    pub(super) struct Walk<'a> {
        pub path: String,
        pub found: &'a RefCell<Vec<String>>,
    }

    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();

        fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = match self.path.is_empty() {
                    true => key.clone(),
                    false => format!("{}.{key}", self.path),
                };
                if !seen.insert(key) {
                    self.found.borrow_mut().push(path.clone());
                }
                map.next_value_seed(Walk {
                    path,
                    found: self.found,
                })?;
            }
            Ok(())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0;
            while seq
                .next_element_seed(Walk {
                    path: format!("{}[{index}]", self.path),
                    found: self.found,
                })?
                .is_some()
            {
                index += 1;
            }
            Ok(())
        }

        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_none<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(IgnoredAny).map(drop)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bodies_are_errors_with_messages() {
        assert!(
            decode(b"{\"a\": ", "application/json")
                .unwrap_err()
                .message
                .contains("JSON")
        );
        assert!(
            decode(&[0xff, 0xfe], "application/json")
                .unwrap_err()
                .message
                .contains("UTF-8")
        );
        assert!(
            decode(b"a: [", "application/yaml")
                .unwrap_err()
                .message
                .contains("YAML")
        );
        let deep = "[".repeat(120) + &"]".repeat(120);
        assert!(
            decode(deep.as_bytes(), "application/json")
                .unwrap_err()
                .message
                .contains("nested")
        );
        assert_eq!(
            decode(b"kind: Pod", "application/yaml").unwrap()["kind"],
            "Pod"
        );
    }

    #[test]
    fn repeated_keys_are_found_by_path() {
        let body = br#"{"spec":{"replicas":1,"replicas":2,"containers":[{"name":"a","name":"b"}]},"kind":"x"}"#;
        assert_eq!(
            duplicate_fields(body),
            ["spec.replicas", "spec.containers[0].name"]
        );
        assert!(duplicate_fields(br#"{"a":{"b":1},"c":{"b":2}}"#).is_empty());
    }
}
