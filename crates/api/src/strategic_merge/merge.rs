//! Merging a patch map into an original map (upstream's `mergeMap`):
//! the `$patch` and `$retainKeys` directives of the map, the
//! `$setElementOrder` lists, then field by field.

use serde_json::{Map, Value};

use super::list::{merge_list, merge_list_field};
use super::order::{element_kind, normalize_element_order, partition, validate_patch_order};
use super::schema::Type;
use super::{
    DELETE_FROM_PRIMITIVE_LIST, Error, PATCH, RETAIN_KEYS, SET_ELEMENT_ORDER, bad_arg_type, clean,
    go_format,
};

/// `original` with `patch` merged in; `ty` is the type of both.
pub(super) fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: &Type,
) -> Result<Map<String, Value>, Error> {
    if let Some(directive) = patch.get(PATCH) {
        return match directive.as_str() {
            Some("replace") => match clean(Value::Object(without_patch_directive(patch))) {
                Some(Value::Object(replaced)) => Ok(replaced),
                _ => Ok(Map::new()),
            },
            Some("delete") => Ok(Map::new()),
            _ => Err(Error::Inapplicable(format!(
                "unknown patch type: {} in map: {}",
                go_format(directive),
                go_format(&Value::Object(patch.clone()))
            ))),
        };
    }
    retain_keys(&mut original, &mut patch)?;
    set_element_orders(&mut original, &mut patch, ty)?;
    for (key, value) in patch {
        merge_field(&mut original, key, value, ty)?;
    }
    Ok(original)
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
) -> Result<(), Error> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|key| key.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let order = patch.remove(&directive).unwrap_or_default();
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
        let meta = ty
            .list_meta(field)
            .ok_or_else(|| unknown_field(ty, field))?;
        validate_patch_order(patch_list.as_deref(), &order, meta.merge_key)?;
        let merged = match (original_list.clone(), patch_list.clone()) {
            (Some(original), None) => original,
            (None, Some(patch)) => clean_list(patch),
            (Some(original), Some(patch)) => merge_list(original, patch, &meta, false)?,
            (None, None) => continue,
        };
        let original_list = original_list.unwrap_or_default();
        element_kind(&original_list, patch_list.as_deref().unwrap_or_default())?;
        let (in_order, server_only) = partition(merged, &order, meta.merge_key)?;
        let ordered = normalize_element_order(
            in_order,
            server_only,
            &order,
            &original_list,
            meta.merge_key,
        )?;
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

fn clean_list(items: Vec<Value>) -> Vec<Value> {
    items.into_iter().filter_map(clean).collect()
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
) -> Result<(), Error> {
    let (field, delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
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
        original.remove(&field);
        return Ok(());
    }
    let merged = match (original.remove(&field), value) {
        (Some(Value::Object(current)), Value::Object(patch)) => {
            let field_type = ty.field(&field).unwrap_or(Type::Free);
            Some(Value::Object(merge_map(current, patch, &field_type)?))
        }
        (Some(Value::Array(current)), Value::Array(patch)) => {
            let meta = ty
                .list_meta(&field)
                .ok_or_else(|| unknown_field(ty, &field))?;
            Some(Value::Array(merge_list_field(
                current,
                patch,
                &meta,
                delete_list,
            )?))
        }
        (current, _) if delete_list => current,
        (_, patch) => clean(patch),
    };
    if let Some(merged) = merged {
        original.insert(field, merged);
    }
    Ok(())
}
