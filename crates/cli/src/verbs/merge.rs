//! The `kubectl.kubernetes.io/last-applied-configuration` annotation of
//! client-side apply, and the three-way JSON merge patch from (last applied,
//! file, live) that apply falls back to for kinds strategic merge patch does
//! not know: it sets what the file sets and removes what an earlier apply
//! set and the file no longer does.
//!
//! Lists are atomic in a merge patch, so a list goes into the patch whole,
//! and only when the live list differs from the file's in a field the file
//! sets: elements the server defaulted (a container's `imagePullPolicy`)
//! do not make an apply "configured" again.

use serde_json::{Map, Value};

/// The annotation in which kubectl keeps the last applied object.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Sets the last-applied annotation of `object` to `object` itself as
/// kubectl writes it: compact JSON with sorted keys and a final newline,
/// without the annotation (an empty `annotations` map stays).
pub fn annotate_last_applied(object: &mut Value) {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.remove(LAST_APPLIED);
    }
    let text = format!("{object}\n");
    object["metadata"]["annotations"][LAST_APPLIED] = Value::String(text);
}

/// The last-applied object recorded on a live object, if any.
pub fn last_applied(live: &Value) -> Option<Value> {
    let text = live["metadata"]["annotations"][LAST_APPLIED].as_str()?;
    serde_json::from_str(text).ok()
}

/// The merge patch that makes `live` what `modified` (the file) says,
/// deleting the fields that `original` (the last apply) had and
/// `modified` lacks. An empty object when nothing would change.
pub fn three_way(original: Option<&Value>, modified: &Value, live: &Value) -> Value {
    Value::Object(diff(original, modified, live))
}

fn diff(original: Option<&Value>, modified: &Value, live: &Value) -> Map<String, Value> {
    let mut patch = Map::new();
    let Some(modified) = modified.as_object() else {
        return patch;
    };
    for (key, wanted) in modified {
        let current = live.get(key);
        match (wanted, current) {
            (Value::Object(_), Some(current @ Value::Object(_))) => {
                let before = original.and_then(|o| o.get(key));
                let inner = diff(before, wanted, current);
                if !inner.is_empty() {
                    patch.insert(key.clone(), Value::Object(inner));
                }
            }
            (Value::Null, None | Some(Value::Null)) => {}
            (_, Some(current)) if contains(current, wanted) => {}
            _ => {
                patch.insert(key.clone(), wanted.clone());
            }
        }
    }
    if let Some(original) = original.and_then(Value::as_object) {
        for key in original.keys() {
            let gone = !modified.contains_key(key);
            if gone && live.get(key).is_some_and(|v| !v.is_null()) {
                patch.insert(key.clone(), Value::Null);
            }
        }
    }
    patch
}

/// Whether `live` has every field of `wanted` with the same value; lists
/// must have the same length, element by element.
fn contains(live: &Value, wanted: &Value) -> bool {
    match (live, wanted) {
        (Value::Object(live), Value::Object(wanted)) => {
            wanted.iter().all(|(key, value)| match live.get(key) {
                Some(current) => contains(current, value),
                None => value.is_null(),
            })
        }
        (Value::Array(live), Value::Array(wanted)) => {
            live.len() == wanted.len() && live.iter().zip(wanted).all(|(l, w)| contains(l, w))
        }
        (Value::Number(live), Value::Number(wanted)) => live.as_f64() == wanted.as_f64(),
        _ => live == wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_annotation_is_the_object_as_kubectl_writes_it() {
        let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "default"}, "data": {"a": "1"}});
        annotate_last_applied(&mut object);
        let text = object["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .expect("annotated");
        assert_eq!(
            text,
            "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"1\"},\"kind\":\"ConfigMap\",\
             \"metadata\":{\"annotations\":{},\"name\":\"x\",\"namespace\":\"default\"}}\n"
        );
        // Annotating again (as a second apply does) gives the same text.
        let mut again = object.clone();
        annotate_last_applied(&mut again);
        assert_eq!(again, object);
        assert_eq!(last_applied(&object).expect("parses")["data"]["a"], "1");
    }

    #[test]
    fn three_way_patches() {
        let container = json!({"name": "web", "image": "nginx:1"});
        let defaulted =
            json!({"name": "web", "image": "nginx:1", "imagePullPolicy": "IfNotPresent"});
        let cases = [
            // What the file says is already live, defaults and all: nothing to do.
            (
                Some(json!({"spec": {"replicas": 2, "containers": [container]}})),
                json!({"spec": {"replicas": 2, "containers": [container]}}),
                json!({"spec": {"replicas": 2, "containers": [defaulted], "paused": false}, "status": {}}),
                json!({}),
            ),
            // A changed scalar goes alone.
            (
                None,
                json!({"spec": {"replicas": 3, "containers": [container]}}),
                json!({"spec": {"replicas": 2, "containers": [defaulted]}}),
                json!({"spec": {"replicas": 3}}),
            ),
            // A changed list goes whole.
            (
                None,
                json!({"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}),
                json!({"spec": {"containers": [defaulted]}}),
                json!({"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}),
            ),
            // A field the last apply set and the file dropped is deleted;
            // one that someone else set stays.
            (
                Some(json!({"data": {"a": "1", "b": "2"}})),
                json!({"data": {"a": "1"}}),
                json!({"data": {"a": "1", "b": "2", "c": "3"}}),
                json!({"data": {"b": null}}),
            ),
            // A new field is added.
            (
                None,
                json!({"metadata": {"labels": {"tier": "web"}}}),
                json!({"metadata": {"name": "x"}}),
                json!({"metadata": {"labels": {"tier": "web"}}}),
            ),
        ];
        for (original, modified, live, expected) in cases {
            assert_eq!(
                three_way(original.as_ref(), &modified, &live),
                expected,
                "{modified}"
            );
        }
    }
}
