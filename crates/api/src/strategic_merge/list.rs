//! Merging a patch list into an original list (upstream's
//! `mergeSliceHandler` and `mergeSlice`): lists of scalars as sets, lists
//! of maps item by item on the merge key, with `$patch: delete|replace`
//! items; the result keeps the patch's order for the items it names.

use serde_json::{Map, Value};

use super::merge::{MergeOptions, merge_map, replacement};
use super::order::{ElementKind, dedupe_scalars, element_kind, normalize_element_order, partition};
use super::schema::{ListMeta, Type};
use super::{Error, PATCH, go_format, no_merge_key};

/// The list a field holds after the patch: merged if its strategy is
/// `merge` (or the patch is a `$deleteFromPrimitiveList`), else the
/// patch's list.
pub(super) fn merge_list_field(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &ListMeta,
    delete_list: bool,
    options: MergeOptions,
) -> Result<Vec<Value>, Error> {
    if meta.merges || delete_list {
        merge_list(original, patch, meta, delete_list, options)
    } else {
        Ok(replacements(patch, options))
    }
}

fn replacements(items: Vec<Value>, options: MergeOptions) -> Vec<Value> {
    items
        .into_iter()
        .filter_map(|item| replacement(item, options))
        .collect()
}

/// Merges two lists of a field whose strategy is `merge`.
pub(super) fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &ListMeta,
    delete_list: bool,
    options: MergeOptions,
) -> Result<Vec<Value>, Error> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = element_kind(&original, &patch)?;
    if kind != ElementKind::Object {
        if delete_list {
            return Ok(original
                .into_iter()
                .filter(|v| !patch.contains(v))
                .collect());
        }
        // The order of the deduplicated items does not matter: the
        // normalization below puts every item in its place.
        let merged = dedupe_scalars(original.iter().chain(&patch).cloned().collect());
        let (in_patch, server_only) = partition(merged, &patch, None)?;
        return normalize_element_order(in_patch, server_only, &patch, &original, None);
    }
    let key = meta.merge_key.ok_or_else(|| {
        Error::Inapplicable(format!(
            "cannot merge lists without merge key for {}",
            meta.item.name()
        ))
    })?;
    let (original, patch) = apply_special_items(original, patch, key, options)?;
    let merged = merge_items(original.clone(), &patch, key, &meta.item, options)?;
    let (in_patch, server_only) = partition(merged, &patch, Some(key))?;
    normalize_element_order(in_patch, server_only, &patch, &original, Some(key))
}

/// Applies the `$patch` items of a list of maps: `delete` removes every
/// original item with that merge key, `replace` makes the other items of
/// the patch the whole list. Returns the original and the patch left to
/// merge.
fn apply_special_items(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
    options: MergeOptions,
) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Some(directive) = item.get(PATCH) else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let value = item.get(key).ok_or_else(|| no_merge_key(&item, key))?;
                original.retain(|o| o.get(key) != Some(value));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err(Error::Inapplicable(
                    "merging lists cannot yet be specified in the patch".into(),
                ));
            }
            _ => {
                return Err(Error::Inapplicable(format!(
                    "unknown patch type: {} in map: {}",
                    go_format(directive),
                    go_format(&item)
                )));
            }
        }
    }
    if replace {
        return Ok((replacements(plain, options), Vec::new()));
    }
    Ok((original, plain))
}

/// Merges each patch item into the original item with the same merge key,
/// or appends it.
fn merge_items(
    mut original: Vec<Value>,
    patch: &[Value],
    key: &str,
    item_type: &Type,
    options: MergeOptions,
) -> Result<Vec<Value>, Error> {
    for item in patch {
        let value = item.get(key).ok_or_else(|| no_merge_key(item, key))?;
        let found = original.iter().position(|o| o.get(key) == Some(value));
        let patch_map = item.as_object().cloned().unwrap_or_default();
        match found {
            Some(index) => {
                let current = match std::mem::take(&mut original[index]) {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                original[index] = Value::Object(merge_map(current, patch_map, item_type, options)?);
            }
            None => original.extend(replacement(Value::Object(patch_map), options)),
        }
    }
    Ok(original)
}
