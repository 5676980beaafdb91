//! The parts of a resource that belong to the server: the ObjectMeta
//! fields `metadata` may hold, and the `apiVersion` and `kind` an embedded
//! resource must have.

use keelson_api::field_error::FieldError;
use keelson_api::field_path::FieldPath;
use serde_json::{Map, Value};

use super::Node;

/// The fields of an ObjectMeta.
const OBJECT_META: [&str; 15] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// The fields of an OwnerReference.
const OWNER_REFERENCE: [&str; 6] = [
    "apiVersion",
    "kind",
    "name",
    "uid",
    "controller",
    "blockOwnerDeletion",
];

/// The fields of a ManagedFieldsEntry.
const MANAGED_FIELDS_ENTRY: [&str; 7] = [
    "manager",
    "operation",
    "apiVersion",
    "time",
    "fieldsType",
    "fieldsV1",
    "subresource",
];

/// Cuts `meta` (at `path`) down to the fields of an ObjectMeta, and those
/// of its owner references and managed fields entries; returns the paths
/// of what went.
pub(super) fn prune_object_meta(meta: &mut Map<String, Value>, path: &str) -> Vec<String> {
    let mut pruned = keep_only(meta, &OBJECT_META, path);
    for (list, fields) in [
        ("ownerReferences", &OWNER_REFERENCE[..]),
        ("managedFields", &MANAGED_FIELDS_ENTRY[..]),
    ] {
        if let Some(Value::Array(items)) = meta.get_mut(list) {
            for (i, item) in items.iter_mut().enumerate() {
                if let Value::Object(item) = item {
                    pruned.extend(keep_only(item, fields, &format!("{path}.{list}[{i}]")));
                }
            }
        }
    }
    pruned
}

fn keep_only(map: &mut Map<String, Value>, fields: &[&str], path: &str) -> Vec<String> {
    let gone: Vec<String> = map
        .keys()
        .filter(|k| !fields.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in &gone {
        map.remove(key);
    }
    gone.into_iter()
        .map(|key| format!("{path}.{key}"))
        .collect()
}

/// The `apiVersion` and `kind` of every embedded resource in `value` (not
/// of the root object itself, which the server checks on its own).
pub(super) fn embedded_type_meta(
    node: &Node,
    value: &Value,
    path: &FieldPath,
    root: bool,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    walk(node, value, path, root, &mut errors);
    errors
}

fn walk(node: &Node, value: &Value, path: &FieldPath, root: bool, errors: &mut Vec<FieldError>) {
    match value {
        Value::Object(map) => {
            if node.embedded_resource && !root {
                type_meta(map, path, errors);
            }
            for (key, value) in map {
                if let Some(schema) = node.field(key) {
                    walk(schema, value, &path.child(key), false, errors);
                }
            }
        }
        Value::Array(items) => {
            if let Some(schema) = node.items.as_deref() {
                for (i, item) in items.iter().enumerate() {
                    walk(schema, item, &path.index(i), false, errors);
                }
            }
        }
        _ => {}
    }
}

fn type_meta(map: &Map<String, Value>, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for name in ["apiVersion", "kind"] {
        let field = path.child(name);
        match map.get(name) {
            None => errors.push(FieldError::required(&field, "must not be empty")),
            Some(Value::String(s)) if s.is_empty() => {
                errors.push(FieldError::invalid(&field, s.as_str(), "must not be empty"))
            }
            Some(Value::String(s)) => check_type_meta_value(name, s, &field, errors),
            Some(other) => errors.push(FieldError::invalid(
                &field,
                other.clone(),
                "must be a string",
            )),
        }
    }
}

fn check_type_meta_value(name: &str, value: &str, field: &FieldPath, errors: &mut Vec<FieldError>) {
    if name == "apiVersion" {
        if value.matches('/').count() > 1 {
            let detail = format!("unexpected GroupVersion string: {value}");
            errors.push(FieldError::invalid(field, value, detail));
        }
        return;
    }
    let problems = keelson_api::validation::is_dns1035_label(&value.to_lowercase());
    if !problems.is_empty() {
        let detail = format!(
            "may have mixed case, but should otherwise match: {}",
            problems.join(",")
        );
        errors.push(FieldError::invalid(field, value, detail));
    }
}
