//! Combining the deletions patch with the delta patch into the one patch
//! kubectl sends (upstream's `mergeMap` without merging parallel lists):
//! directives are kept, not applied; `$setElementOrder` lists must agree
//! and order the merged list; lists merged by key combine item by item.

use keelson_api::strategic_merge::{ListShape, Shape};
use serde_json::{Map, Value};

use super::order::{dedupe_scalars, normalize_element_order, partition};
use super::{
    DELETE_FROM_PRIMITIVE_LIST, Error, Kind, PATCH, RETAIN_KEYS, SET_ELEMENT_ORDER,
    directive_field, element_kind, merge_key_value,
};

/// `patch` (the delta) merged into `original` (the deletions).
pub(super) fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    shape: &Shape,
) -> Result<Map<String, Value>, Error> {
    if let Some(directive) = patch.remove(PATCH) {
        return match directive.as_str() {
            Some("replace") => Ok(patch),
            Some("delete") => Ok(Map::new()),
            _ => Err(Error::Invalid(format!(
                "unknown patch type: {directive} in map: {}",
                Value::Object(patch)
            ))),
        };
    }
    if let Some(retained) = patch.remove(RETAIN_KEYS) {
        keep_same_directive(&mut original, RETAIN_KEYS, retained)?;
    }
    set_element_orders(&mut original, &mut patch, shape)?;
    for (key, value) in patch {
        merge_field(&mut original, key, value, shape)?;
    }
    Ok(original)
}

/// A directive both patches may carry: computed from the same file, so
/// the two must be equal; the delta's goes in when the deletions lack it.
fn keep_same_directive(
    original: &mut Map<String, Value>,
    key: &str,
    value: Value,
) -> Result<(), Error> {
    match original.get(key) {
        Some(existing) if *existing != value => Err(Error::Invalid(format!(
            "the two halves of the patch disagree on {key}: {existing} and {value}"
        ))),
        Some(_) => Ok(()),
        None => {
            original.insert(key.to_string(), value);
            Ok(())
        }
    }
}

/// Every list that the delta orders with `$setElementOrder/<list>`: the
/// directive moves to the result and the two patches' lists combine in
/// that order (items to delete last).
fn set_element_orders(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    shape: &Shape,
) -> Result<(), Error> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|key| key.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let order = patch.remove(&directive).expect("listed above");
        keep_same_directive(original, &directive, order.clone())?;
        let field = directive_field(&directive, SET_ELEMENT_ORDER)
            .ok_or_else(|| Error::Invalid("invalid patch format of setElementOrder list".into()))?;
        let Value::Array(order) = order else {
            return Err(Error::Invalid(format!("{directive} is not a list")));
        };
        let before = list_at(original, field)?;
        let added = list_at(patch, field)?;
        let list = shape.list(field);
        let merged = match (before.clone(), added.clone()) {
            (Some(before), None) => before,
            (None, Some(added)) => remove_directives_in_list(added),
            (Some(before), Some(added)) => merge_list(before, added, &list)?,
            (None, None) => continue,
        };
        let before = before.unwrap_or_default();
        let is_maps =
            element_kind(&[&before, added.as_deref().unwrap_or_default()])? == Some(Kind::Map);
        let key = if is_maps { list.merge_key } else { None };
        let (in_order, others) = partition(merged, &order, key)?;
        let ordered = normalize_element_order(in_order, others, &order, &before, key)?;
        original.insert(field.to_string(), Value::Array(ordered));
        patch.remove(field);
    }
    Ok(())
}

/// The list in `field`, if any; an error if it is not a list.
fn list_at(map: &Map<String, Value>, field: &str) -> Result<Option<Vec<Value>>, Error> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(other) => Err(Error::Invalid(format!(
            "expected a list in {field}, but received {other}"
        ))),
    }
}

/// Merges one field of the delta into the deletions.
fn merge_field(
    original: &mut Map<String, Value>,
    key: String,
    value: Value,
    shape: &Shape,
) -> Result<(), Error> {
    if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) || value.is_null() {
        original.insert(key, value);
        return Ok(());
    }
    let merged = match (original.remove(&key), value) {
        (Some(Value::Object(before)), Value::Object(added)) => {
            Some(Value::Object(merge_map(before, added, &shape.field(&key))?))
        }
        (Some(Value::Array(before)), Value::Array(added)) => {
            let list = shape.list(&key);
            if list.merges {
                Some(Value::Array(merge_list(before, added, &list)?))
            } else {
                Some(Value::Array(added))
            }
        }
        (_, value) => remove_directives(value),
    };
    if let Some(merged) = merged {
        original.insert(key, merged);
    }
    Ok(())
}

/// Two patch lists of a merged field combined: scalars as a set, maps by
/// merge key (an item in both patches combines recursively).
fn merge_list(
    before: Vec<Value>,
    added: Vec<Value>,
    list: &ListShape,
) -> Result<Vec<Value>, Error> {
    if before.is_empty() && added.is_empty() {
        return Ok(before);
    }
    if element_kind(&[&before, &added])? != Some(Kind::Map) {
        let both = before.iter().chain(&added).cloned().collect();
        let merged = dedupe_scalars(both);
        let (in_patch, others) = partition(merged, &added, None)?;
        return normalize_element_order(in_patch, others, &added, &before, None);
    }
    let key = list.merge_key.ok_or_else(|| {
        Error::Invalid("cannot merge lists without merge key for the list items".into())
    })?;
    let (before, added) = apply_special_items(before, added, key)?;
    let mut merged = before.clone();
    for item in &added {
        let value = merge_key_value(item, key)?;
        match merged.iter().position(|m| m.get(key) == Some(value)) {
            Some(index) => {
                let current = match std::mem::take(&mut merged[index]) {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                let item_map = item.as_object().cloned().unwrap_or_default();
                merged[index] = Value::Object(merge_map(current, item_map, &list.item)?);
            }
            None => merged.push(item.clone()),
        }
    }
    let (in_patch, others) = partition(merged, &added, Some(key))?;
    normalize_element_order(in_patch, others, &added, &before, Some(key))
}

/// The `$patch` items of the delta's list (only a file with directives
/// has them): `delete` removes items, `replace` makes the rest the list.
fn apply_special_items(
    mut before: Vec<Value>,
    added: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut plain = Vec::with_capacity(added.len());
    let mut replace = false;
    for item in added {
        match item.get(PATCH).map(|d| d.as_str()) {
            None => plain.push(item),
            Some(Some("delete")) => {
                let value = merge_key_value(&item, key)?.clone();
                before.retain(|b| b.get(key) != Some(&value));
            }
            Some(Some("replace")) => replace = true,
            Some(_) => {
                return Err(Error::Invalid(format!(
                    "unknown patch type in list item: {item}"
                )));
            }
        }
    }
    if replace {
        return Ok((plain, Vec::new()));
    }
    Ok((before, plain))
}

/// A value without the maps that carry `$patch` (upstream's
/// `removeDirectives`); `None` if the value itself is one.
fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) if map.contains_key(PATCH) => None,
        Value::Object(map) => Some(Value::Object(
            map.into_iter()
                .filter_map(|(key, value)| remove_directives(value).map(|value| (key, value)))
                .collect(),
        )),
        Value::Array(items) => Some(Value::Array(remove_directives_in_list(items))),
        scalar => Some(scalar),
    }
}

fn remove_directives_in_list(items: Vec<Value>) -> Vec<Value> {
    items.into_iter().filter_map(remove_directives).collect()
}

#[cfg(test)]
mod tests {
    use super::super::kind;
    use super::*;
    use serde_json::json;

    #[test]
    fn values_without_directive_maps() {
        let value = json!({"a": [{"name": "x", "$patch": "delete"}, {"name": "y"}],
            "b": {"$patch": "replace"}, "c": null});
        assert_eq!(
            remove_directives(value),
            Some(json!({"a": [{"name": "y"}], "c": null}))
        );
        assert_eq!(kind(&json!(1)), Kind::Int);
    }
}
