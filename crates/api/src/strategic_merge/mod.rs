//! Strategic merge patch (`application/strategic-merge-patch+json`), as
//! Kubernetes applies it on the server (k8s.io/apimachinery
//! `strategicpatch.StrategicMergeMapPatch`): maps merge recursively and
//! `null` deletes a field; lists whose patch strategy is `merge` merge
//! item by item on their merge key (lists of scalars as sets); other lists
//! are replaced. The patch may carry directives: `$patch: replace|delete`
//! on a map or a list item, `$retainKeys`, `$setElementOrder/<list>` and
//! `$deleteFromPrimitiveList/<list>`. No directive reaches the result.
//!
//! The list semantics come from [`crate::list_types`]; which definition
//! each field holds comes from k8s-openapi's schemas ([`schema`]). Clients
//! that compute patches look fields up through [`Shape`], combine two
//! patches with [`merge_patches`] (the same merge, keeping directives and
//! `null`s) and order lists with [`normalize_slice_order`] and
//! [`dedupe_scalars`].

mod list;
mod merge;
mod order;
mod schema;
mod shape;

use serde_json::{Map, Value};

use merge::MergeOptions;
pub use order::{dedupe_scalars, normalize_slice_order};
pub use shape::{ListShape, Shape};

/// `$patch`, on a map or a list item.
pub const PATCH: &str = "$patch";
/// `$retainKeys`: the keys of a map that survive the patch.
pub const RETAIN_KEYS: &str = "$retainKeys";
/// `$setElementOrder/<list>`: the order of a merged list.
pub const SET_ELEMENT_ORDER: &str = "$setElementOrder";
/// `$deleteFromPrimitiveList/<list>`: scalars to remove from a set.
pub const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// Why a strategic merge patch could not be applied. The variants follow
/// the status codes upstream answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The patch is not a strategic merge patch or a directive is
    /// malformed (`$retainKeys` not a list, a key outside it,
    /// `$setElementOrder` without `/`): upstream answers 400 Bad Request.
    #[error("{0}")]
    Malformed(String),
    /// A list of lists: upstream answers 422.
    #[error("{0}")]
    Unsupported(String),
    /// The patch does not fit the object (an item without its merge key,
    /// an unknown `$patch` value, items of different types, an order that
    /// contradicts `$setElementOrder`): upstream's handler passes these on
    /// as 500s; the API server answers them as 400s with the message.
    #[error("{0}")]
    Inapplicable(String),
    /// No schema is known for the definition (custom resources):
    /// upstream answers 415.
    #[error("strategic merge patch is not supported for {0}")]
    UnknownKind(String),
}

/// Applies `patch` to `original`, an object of the OpenAPI definition
/// `definition` (e.g. `io.k8s.api.apps.v1.Deployment`), and returns the
/// result.
pub fn apply(definition: &str, original: &Value, patch: &Value) -> Result<Value, Error> {
    if !schema::knows(definition) {
        return Err(Error::UnknownKind(definition.to_string()));
    }
    let Value::Object(patch) = patch else {
        return Err(Error::Malformed(
            "a strategic merge patch must be a JSON object".into(),
        ));
    };
    let original = original.as_object().cloned().unwrap_or_default();
    let root = schema::Type::Struct(definition.to_string());
    merge::merge_map(original, patch.clone(), &root, MergeOptions::APPLY).map(Value::Object)
}

/// Combines two patches of objects of `shape` into one, as kubectl's
/// three-way patch combines the deletions (`original`) with the delta
/// (`patch`): upstream's `mergeMap` without `MergeParallelList` and
/// `IgnoreUnmatchedNulls`, so directives and `null`s are kept, not applied.
pub fn merge_patches(
    shape: &Shape,
    original: Map<String, Value>,
    patch: Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    merge::merge_map(original, patch, shape.ty(), MergeOptions::COMBINE)
}

/// Whether `key` is a directive rather than a field.
fn is_directive_key(key: &str) -> bool {
    key == PATCH
        || key == RETAIN_KEYS
        || key.starts_with(SET_ELEMENT_ORDER)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
}

/// A patch value that lands where the original has nothing to merge with,
/// without the maps that carry `$patch` (upstream's `removeDirectives`);
/// applied, also without its `null`s and directives. `None` if the value
/// itself is a `$patch` map.
fn clean(value: Value, options: MergeOptions) -> Option<Value> {
    let drop = |key: &str, value: &Value| {
        (options.ignore_unmatched_nulls && value.is_null())
            || (options.merge_parallel_list && is_directive_key(key))
    };
    match value {
        Value::Object(map) if map.contains_key(PATCH) => None,
        Value::Object(map) => Some(Value::Object(
            map.into_iter()
                .filter(|(key, value)| !drop(key, value))
                .filter_map(|(key, value)| clean(value, options).map(|value| (key, value)))
                .collect(),
        )),
        Value::Array(items) => Some(Value::Array(
            items
                .into_iter()
                .filter_map(|item| clean(item, options))
                .collect(),
        )),
        scalar => Some(scalar),
    }
}

/// A value as Go's `%v` prints it, for messages worded as upstream's.
fn go_format(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".into(),
        Value::String(text) => text.clone(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(go_format).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(map) => {
            let mut entries: Vec<String> = map
                .iter()
                .map(|(key, value)| format!("{key}:{}", go_format(value)))
                .collect();
            entries.sort();
            format!("map[{}]", entries.join(" "))
        }
    }
}

/// Go's name for the type of a JSON value, for "expected a ..." messages.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// upstream's `ErrBadArgType`.
fn bad_arg_type(expected: &str, actual: &Value) -> Error {
    Error::Inapplicable(format!(
        "expected a {expected}, but received a {}",
        go_type(actual)
    ))
}

/// upstream's `ErrNoMergeKey`.
fn no_merge_key(item: &Value, key: &str) -> Error {
    Error::Inapplicable(format!(
        "map: {} does not contain declared merge key: {key}",
        go_format(item)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn combined_patches_keep_nulls_and_directives_but_not_patch_maps() {
        let value = json!({"a": [{"name": "x", "$patch": "delete"}, {"name": "y"}],
            "b": {"$patch": "replace"}, "c": null, "$retainKeys": ["a"]});
        assert_eq!(
            clean(value.clone(), MergeOptions::COMBINE),
            Some(json!({"a": [{"name": "y"}], "c": null, "$retainKeys": ["a"]}))
        );
        assert_eq!(
            clean(value, MergeOptions::APPLY),
            Some(json!({"a": [{"name": "y"}]}))
        );
    }
}
