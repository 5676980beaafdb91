//! What a Pod update may change in the spec: container images, a shorter
//! `activeDeadlineSeconds`, added tolerations, removed scheduling gates,
//! a negative grace period raised to 1 and, while the pod is gated, its
//! node selector and node affinity. Anything else is forbidden with
//! upstream's message.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{int_of, list_of, semantically_equal, str_of};

use super::pod::NULL;

/// The fields a Pod update may change, as upstream lists them.
const UPDATABLE: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// Errors of updating the Pod `old` to `new`.
pub(crate) fn pod_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let spec_path = FieldPath::new("spec");
    let new_spec = new.get("spec").unwrap_or(&NULL);
    let old_spec = old.get("spec").unwrap_or(&NULL);
    let mut errors = Vec::new();
    for key in ["containers", "initContainers"] {
        if !container_images(new_spec, old_spec, key, &spec_path.child(key), &mut errors) {
            return errors;
        }
    }
    if !active_deadline(new_spec, old_spec, &spec_path, &mut errors) {
        return errors;
    }
    only_added_tolerations(
        new_spec,
        old_spec,
        &spec_path.child("tolerations"),
        &mut errors,
    );
    only_removed_gates(
        new_spec,
        old_spec,
        &spec_path.child("schedulingGates"),
        &mut errors,
    );
    if semantically_equal(Some(new_spec), Some(old_spec)) {
        return errors;
    }
    let munged = munge(new_spec, old_spec);
    if !semantically_equal(Some(&munged), Some(old_spec)) {
        errors.push(FieldError::forbidden(
            &spec_path,
            format!("pod updates may not change fields other than {UPDATABLE}"),
        ));
    }
    errors
}

/// Same number of containers, each with an image; `false` stops the
/// checks, as upstream does.
fn container_images(
    new_spec: &Value,
    old_spec: &Value,
    key: &str,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> bool {
    let new = list_of(new_spec, key);
    if new.len() != list_of(old_spec, key).len() {
        errors.push(FieldError::forbidden(
            path,
            "pod updates may not add or remove containers",
        ));
        return false;
    }
    for (i, container) in new.iter().enumerate() {
        let image = str_of(container, "image").unwrap_or("");
        if image.is_empty() {
            errors.push(FieldError::required(&path.index(i).child("image"), ""));
        }
        if image.trim() != image {
            errors.push(FieldError::invalid(
                &path.index(i).child("image"),
                image,
                "must not have leading or trailing whitespace",
            ));
        }
    }
    true
}

/// `activeDeadlineSeconds` may be set, or lowered, but not raised or unset.
fn active_deadline(
    new_spec: &Value,
    old_spec: &Value,
    spec_path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> bool {
    let path = spec_path.child("activeDeadlineSeconds");
    let old = int_of(old_spec, "activeDeadlineSeconds");
    match int_of(new_spec, "activeDeadlineSeconds") {
        Some(new) if !(0..=i64::from(i32::MAX)).contains(&new) => {
            errors.push(FieldError::invalid(
                &path,
                new,
                "must be between 0 and 2147483647, inclusive",
            ));
            false
        }
        Some(new) if old.is_some_and(|old| old < new) => {
            errors.push(FieldError::invalid(
                &path,
                new,
                "must be less than or equal to previous value",
            ));
            false
        }
        None if old.is_some() => {
            errors.push(FieldError::invalid(
                &path,
                Value::Null,
                "must not update from a positive integer to nil value",
            ));
            true
        }
        _ => true,
    }
}

/// Every old toleration must still be there (its `tolerationSeconds` may
/// change).
fn only_added_tolerations(
    new_spec: &Value,
    old_spec: &Value,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let without_seconds = |t: &Value| {
        let mut t = t.clone();
        if let Some(map) = t.as_object_mut() {
            map.remove("tolerationSeconds");
        }
        crate::json::normalized(&t)
    };
    let new: Vec<Value> = list_of(new_spec, "tolerations")
        .iter()
        .map(without_seconds)
        .collect();
    let kept = list_of(old_spec, "tolerations")
        .iter()
        .all(|old| new.contains(&without_seconds(old)));
    if !kept {
        errors.push(FieldError::forbidden(
            path,
            "existing toleration can not be modified except its tolerationSeconds",
        ));
    }
}

/// Scheduling gates may only be removed.
fn only_removed_gates(
    new_spec: &Value,
    old_spec: &Value,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let old: BTreeSet<&str> = list_of(old_spec, "schedulingGates")
        .iter()
        .filter_map(|g| str_of(g, "name"))
        .collect();
    for (i, gate) in list_of(new_spec, "schedulingGates").iter().enumerate() {
        let name = str_of(gate, "name").unwrap_or("");
        if !old.contains(name) {
            errors.push(FieldError::forbidden(
                &path.index(i).child("name"),
                format!("only deletion is allowed, but found new scheduling gate '{name}'"),
            ));
        }
    }
}

/// The new spec with every field an update may change set back to its
/// old value: what is left different is forbidden.
fn munge(new_spec: &Value, old_spec: &Value) -> Value {
    let mut munged = new_spec.clone();
    for key in ["containers", "initContainers"] {
        let old_images: Vec<Value> = list_of(old_spec, key)
            .iter()
            .map(|c| c.get("image").cloned().unwrap_or(Value::Null))
            .collect();
        if let Some(items) = munged.get_mut(key).and_then(Value::as_array_mut) {
            for (container, image) in items.iter_mut().zip(old_images) {
                if let Some(map) = container.as_object_mut() {
                    map.insert("image".to_string(), image);
                }
            }
        }
    }
    let Some(map) = munged.as_object_mut() else {
        return munged;
    };
    let restore = |key: &str, map: &mut Map<String, Value>| match old_spec.get(key) {
        Some(value) => {
            map.insert(key.to_string(), value.clone());
        }
        None => {
            map.remove(key);
        }
    };
    for key in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
        restore(key, map);
    }
    let old_grace = int_of(old_spec, "terminationGracePeriodSeconds");
    let new_grace = map
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    if old_grace.is_some_and(|g| g < 0) && new_grace == Some(1) {
        restore("terminationGracePeriodSeconds", map);
    }
    if !list_of(old_spec, "schedulingGates").is_empty() {
        restore("nodeSelector", map);
        restore_node_affinity(old_spec, map);
    }
    munged
}

/// A gated pod's node affinity may change: take the old one back.
fn restore_node_affinity(old_spec: &Value, map: &mut Map<String, Value>) {
    let old_affinity = old_spec.get("affinity").and_then(Value::as_object);
    let old_node = old_affinity.and_then(|a| a.get("nodeAffinity")).cloned();
    let affinity = map
        .entry("affinity")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(affinity) = affinity.as_object_mut() {
        match old_node {
            Some(node) => {
                affinity.insert("nodeAffinity".to_string(), node);
            }
            None => {
                affinity.remove("nodeAffinity");
            }
        }
    }
}
