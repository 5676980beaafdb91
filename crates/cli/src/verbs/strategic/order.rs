//! The order of items in the lists of a computed patch, as upstream puts
//! them (`normalizeSliceOrder`, `normalizeElementOrder`,
//! `mergeSortedSlice`, `deduplicateScalars`): kubectl's patches are
//! compared byte for byte in tests, so the order is part of the contract.
//!
//! `key` is the merge key for lists of maps, `None` for lists of scalars.

use serde_json::Value;

use super::{Error, PATCH, merge_key_value};

/// What identifies an item: its merge key's value, or the item itself.
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

fn is_delete(item: &Value) -> bool {
    item.get(PATCH).and_then(Value::as_str) == Some("delete")
}

/// `items` sorted (stably) by their place in `order`; for maps, every item
/// must have the merge key and `$patch: delete` items go last.
pub(super) fn normalize_slice_order(
    items: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, Error> {
    let Some(merge_key) = key else {
        return Ok(sort_by_index(items, order, None));
    };
    for item in items.iter().chain(order) {
        if !item.is_object() {
            return Err(Error::Invalid(format!(
                "expected a map, but received {item}"
            )));
        }
        merge_key_value(item, merge_key)?;
    }
    let (kept, deleted): (Vec<Value>, Vec<Value>) = items.into_iter().partition(|i| !is_delete(i));
    let mut sorted = sort_by_index(kept, order, key);
    sorted.extend(deleted);
    Ok(sorted)
}

fn sort_by_index(mut items: Vec<Value>, order: &[Value], key: Option<&str>) -> Vec<Value> {
    items.sort_by_key(|item| index(order, item, key).unwrap_or(usize::MAX));
    items
}

/// Splits `merged` into the items `by` names and the others.
pub(super) fn partition(
    merged: Vec<Value>,
    by: &[Value],
    key: Option<&str>,
) -> Result<(Vec<Value>, Vec<Value>), Error> {
    if let Some(merge_key) = key {
        for item in &merged {
            merge_key_value(item, merge_key)?;
        }
    }
    Ok(merged
        .into_iter()
        .partition(|item| index(by, item, key).is_some()))
}

/// `patch_items` in `patch_order` and `server_only` in `server_order`,
/// then interleaved by the server's order.
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

/// Inserts `left` into `right`: a left item goes first only when the
/// server's order knows both and puts it before.
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
    let (mut left, mut right) = (left.into_iter().peekable(), right.into_iter().peekable());
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

/// Drops repeated scalars the way upstream does: a repeat is overwritten
/// by the last item, so the order can change.
pub(super) fn dedupe_scalars(mut items: Vec<Value>) -> Vec<Value> {
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
