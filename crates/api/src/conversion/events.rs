//! events.k8s.io/v1 Events and core/v1 Events are the same objects under
//! different field names (as upstream, where both convert to one internal
//! Event): `note` is `message`, `regarding` is `involvedObject`,
//! `reportingController` is `reportingComponent`, and the fields the new
//! API keeps only for old clients carry a `deprecated` prefix. Every other
//! field has the same name in both.

use serde_json::{Map, Value};

/// `(events.k8s.io/v1 name, core/v1 name)` of the fields that differ.
const RENAMED: &[(&str, &str)] = &[
    ("note", "message"),
    ("regarding", "involvedObject"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

/// The core/v1 form of an events.k8s.io/v1 Event.
pub fn to_core(event: &Value) -> Value {
    rename(
        event,
        |name| find(name, |(new, _)| *new).map(|(_, old)| old),
        "v1",
    )
}

/// The events.k8s.io/v1 form of a core/v1 Event.
pub fn from_core(event: &Value) -> Value {
    rename(
        event,
        |name| find(name, |(_, old)| *old).map(|(new, _)| new),
        "events.k8s.io/v1",
    )
}

/// The pair whose side picked by `side` is `name`.
fn find(
    name: &str,
    side: impl Fn(&(&'static str, &'static str)) -> &'static str,
) -> Option<(&'static str, &'static str)> {
    RENAMED.iter().copied().find(|pair| side(pair) == name)
}

/// `event` with the top-level fields renamed by `renamed` and the other
/// API version; a field whose new name the object already has is dropped,
/// so a stray field of the other form cannot overwrite the real one.
fn rename(
    event: &Value,
    renamed: impl Fn(&str) -> Option<&'static str>,
    api_version: &str,
) -> Value {
    let Some(fields) = event.as_object() else {
        return event.clone();
    };
    let mut out = Map::with_capacity(fields.len());
    for (name, value) in fields {
        match renamed(name) {
            Some(other) => {
                out.insert(other.to_string(), value.clone());
            }
            None if RENAMED.iter().any(|(new, old)| new == name || old == name) => {}
            None => {
                out.insert(name.clone(), value.clone());
            }
        }
    }
    out.insert("apiVersion".into(), Value::from(api_version));
    out.insert("kind".into(), Value::from("Event"));
    Value::Object(out)
}
