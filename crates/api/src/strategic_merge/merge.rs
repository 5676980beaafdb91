//! Merging a patch map into an original map (upstream's `mergeMap`):
//! the `$patch` and `$retainKeys` directives of the map, the
//! `$setElementOrder` lists, then field by field. The same merge applies a
//! patch to an object ([`MergeOptions::APPLY`]) and combines two patches
//! into one ([`MergeOptions::COMBINE`], kubectl's three-way patch).

use serde_json::{Map, Value};

use super::list::{merge_list, merge_list_field};
use super::order::{
    ElementKind, element_kind, normalize_element_order, partition, validate_patch_order,
};
use super::schema::{ListMeta, Type};
use super::{
    DELETE_FROM_PRIMITIVE_LIST, Error, PATCH, RETAIN_KEYS, SET_ELEMENT_ORDER, bad_arg_type, clean,
    go_format,
};

/// How a merge treats directives and `null`s (upstream's `MergeOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MergeOptions {
    /// Apply `$retainKeys`, `$setElementOrder` and
    /// `$deleteFromPrimitiveList` (merging a patch into an object); when
    /// false the merge combines two patches and keeps the directives.
    pub merge_parallel_list: bool,
    /// Drop the patch's `null`s once they deleted their field; when false
    /// a `null` stays in the result (a deletion the combined patch sends).
    pub ignore_unmatched_nulls: bool,
}

impl MergeOptions {
    /// A patch applied to an object, as the server applies it.
    pub(super) const APPLY: MergeOptions = MergeOptions {
        merge_parallel_list: true,
        ignore_unmatched_nulls: true,
    };
    /// Two patches combined into one, as kubectl combines the deletions
    /// and the delta of its three-way patch.
    pub(super) const COMBINE: MergeOptions = MergeOptions {
        merge_parallel_list: false,
        ignore_unmatched_nulls: false,
    };
}

/// A patch value that replaces what the original had (a `$patch: replace`
/// map or list, a list without the merge strategy, a new list item): when
/// applied it is cleaned; a combined patch carries it verbatim.
pub(super) fn replacement(value: Value, options: MergeOptions) -> Option<Value> {
    if options.merge_parallel_list {
        clean(value, options)
    } else {
        Some(value)
    }
}

/// `original` with `patch` merged in; `ty` is the type of both.
pub(super) fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: &Type,
    options: MergeOptions,
) -> Result<Map<String, Value>, Error> {
    if let Some(directive) = patch.get(PATCH) {
        return match directive.as_str() {
            Some("replace") => {
                let replaced = Value::Object(without_patch_directive(patch));
                match replacement(replaced, options) {
                    Some(Value::Object(replaced)) => Ok(replaced),
                    _ => Ok(Map::new()),
                }
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(Error::Inapplicable(format!(
                "unknown patch type: {} in map: {}",
                go_format(directive),
                go_format(&Value::Object(patch.clone()))
            ))),
        };
    }
    if options.merge_parallel_list {
        retain_keys(&mut original, &mut patch)?;
    } else if let Some(retained) = patch.remove(RETAIN_KEYS) {
        keep_same_directive(&mut original, RETAIN_KEYS, retained)?;
    }
    set_element_orders(&mut original, &mut patch, ty, options)?;
    for (key, value) in patch {
        merge_field(&mut original, key, value, ty, options)?;
    }
    Ok(original)
}

/// A directive both patches being combined may carry: computed from the
/// same file, so the two must be equal; the patch's goes in when the
/// original lacks it.
fn keep_same_directive(
    original: &mut Map<String, Value>,
    key: &str,
    value: Value,
) -> Result<(), Error> {
    match original.get(key) {
        Some(existing) if *existing != value => Err(Error::Inapplicable(format!(
            "the two halves of the patch disagree on {key}: {existing} and {value}"
        ))),
        Some(_) => Ok(()),
        None => {
            original.insert(key.to_string(), value);
            Ok(())
        }
    }
}

fn without_patch_directive(mut patch: Map<String, Value>) -> Map<String, Value> {
    patch.remove(PATCH);
    patch
}

/// `$retainKeys`: every other field of the patch must be listed, and the
/// original keeps only the listed fields.
fn retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), Error> {
    let Some(retained) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let malformed = || Error::Malformed("invalid patch format of retainKeys".into());
    let retained = retained.as_array().ok_or_else(malformed)?;
    let listed = |key: &str| retained.iter().any(|k| k.as_str() == Some(key));
    let unlisted = patch.iter().any(|(key, value)| {
        !value.is_null()
            && !key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            && !key.starts_with(SET_ELEMENT_ORDER)
            && !listed(key)
    });
    if unlisted {
        return Err(malformed());
    }
    original.retain(|key, _| listed(key));
    Ok(())
}

/// The list field that a `$prefix/<field>` directive names.
fn directive_field<'k>(key: &'k str, prefix: &str, malformed: &str) -> Result<&'k str, Error> {
    key.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('/'))
        .ok_or_else(|| Error::Malformed(malformed.into()))
}

/// Merges every list that has a `$setElementOrder/<list>` directive and
/// puts it in that order; the patch keeps only the other fields.
fn set_element_orders(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    ty: &Type,
    options: MergeOptions,
) -> Result<(), Error> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|key| key.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let order = patch.remove(&directive).unwrap_or_default();
        if !options.merge_parallel_list {
            keep_same_directive(original, &directive, order.clone())?;
        }
        let Value::Array(order) = order else {
            return Err(bad_arg_type("[]interface {}", &order));
        };
        let field = directive_field(
            &directive,
            SET_ELEMENT_ORDER,
            "invalid patch format of setElementOrder list",
        )?;
        let original_list = list_at(original, field)?;
        let patch_list = list_at(patch, field)?;
        let meta = list_meta(ty, field, options)?;
        if options.merge_parallel_list {
            validate_patch_order(patch_list.as_deref(), &order, meta.merge_key)?;
        }
        let merged = match (original_list.clone(), patch_list.clone()) {
            (Some(original), None) => original,
            (None, Some(patch)) => clean_list(patch, options),
            (Some(original), Some(patch)) => merge_list(original, patch, &meta, false, options)?,
            (None, None) => continue,
        };
        let original_list = original_list.unwrap_or_default();
        let patch_list = patch_list.unwrap_or_default();
        let key = order_key(&original_list, &patch_list, &meta, options)?;
        let (in_order, server_only) = partition(merged, &order, key)?;
        let ordered = normalize_element_order(in_order, server_only, &order, &original_list, key)?;
        original.insert(field.to_string(), Value::Array(ordered));
        patch.remove(field);
    }
    Ok(())
}

/// The list in `field`, if the map has that field; an error if it is not a
/// list.
fn list_at(map: &Map<String, Value>, field: &str) -> Result<Option<Vec<Value>>, Error> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(other) => Err(bad_arg_type("[]interface {}", other)),
    }
}

/// The merge key that orders a `$setElementOrder` list. Combining
/// patches, a key only orders maps (and lists with no items have none).
fn order_key<'m>(
    original: &[Value],
    patch: &[Value],
    meta: &'m ListMeta,
    options: MergeOptions,
) -> Result<Option<&'m str>, Error> {
    if options.merge_parallel_list {
        element_kind(original, patch)?;
        return Ok(meta.merge_key);
    }
    if original.is_empty() && patch.is_empty() {
        return Ok(None);
    }
    let is_maps = element_kind(original, patch)? == ElementKind::Object;
    Ok(if is_maps { meta.merge_key } else { None })
}

fn clean_list(items: Vec<Value>, options: MergeOptions) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|item| clean(item, options))
        .collect()
}

/// How the list in `field` merges. A field the struct does not declare is
/// an error when applying; combining patches, such a list is replaced (as
/// [`super::Shape::list`] tells the client that computed them).
fn list_meta(ty: &Type, field: &str, options: MergeOptions) -> Result<ListMeta, Error> {
    match ty.list_meta(field) {
        Some(meta) => Ok(meta),
        None if !options.merge_parallel_list => Ok(ListMeta {
            merges: false,
            merge_key: None,
            item: Type::Free,
        }),
        None => Err(unknown_field(ty, field)),
    }
}

/// upstream's error for a field the struct does not declare.
fn unknown_field(ty: &Type, field: &str) -> Error {
    Error::Inapplicable(format!(
        "unable to find api field in struct {} for the json field {field:?}",
        ty.name()
    ))
}

/// Merges one field of the patch (or a `$deleteFromPrimitiveList`
/// directive) into `original`.
fn merge_field(
    original: &mut Map<String, Value>,
    key: String,
    value: Value,
    ty: &Type,
    options: MergeOptions,
) -> Result<(), Error> {
    let is_delete_list = key.starts_with(DELETE_FROM_PRIMITIVE_LIST);
    if is_delete_list && !options.merge_parallel_list {
        original.insert(key, value);
        return Ok(());
    }
    let (field, delete_list) = if is_delete_list {
        let field = directive_field(
            &key,
            DELETE_FROM_PRIMITIVE_LIST,
            "invalid patch format of primitive list",
        )?;
        (field.to_string(), true)
    } else {
        (key, false)
    };
    if value.is_null() {
        if options.ignore_unmatched_nulls {
            original.remove(&field);
        } else {
            original.insert(field, Value::Null);
        }
        return Ok(());
    }
    let merged = match (original.remove(&field), value) {
        (Some(Value::Object(current)), Value::Object(patch)) => {
            let field_type = ty.field(&field).unwrap_or(Type::Free);
            Some(Value::Object(merge_map(
                current,
                patch,
                &field_type,
                options,
            )?))
        }
        (Some(Value::Array(current)), Value::Array(patch)) => {
            let meta = list_meta(ty, &field, options)?;
            Some(Value::Array(merge_list_field(
                current,
                patch,
                &meta,
                delete_list,
                options,
            )?))
        }
        (current, _) if delete_list => current,
        (_, patch) => clean(patch, options),
    };
    if let Some(merged) = merged {
        original.insert(field, merged);
    }
    Ok(())
}
