//! The two-way diff behind the three-way patch (upstream's `diffMaps` and
//! `diffLists`): the patch from one object to another, keeping only the
//! additions and changes (delta) or only the deletions.

use keelson_api::strategic_merge::{self, Shape, dedupe_scalars};
use serde_json::{Map, Value, json};

use super::{
    DELETE_FROM_PRIMITIVE_LIST, Error, Kind, PATCH, RETAIN_KEYS, SET_ELEMENT_ORDER, element_kind,
    go_text, kind, merge_key_value,
};

/// What a diff keeps (upstream's `DiffOptions`).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Options {
    /// Whether merged lists that change get `$setElementOrder`.
    set_element_order: bool,
    /// Only deletions.
    ignore_changes_and_additions: bool,
    /// Only additions and changes.
    ignore_deletions: bool,
    /// Whether the map being diffed lists its keys in `$retainKeys`.
    retain_keys: bool,
}

impl Options {
    /// From the live object to the file, without deletions.
    pub(super) const DELTA: Options = Options {
        set_element_order: true,
        ignore_changes_and_additions: false,
        ignore_deletions: true,
        retain_keys: false,
    };
    /// From the last applied configuration to the file, deletions only.
    pub(super) const DELETIONS: Options = Options {
        set_element_order: true,
        ignore_changes_and_additions: true,
        ignore_deletions: false,
        retain_keys: false,
    };

    fn additions(self) -> bool {
        !self.ignore_changes_and_additions
    }

    fn deletions(self) -> bool {
        !self.ignore_deletions
    }
}

/// The patch from `original` to `modified`, maps of shape `shape`.
pub(super) fn diff_maps(
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
    shape: &Shape,
    options: Options,
) -> Result<Map<String, Value>, Error> {
    let mut patch = Map::new();
    let mut retained = Vec::new();
    for (key, wanted) in modified {
        if options.retain_keys && !wanted.is_null() {
            retained.push(key.clone());
        }
        let Some(before) = original.get(key) else {
            if options.additions() {
                patch.insert(key.clone(), wanted.clone());
            }
            continue;
        };
        if key == PATCH {
            diff_directive(before, wanted, &mut patch)?;
            continue;
        }
        if kind(before) != kind(wanted) {
            if options.additions() {
                patch.insert(key.clone(), wanted.clone());
            }
            continue;
        }
        match (before, wanted) {
            (Value::Object(before), Value::Object(wanted)) => {
                let child = Options {
                    retain_keys: shape.retains_keys(key),
                    ..options
                };
                let inner = diff_maps(before, wanted, &shape.field(key), child)?;
                if !inner.is_empty() {
                    patch.insert(key.clone(), Value::Object(inner));
                }
            }
            (Value::Array(before), Value::Array(wanted)) => {
                diff_list_field(key, before, wanted, &mut patch, shape, options)?;
            }
            _ => replace_if_changed(key, before, wanted, &mut patch, options),
        }
    }
    if options.deletions() {
        for key in original.keys().filter(|key| !modified.contains_key(*key)) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    if !retained.is_empty() && (!patch.is_empty() || has_additional_field(original, modified)) {
        retained.sort();
        patch.insert(RETAIN_KEYS.into(), json!(retained));
    }
    Ok(patch)
}

/// A `$patch` in both maps (only a file with directives has one).
fn diff_directive(
    before: &Value,
    wanted: &Value,
    patch: &mut Map<String, Value>,
) -> Result<(), Error> {
    match (before, wanted) {
        (Value::String(before), Value::String(now)) => {
            if before != now {
                patch.insert(PATCH.into(), wanted.clone());
            }
            Ok(())
        }
        _ => Err(Error::Invalid(format!(
            "invalid value for special key: {PATCH}"
        ))),
    }
}

fn replace_if_changed(
    key: &str,
    before: &Value,
    wanted: &Value,
    patch: &mut Map<String, Value>,
    options: Options,
) {
    if options.additions() && before != wanted {
        patch.insert(key.to_string(), wanted.clone());
    }
}

/// Whether `original` has a non-null field that `modified` lacks.
fn has_additional_field(original: &Map<String, Value>, modified: &Map<String, Value>) -> bool {
    original
        .iter()
        .any(|(key, value)| !value.is_null() && !modified.contains_key(key))
}

/// The patch of one list field: merged lists by item, with their
/// directive lists beside them; other lists whole.
fn diff_list_field(
    key: &str,
    before: &[Value],
    wanted: &[Value],
    patch: &mut Map<String, Value>,
    shape: &Shape,
    options: Options,
) -> Result<(), Error> {
    let list = shape.list(key);
    if !list.merges {
        replace_if_changed(key, &json!(before), &json!(wanted), patch, options);
        return Ok(());
    }
    let options = Options {
        retain_keys: list.retains_keys,
        ..options
    };
    let diff = diff_lists(before, wanted, &list.item, list.merge_key, options)?;
    if !diff.changes.is_empty() {
        patch.insert(key.to_string(), Value::Array(diff.changes));
    }
    if !diff.deleted_scalars.is_empty() {
        let directive = format!("{DELETE_FROM_PRIMITIVE_LIST}/{key}");
        patch.insert(directive, Value::Array(diff.deleted_scalars));
    }
    if !diff.order.is_empty() {
        patch.insert(
            format!("{SET_ELEMENT_ORDER}/{key}"),
            Value::Array(diff.order),
        );
    }
    Ok(())
}

/// The patch of a merged list.
#[derive(Debug, Default)]
struct ListDiff {
    /// Changed and added items (maps: with `$patch: delete` items last).
    changes: Vec<Value>,
    /// Scalars to delete (`$deleteFromPrimitiveList`).
    deleted_scalars: Vec<Value>,
    /// `$setElementOrder` (empty: none).
    order: Vec<Value>,
}

fn diff_lists(
    before: &[Value],
    wanted: &[Value],
    item: &Shape,
    merge_key: Option<&str>,
    options: Options,
) -> Result<ListDiff, Error> {
    if before.is_empty() {
        if wanted.is_empty() || !options.additions() {
            return Ok(ListDiff::default());
        }
        return Ok(ListDiff {
            changes: wanted.to_vec(),
            ..ListDiff::default()
        });
    }
    if element_kind(&[before, wanted])? == Some(Kind::Map) {
        diff_lists_of_maps(before, wanted, item, merge_key.unwrap_or(""), options)
    } else {
        diff_lists_of_scalars(before, wanted, options)
    }
}

fn diff_lists_of_maps(
    before: &[Value],
    wanted: &[Value],
    item: &Shape,
    key: &str,
    options: Options,
) -> Result<ListDiff, Error> {
    let before_sorted = sorted_by_key(before, key)?;
    let wanted_sorted = sorted_by_key(wanted, key)?;
    let (mut changes, mut deletions) = (Vec::new(), Vec::new());
    let (mut b, mut w) = (
        before_sorted.iter().peekable(),
        wanted_sorted.iter().peekable(),
    );
    loop {
        let step = match (b.peek(), w.peek()) {
            (None, None) => break,
            (Some(_), None) => Step::Deleted,
            (None, Some(_)) => Step::Added,
            (Some((bk, _)), Some((wk, _))) if bk == wk => Step::Both,
            (Some((bk, _)), Some((wk, _))) if bk > wk => Step::Added,
            _ => Step::Deleted,
        };
        match step {
            Step::Both => {
                let ((_, old), (_, new)) = (b.next().expect("peeked"), w.next().expect("peeked"));
                let (old_map, new_map) = (as_map(old), as_map(new));
                let mut inner = diff_maps(old_map, new_map, item, options)?;
                if !inner.is_empty() {
                    inner.insert(key.to_string(), merge_key_value(new, key)?.clone());
                    changes.push(Value::Object(inner));
                }
            }
            Step::Added => {
                let (_, new) = w.next().expect("peeked");
                if options.additions() {
                    changes.push((*new).clone());
                }
            }
            Step::Deleted => {
                let (_, old) = b.next().expect("peeked");
                if options.deletions() {
                    let value = merge_key_value(old, key)?.clone();
                    deletions.push(json!({ key: value, PATCH: "delete" }));
                }
            }
        }
    }
    let mut changes = normalize_slice_order(changes, wanted, Some(key))?;
    let order_same = before.len() == wanted.len()
        && before
            .iter()
            .zip(wanted)
            .all(|(b, w)| b.get(key) == w.get(key));
    changes.extend(deletions);
    let wants_order = (options.additions() && (!changes.is_empty() || !order_same))
        || (options.deletions() && !changes.is_empty());
    let order = if options.set_element_order && wants_order {
        wanted
            .iter()
            .map(|item| Ok(json!({ key: merge_key_value(item, key)? })))
            .collect::<Result<_, Error>>()?
    } else {
        Vec::new()
    };
    Ok(ListDiff {
        changes,
        order,
        ..ListDiff::default()
    })
}

/// Which side of a sorted walk over two lists moves.
enum Step {
    Both,
    Added,
    Deleted,
}

/// The items with the `%v` text of their merge key, sorted by it.
fn sorted_by_key<'v>(items: &'v [Value], key: &str) -> Result<Vec<(String, &'v Value)>, Error> {
    let mut keyed = items
        .iter()
        .map(|item| Ok((go_text(merge_key_value(item, key)?), item)))
        .collect::<Result<Vec<_>, Error>>()?;
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(keyed)
}

fn as_map(value: &Value) -> &Map<String, Value> {
    value
        .as_object()
        .expect("element_kind found only maps in this list")
}

fn diff_lists_of_scalars(
    before: &[Value],
    wanted: &[Value],
    options: Options,
) -> Result<ListDiff, Error> {
    let sorted = |items: &[Value]| {
        let mut items: Vec<(String, Value)> =
            items.iter().map(|v| (go_text(v), v.clone())).collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items
    };
    let (before_sorted, wanted_sorted) = (sorted(before), sorted(wanted));
    let (mut added, mut deleted) = (Vec::new(), Vec::new());
    let (mut b, mut w) = (
        before_sorted.iter().peekable(),
        wanted_sorted.iter().peekable(),
    );
    loop {
        match (b.peek(), w.peek()) {
            (None, None) => break,
            (Some((bt, _)), Some((wt, _))) if bt == wt => {
                b.next();
                w.next();
            }
            (None, Some(_)) => push_if(&mut added, w.next(), options.additions()),
            (Some((bt, _)), Some((wt, _))) if bt > wt => {
                push_if(&mut added, w.next(), options.additions())
            }
            _ => push_if(&mut deleted, b.next(), options.deletions()),
        }
    }
    let added = normalize_slice_order(added, wanted, None)?;
    // Upstream sorts the original list in place before comparing it with
    // the file's, so an unsorted list always gets its order sent.
    let sorted_before: Vec<&Value> = before_sorted.iter().map(|(_, v)| v).collect();
    let reordered = sorted_before.len() != wanted.len()
        || sorted_before.iter().zip(wanted).any(|(b, w)| *b != w);
    let deleted = dedupe_scalars(deleted);
    let wants_order =
        (options.deletions() && !deleted.is_empty()) || (options.additions() && reordered);
    Ok(ListDiff {
        changes: added,
        deleted_scalars: deleted,
        order: if options.set_element_order && wants_order {
            wanted.to_vec()
        } else {
            Vec::new()
        },
    })
}

fn push_if(list: &mut Vec<Value>, item: Option<&(String, Value)>, keep: bool) {
    if let (true, Some((_, value))) = (keep, item) {
        list.push(value.clone());
    }
}

/// `items` sorted by their place in `order`, with the server's ordering;
/// the items are checked first so that a missing merge key is reported as
/// kubectl reports it.
fn normalize_slice_order(
    items: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, Error> {
    if let Some(key) = key {
        for item in items.iter().chain(order) {
            if !item.is_object() {
                return Err(Error::Invalid(format!(
                    "expected a map, but received {item}"
                )));
            }
            merge_key_value(item, key)?;
        }
    }
    Ok(strategic_merge::normalize_slice_order(items, order, key)?)
}
