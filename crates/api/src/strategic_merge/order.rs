//! The order of a merged list (upstream's `normalizeElementOrder`): the
//! items the patch names follow the patch (or `$setElementOrder`), the
//! items only the server has keep their relative order, and the two are
//! interleaved by the server's order where both are known. Clients that
//! compute patches order their lists with the same functions
//! ([`normalize_slice_order`], [`dedupe_scalars`]): kubectl's patches are
//! compared byte for byte, so the order is part of the contract.
//!
//! `key` is the merge key for lists of maps, `None` for lists of scalars.

use serde_json::Value;

use super::{Error, PATCH, bad_arg_type, go_format, no_merge_key};

/// The JSON type shared by the items of the lists being merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ElementKind {
    Null,
    Bool,
    Number,
    String,
    Object,
}

/// The type of every item of `original` and `patch`: an error if they
/// differ, if an item is a list, or if there are no items at all.
pub(super) fn element_kind(original: &[Value], patch: &[Value]) -> Result<ElementKind, Error> {
    let mut kind = None;
    for item in original.iter().chain(patch) {
        let this = match item {
            Value::Null => ElementKind::Null,
            Value::Bool(_) => ElementKind::Bool,
            Value::Number(_) => ElementKind::Number,
            Value::String(_) => ElementKind::String,
            Value::Object(_) => ElementKind::Object,
            Value::Array(_) => {
                return Err(Error::Unsupported(
                    "lists of lists are not supported".into(),
                ));
            }
        };
        match kind {
            None => kind = Some(this),
            Some(kind) if kind != this => {
                return Err(Error::Inapplicable(format!(
                    "list element types are not identical: [{} {}]",
                    go_format(&Value::Array(original.to_vec())),
                    go_format(&Value::Array(patch.to_vec()))
                )));
            }
            Some(_) => {}
        }
    }
    kind.ok_or_else(|| Error::Inapplicable("no elements in any of the given slices".into()))
}

/// What identifies an item for ordering: its merge key's value for maps,
/// the item itself for scalars.
fn identity<'v>(item: &'v Value, key: Option<&str>) -> Option<&'v Value> {
    match key {
        Some(key) => item.get(key),
        None => Some(item),
    }
}

/// Where `item` is in `list`, by identity.
fn index(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    let wanted = identity(item, key);
    list.iter().position(|v| identity(v, key) == wanted)
}

/// Splits `merged` into the items named in `by` and the others.
pub(super) fn partition(
    merged: Vec<Value>,
    by: &[Value],
    key: Option<&str>,
) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut named = Vec::new();
    let mut others = Vec::new();
    for item in merged {
        if let Some(key) = key {
            if !item.is_object() {
                return Err(bad_arg_type("map[string]interface {}", &item));
            }
            let value = item.get(key).ok_or_else(|| no_merge_key(&item, key))?;
            if let Some(position) = by.iter().position(|b| !b.is_object()) {
                return Err(Error::Inapplicable(format!(
                    "value for key {position} is not a map"
                )));
            }
            if by.iter().any(|b| b.get(key) == Some(value)) {
                named.push(item);
            } else {
                others.push(item);
            }
        } else if by.contains(&item) {
            named.push(item);
        } else {
            others.push(item);
        }
    }
    Ok((named, others))
}

/// `patch_items` in `patch_order`, `server_only` in `server_order`, then
/// the two interleaved.
pub(super) fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, Error> {
    let patch_items = normalize_slice_order(patch_items, patch_order, key)?;
    let server_only = normalize_slice_order(server_only, server_order, key)?;
    Ok(merge_sorted(server_only, patch_items, server_order, key))
}

/// `items` sorted (stably) by their place in `order` (upstream's
/// `normalizeSliceOrder`); for maps, every item must have the merge key
/// and `$patch: delete` items go last.
pub fn normalize_slice_order(
    items: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, Error> {
    if let Some(key) = key {
        for item in items.iter().chain(order) {
            if !item.is_object() {
                return Err(bad_arg_type("map[string]interface {}", item));
            }
            if item.get(key).is_none() {
                return Err(no_merge_key(item, key));
            }
        }
    }
    let (mut kept, deleted): (Vec<Value>, Vec<Value>) = items
        .into_iter()
        .partition(|item| key.is_none() || item.get(PATCH) != Some(&"delete".into()));
    kept.sort_by_key(|item| index(order, item, key).unwrap_or(usize::MAX));
    kept.extend(deleted);
    Ok(kept)
}

/// Inserts the server-only items (`left`) among the patch items (`right`):
/// a server-only item goes first while the server's order puts it before
/// the next patch item.
fn merge_sorted(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    let before =
        |l: &Value, r: &Value| match (index(server_order, l, key), index(server_order, r, key)) {
            (Some(li), Some(ri)) => li < ri,
            _ => false,
        };
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => before(l, r),
        };
        out.extend(if take_left { left.next() } else { right.next() });
    }
    out
}

/// Drops repeated scalars the way upstream does (`deduplicateScalars`): a
/// repeat is overwritten by the last item, so the order can change.
pub fn dedupe_scalars(mut items: Vec<Value>) -> Vec<Value> {
    let mut last = items.len().saturating_sub(1);
    let mut i = 0;
    while i < last {
        let mut j = i + 1;
        while j <= last {
            if items[i] == items[j] {
                items[j] = items[last].clone();
                items.truncate(last);
                last -= 1;
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    items
}

/// Checks that the items of the patch list come in the order of
/// `$setElementOrder` (deleted items and `$patch` items aside).
pub(super) fn validate_patch_order(
    patch: Option<&[Value]>,
    order: &[Value],
    key: Option<&str>,
) -> Result<(), Error> {
    let patch = patch.unwrap_or_default();
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let mut items = Vec::with_capacity(patch.len());
    for item in patch {
        if key.is_some() && !item.is_object() {
            return Err(bad_arg_type("map[string]interface {}", item));
        }
        if key.is_none() || item.get(PATCH) != Some(&"delete".into()) {
            items.push(item);
        }
    }
    let (mut p, mut o) = (0, 0);
    while p < items.len() && o < order.len() {
        if items[p].get(PATCH).is_some() {
            p += 1;
            continue;
        }
        if same_item(items[p], &order[o], key)? {
            p += 1;
        }
        o += 1;
    }
    if p < items.len() {
        return Err(Error::Inapplicable(format!(
            "The order in patch list:\n{}\n doesn't match $setElementOrder list:\n{}\n",
            go_format(&Value::Array(patch.to_vec())),
            go_format(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

/// upstream's `mergeKeyValueEqual`.
fn same_item(left: &Value, right: &Value, key: Option<&str>) -> Result<bool, Error> {
    let Some(key) = key else {
        return Ok(left == right);
    };
    for item in [left, right] {
        if !item.is_object() {
            return Err(bad_arg_type("map[string]interface {}", item));
        }
    }
    let l = left.get(key).ok_or_else(|| no_merge_key(left, key))?;
    let r = right.get(key).ok_or_else(|| no_merge_key(right, key))?;
    Ok(l == r)
}
