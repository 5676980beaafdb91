//! Objects seen through their OpenAPI schema, as structured-merge-diff sees
//! them: which fields merge granularly (structs, maps, `set` and `map`
//! lists) and which are replaced whole (scalars, `atomic` lists, maps and
//! structs marked `x-kubernetes-map-type: atomic`). On that view: the field
//! set of a value, the merge of an applied configuration into a live
//! object, the comparison of two objects, and removing a set of fields.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::fieldset::FieldSet;
use crate::schema::{Schemas, Shape};

/// The schema of values the schemas do not describe: replaced whole.
static UNKNOWN: Value = Value::Null;

/// How a value of some schema merges.
pub enum Kind<'a> {
    /// Replaced as a whole.
    Atomic,
    /// An object with declared fields, merged field by field.
    Struct(&'a Map<String, Value>),
    /// A map from any key to values of one schema, merged key by key.
    Map(&'a Value),
    /// A list of unique scalars, merged as a set.
    Set,
    /// A list of objects identified by their map keys, merged item by item.
    ListMap {
        items: &'a Value,
        keys: Vec<&'a str>,
    },
}

/// How values of `schema` merge.
pub fn kind<'a>(schemas: &'a Schemas, schema: &'a Value) -> Kind<'a> {
    let resolved = schemas.resolved(schema);
    let extension = |name: &str| {
        schema
            .get(name)
            .or_else(|| resolved.get(name))
            .and_then(Value::as_str)
    };
    let atomic_map = extension("x-kubernetes-map-type") == Some("atomic");
    match schemas.shape(schema) {
        Shape::Struct(fields) if !atomic_map => Kind::Struct(fields),
        Shape::Map(values) if !atomic_map => Kind::Map(values),
        Shape::List(items) => match extension("x-kubernetes-list-type") {
            Some("set") => Kind::Set,
            Some("map") => {
                let keys = schema
                    .get("x-kubernetes-list-map-keys")
                    .or_else(|| resolved.get("x-kubernetes-list-map-keys"))
                    .and_then(Value::as_array)
                    .map(|keys| keys.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                Kind::ListMap { items, keys }
            }
            _ => Kind::Atomic,
        },
        _ => Kind::Atomic,
    }
}

/// The schema of field `name` of a struct or map (`UNKNOWN` if undeclared).
fn child_schema<'a>(kind: &Kind<'a>, name: &str) -> &'a Value {
    match kind {
        Kind::Struct(fields) => fields.get(name).unwrap_or(&UNKNOWN),
        Kind::Map(values) => values,
        _ => &UNKNOWN,
    }
}

/// The `FieldsV1` key of a list-map item: its key fields, sorted by name
/// as upstream sorts them. A key field the item leaves out takes its
/// schema default (`protocol` of ports defaults to `TCP` upstream).
pub fn list_map_key(schemas: &Schemas, items: &Value, keys: &[&str], item: &Value) -> String {
    let mut names: Vec<&str> = keys.to_vec();
    names.sort_unstable();
    let fields = match schemas.shape(items) {
        Shape::Struct(fields) => Some(fields),
        _ => None,
    };
    let mut parts = Vec::new();
    for name in names {
        let value = item.get(name).cloned().or_else(|| {
            let declared = fields.and_then(|f| f.get(name))?;
            let default = schemas.resolved(declared).get("default").cloned();
            default.or_else(|| (name == "protocol").then(|| Value::from("TCP")))
        });
        if let Some(value) = value {
            parts.push(format!("{}:{value}", Value::from(name)));
        }
    }
    format!("k:{{{}}}", parts.join(","))
}

/// The `FieldsV1` key of a list item, for lists merged by item.
fn item_key(schemas: &Schemas, kind: &Kind<'_>, item: &Value) -> Option<String> {
    match kind {
        Kind::Set => Some(format!("v:{item}")),
        Kind::ListMap { items, keys } => Some(list_map_key(schemas, items, keys, item)),
        _ => None,
    }
}

/// The schema of the items of a list merged by item.
fn item_schema<'a>(kind: &Kind<'a>) -> &'a Value {
    match kind {
        Kind::ListMap { items, .. } => items,
        _ => &UNKNOWN,
    }
}

/// The fields `value` sets, as upstream's `ToFieldSet`: leaves, atomic
/// values, map entries and list items are members; a declared struct field
/// holding a non-empty object is not (its fields are).
pub fn field_set(schemas: &Schemas, schema: &Value, value: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    let kind = kind(schemas, schema);
    match (&kind, value) {
        (Kind::Struct(fields), Value::Object(object)) => {
            for (name, field) in object {
                let mut child = match fields.get(name.as_str()) {
                    Some(schema) => field_set(schemas, schema, field),
                    None => FieldSet::new(),
                };
                if child.is_empty() {
                    child.mark();
                }
                set.add_child(format!("f:{name}"), child);
            }
            if object.is_empty() {
                set.mark();
            }
        }
        (Kind::Map(values), Value::Object(object)) => {
            for (name, entry) in object {
                let mut child = field_set(schemas, values, entry);
                child.mark();
                set.add_child(format!("f:{name}"), child);
            }
            if object.is_empty() {
                set.mark();
            }
        }
        (Kind::Set | Kind::ListMap { .. }, Value::Array(items)) => {
            for item in items {
                let key = item_key(schemas, &kind, item).expect("lists merged by item have keys");
                let mut child = field_set(schemas, item_schema(&kind), item);
                if matches!(kind, Kind::Set) {
                    child = FieldSet::new();
                }
                child.mark();
                set.add_child(key, child);
            }
        }
        _ => set.mark(),
    }
    set
}

/// `applied` merged into `live` (absent: `None`): granular fields merge,
/// atomic ones are replaced; a `null` in `applied` removes the field.
pub fn merge(schemas: &Schemas, schema: &Value, live: Option<&Value>, applied: &Value) -> Value {
    let kind = kind(schemas, schema);
    match (&kind, live, applied) {
        (Kind::Struct(_) | Kind::Map(_), Some(Value::Object(live)), Value::Object(applied)) => {
            let mut out = live.clone();
            for (name, value) in applied {
                let merged = merge(
                    schemas,
                    child_schema(&kind, name),
                    live.get(name.as_str()),
                    value,
                );
                if merged.is_null() {
                    out.remove(name.as_str());
                } else {
                    out.insert(name.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (Kind::Struct(_) | Kind::Map(_), _, Value::Object(applied)) => {
            let mut out = Map::new();
            for (name, value) in applied {
                let merged = merge(schemas, child_schema(&kind, name), None, value);
                if !merged.is_null() {
                    out.insert(name.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (Kind::Set | Kind::ListMap { .. }, Some(Value::Array(live)), Value::Array(applied)) => {
            Value::Array(merge_items(schemas, &kind, live, applied))
        }
        _ => applied.clone(),
    }
}

/// Merges list items as structured-merge-diff orders them: live items the
/// configuration does not name keep their places, items it names follow
/// its order, and merged items take the configuration's fields.
fn merge_items(
    schemas: &Schemas,
    kind: &Kind<'_>,
    live: &[Value],
    applied: &[Value],
) -> Vec<Value> {
    let key = |item: &Value| item_key(schemas, kind, item).unwrap_or_default();
    let live_keys: Vec<String> = live.iter().map(key).collect();
    let applied_keys: Vec<String> = applied.iter().map(key).collect();
    let in_applied: HashSet<&str> = applied_keys.iter().map(String::as_str).collect();
    let in_live: HashSet<&str> = live_keys.iter().map(String::as_str).collect();
    let mut shared = applied_keys
        .iter()
        .filter(|k| in_live.contains(k.as_str()))
        .peekable();
    let merge_one = |live_item: Option<&Value>, item: &Value| match kind {
        Kind::Set => item.clone(),
        _ => merge(schemas, item_schema(kind), live_item, item),
    };
    let live_item = |k: &str| live_keys.iter().position(|l| l == k).map(|i| &live[i]);
    let mut merged: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(live.len().max(applied.len()));
    let (mut l, mut r) = (0, 0);
    while l < live.len() || r < applied.len() {
        if l < live.len() && r < applied.len() {
            if live_keys[l] == applied_keys[r] {
                out.push(merge_one(Some(&live[l]), &applied[r]));
                merged.insert(&applied_keys[r]);
                if shared.peek() == Some(&&applied_keys[r]) {
                    shared.next();
                }
                l += 1;
                r += 1;
                continue;
            }
            if in_applied.contains(live_keys[l].as_str())
                && shared.peek().is_some_and(|next| **next != live_keys[l])
            {
                l += 1;
                continue;
            }
        }
        if l < live.len() {
            if !in_applied.contains(live_keys[l].as_str()) {
                out.push(live[l].clone());
                l += 1;
                continue;
            }
            if merged.contains(live_keys[l].as_str()) {
                l += 1;
                continue;
            }
        }
        if r < applied.len() {
            let k = &applied_keys[r];
            if merged.insert(k) {
                out.push(merge_one(live_item(k), &applied[r]));
            }
            if shared.peek() == Some(&k) {
                shared.next();
            }
            r += 1;
        }
    }
    out
}

/// What changed from `old` to `new`: the fields added or modified, and the
/// fields removed, as upstream's `Compare` (an added map, list item or
/// leaf is a member itself; an added struct only through its fields).
pub fn compare(
    schemas: &Schemas,
    schema: &Value,
    old: Option<&Value>,
    new: Option<&Value>,
) -> (FieldSet, FieldSet) {
    let mut changed = FieldSet::new();
    let mut removed = FieldSet::new();
    if old == new {
        return (changed, removed);
    }
    let kind = kind(schemas, schema);
    let object = |v: Option<&Value>| matches!(v, None | Some(Value::Object(_)));
    let array = |v: Option<&Value>| matches!(v, None | Some(Value::Array(_)));
    match &kind {
        Kind::Struct(_) | Kind::Map(_) if object(old) && object(new) => {
            let empty = Map::new();
            let before = old.and_then(Value::as_object).unwrap_or(&empty);
            let after = new.and_then(Value::as_object).unwrap_or(&empty);
            let names: std::collections::BTreeSet<&String> =
                before.keys().chain(after.keys()).collect();
            for name in names {
                let (c, r) = compare(
                    schemas,
                    child_schema(&kind, name),
                    before.get(name.as_str()),
                    after.get(name.as_str()),
                );
                changed.add_child(format!("f:{name}"), c);
                removed.add_child(format!("f:{name}"), r);
            }
            let whole = matches!(kind, Kind::Map(_));
            if old.is_none() && (whole || after.is_empty()) {
                changed.mark();
            }
            if new.is_none() {
                removed.mark();
            }
        }
        Kind::Set | Kind::ListMap { .. } if array(old) && array(new) => {
            let items = |v: Option<&Value>| -> Vec<(String, Value)> {
                v.and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|item| {
                        (
                            item_key(schemas, &kind, item).unwrap_or_default(),
                            item.clone(),
                        )
                    })
                    .collect()
            };
            let (before, after) = (items(old), items(new));
            let find = |list: &[(String, Value)], k: &str| {
                list.iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
            };
            let mut keys: Vec<&String> = after.iter().map(|(k, _)| k).collect();
            keys.extend(before.iter().map(|(k, _)| k));
            for k in keys {
                let (o, n) = (find(&before, k), find(&after, k));
                let (mut c, mut r) = compare(schemas, item_schema(&kind), o.as_ref(), n.as_ref());
                if o.is_none() {
                    c.mark();
                }
                if n.is_none() {
                    r.mark();
                }
                changed.add_child(k.clone(), c);
                removed.add_child(k.clone(), r);
            }
            if new.is_none() {
                removed.mark();
            }
        }
        _ => match (old, new) {
            (_, None) => removed.mark(),
            _ => changed.mark(),
        },
    }
    (changed, removed)
}

/// Removes from `value` every member of `set` (with what lies below it).
pub fn remove(schemas: &Schemas, schema: &Value, value: &mut Value, set: &FieldSet) {
    let kind = kind(schemas, schema);
    match (&kind, value) {
        (Kind::Struct(_) | Kind::Map(_), Value::Object(object)) => {
            for (key, child) in set.children() {
                let Some(name) = key.strip_prefix("f:") else {
                    continue;
                };
                if child.is_member() {
                    object.remove(name);
                } else if let Some(field) = object.get_mut(name) {
                    remove(schemas, child_schema(&kind, name), field, child);
                }
            }
        }
        (Kind::Set | Kind::ListMap { .. }, Value::Array(items)) => {
            items.retain(|item| {
                let key = item_key(schemas, &kind, item).unwrap_or_default();
                !set.child(&key).is_some_and(FieldSet::is_member)
            });
            for item in items.iter_mut() {
                let key = item_key(schemas, &kind, item).unwrap_or_default();
                if let Some(child) = set.child(&key) {
                    remove(schemas, item_schema(&kind), item, child);
                }
            }
        }
        _ => {}
    }
}
