//! `metadata.managedFields`: which manager set which fields, kept on every
//! write. Field sets use the `FieldsV1` form (`f:name` for a field, `k:{..}`
//! for a list item by its list-map keys, `v:..` for a set member, `.` for
//! the item itself), computed along the kind's OpenAPI schema so that lists
//! are keyed as the schema says.
//!
//! An Update by a manager takes the fields it changed (and keeps the ones it
//! had); those fields, and any it removed, leave every other manager's set.

use keelson_api::registry::ResourceInfo;
use serde_json::{Map, Value, json};

use crate::meta::set_meta;
use crate::schema::{Schemas, Shape};

/// A field set in `FieldsV1` form.
type Set = Map<String, Value>;

/// Metadata fields the system owns, never a manager.
const SYSTEM_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// Who writes, and through which endpoint.
pub struct Writer<'a> {
    pub manager: &'a str,
    /// `Some("status")` for the status subresource.
    pub subresource: Option<&'a str>,
}

/// Records an Update by `writer` that turned `old` (None for a create)
/// into `new`, in `new`'s managedFields.
pub fn record_update(
    resource: &ResourceInfo,
    writer: &Writer<'_>,
    old: Option<&Value>,
    new: &mut Value,
) {
    let Some((schemas, root)) = Schemas::of(resource) else {
        return;
    };
    let has_status = resource.subresource("status").is_some();
    let view = |object: &Value| owned_part(object, writer.subresource, has_status);
    let new_view = view(new);
    let (changed, removed) = match old {
        Some(old) => {
            let old_view = view(old);
            let changed = diff(&schemas, root, &old_view, &new_view);
            let removed = subtract(
                field_set(&schemas, root, &old_view),
                &field_set(&schemas, root, &new_view),
            );
            (changed, removed)
        }
        None => (field_set(&schemas, root, &new_view), Set::new()),
    };
    let mut entries: Vec<Value> = match old {
        Some(old) => old
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        None => Vec::new(),
    };
    if changed.is_empty() && removed.is_empty() && old.is_some() {
        set_meta(
            new,
            "managedFields",
            (!entries.is_empty()).then(|| Value::from(entries)),
        );
        return;
    }
    let mine = |entry: &Value| {
        entry["manager"] == writer.manager
            && entry["operation"] == "Update"
            && entry.get("subresource").and_then(Value::as_str) == writer.subresource
    };
    let mut own = Set::new();
    for entry in &mut entries {
        let set = entry
            .get("fieldsV1")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if mine(entry) {
            own = set;
            continue;
        }
        let set = subtract(subtract(set, &changed), &removed);
        entry["fieldsV1"] = Value::Object(set);
    }
    entries.retain(|entry| {
        !mine(entry) && entry["fieldsV1"].as_object().is_some_and(|s| !s.is_empty())
    });
    let own = subtract(union(own, &changed), &removed);
    if !own.is_empty() {
        let mut entry = json!({
            "manager": writer.manager,
            "operation": "Update",
            "apiVersion": resource.api_version(),
            "time": crate::meta::now_timestamp(),
            "fieldsType": "FieldsV1",
            "fieldsV1": own,
        });
        if let Some(sub) = writer.subresource {
            entry["subresource"] = Value::from(sub);
        }
        entries.push(entry);
    }
    set_meta(
        new,
        "managedFields",
        (!entries.is_empty()).then(|| Value::from(entries)),
    );
}

/// The part of an object managers can own through an endpoint.
fn owned_part(object: &Value, subresource: Option<&str>, has_status: bool) -> Value {
    let mut copy = object.clone();
    let Some(map) = copy.as_object_mut() else {
        return copy;
    };
    map.remove("apiVersion");
    map.remove("kind");
    match subresource {
        Some("status") => map.retain(|k, _| k == "status"),
        _ if has_status => {
            map.remove("status");
        }
        _ => {}
    }
    if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
        metadata.retain(|k, _| !SYSTEM_METADATA.contains(&k.as_str()));
        if metadata.is_empty() {
            map.remove("metadata");
        }
    }
    copy
}

/// Every field set in `value`.
fn field_set(schemas: &Schemas, schema: &Value, value: &Value) -> Set {
    let mut set = Set::new();
    match (schemas.shape(schema), value) {
        (Shape::Struct(properties), Value::Object(fields)) => {
            for (name, field) in fields {
                let child = properties
                    .get(name)
                    .map_or(Set::new(), |s| field_set(schemas, s, field));
                set.insert(format!("f:{name}"), Value::Object(child));
            }
        }
        (Shape::Map(values), Value::Object(entries)) => {
            for (name, entry) in entries {
                set.insert(
                    format!("f:{name}"),
                    Value::Object(field_set(schemas, values, entry)),
                );
            }
        }
        (Shape::List(items), Value::Array(elements)) => {
            for element in elements {
                if let Some((key, child)) = list_item(schemas, schema, items, element) {
                    set.insert(key, Value::Object(child));
                }
            }
        }
        _ => {}
    }
    set
}

/// The set entry of one list element: by its map keys, or its value for a
/// set; `None` for atomic lists (owned as a whole by the parent field).
fn list_item(
    schemas: &Schemas,
    list: &Value,
    items: &Value,
    element: &Value,
) -> Option<(String, Set)> {
    let list = schemas.resolved(list);
    match list.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("map") => {
            let keys = list
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)?;
            let mut id = Map::new();
            for key in keys.iter().filter_map(Value::as_str) {
                if let Some(v) = element.get(key) {
                    id.insert(key.to_string(), v.clone());
                }
            }
            let mut child = field_set(schemas, items, element);
            child.insert(".".into(), json!({}));
            Some((format!("k:{}", Value::Object(id)), child))
        }
        Some("set") => Some((format!("v:{element}"), Set::new())),
        _ => None,
    }
}

/// The fields of `new` that are not in `old` or hold another value there.
fn diff(schemas: &Schemas, schema: &Value, old: &Value, new: &Value) -> Set {
    let mut set = Set::new();
    if old == new {
        return set;
    }
    match (schemas.shape(schema), old, new) {
        (Shape::Struct(_) | Shape::Map(_), Value::Object(before), Value::Object(after)) => {
            let child_schema = |name: &str| match schemas.shape(schema) {
                Shape::Struct(properties) => properties.get(name).cloned().unwrap_or(Value::Null),
                Shape::Map(values) => values.clone(),
                _ => Value::Null,
            };
            for (name, field) in after {
                let sub = child_schema(name);
                let child = match before.get(name) {
                    None => field_set(schemas, &sub, field),
                    Some(old_field) if old_field == field => continue,
                    Some(old_field) => diff(schemas, &sub, old_field, field),
                };
                set.insert(format!("f:{name}"), Value::Object(child));
            }
        }
        (Shape::List(items), Value::Array(before), Value::Array(after)) => {
            for element in after {
                let Some((key, whole)) = list_item(schemas, schema, items, element) else {
                    // Atomic list: the parent field is the change.
                    return Set::new();
                };
                let previous = before.iter().find(|old| {
                    list_item(schemas, schema, items, old).is_some_and(|(k, _)| k == key)
                });
                match previous {
                    Some(old) if old == element => {}
                    Some(old) => {
                        set.insert(key, Value::Object(diff(schemas, items, old, element)));
                    }
                    None => {
                        set.insert(key, Value::Object(whole));
                    }
                }
            }
        }
        _ => {}
    }
    set
}

/// `a` with every path of `b` in it.
fn union(mut a: Set, b: &Set) -> Set {
    for (key, value) in b {
        let merged = match (a.remove(key), value.as_object()) {
            (Some(Value::Object(existing)), Some(more)) => union(existing, more),
            (_, Some(more)) => more.clone(),
            (_, None) => Set::new(),
        };
        a.insert(key.clone(), Value::Object(merged));
    }
    a
}

/// `a` without the paths of `b`: a leaf in `b` removes that path (and what
/// lies under it) from `a`.
fn subtract(mut a: Set, b: &Set) -> Set {
    for (key, value) in b {
        let Some(Value::Object(existing)) = a.remove(key) else {
            continue;
        };
        let below = value.as_object().cloned().unwrap_or_default();
        if below.is_empty() {
            continue;
        }
        let rest = subtract(existing, &below);
        if !rest.is_empty() {
            a.insert(key.clone(), Value::Object(rest));
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployments() -> &'static ResourceInfo {
        keelson_api::registry::by_resource("apps", "deployments").expect("registered")
    }

    fn deployment(image: &str, replicas: i64) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "uid": "u", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "c", "image": image}]}}},
            "status": {"replicas": 1}
        })
    }

    fn entries(object: &Value) -> Vec<(String, Value)> {
        object["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["manager"].as_str().unwrap_or("").to_string(),
                    e["fieldsV1"].clone(),
                )
            })
            .collect()
    }

    #[test]
    fn a_create_owns_every_field_it_set_keyed_by_list_map_keys() {
        let mut object = deployment("nginx", 1);
        let writer = Writer {
            manager: "kubectl",
            subresource: None,
        };
        record_update(deployments(), &writer, None, &mut object);
        let all = entries(&object);
        assert_eq!(all.len(), 1);
        let set = &all[0].1;
        assert_eq!(set["f:metadata"], json!({"f:labels": {"f:app": {}}}));
        assert_eq!(
            set["f:spec"]["f:template"]["f:spec"]["f:containers"],
            json!({"k:{\"name\":\"c\"}": {".": {}, "f:name": {}, "f:image": {}}})
        );
        assert!(
            set.get("f:status").is_none(),
            "status belongs to the status subresource"
        );
    }

    #[test]
    fn an_update_moves_changed_fields_to_its_manager() {
        let mut old = deployment("nginx", 1);
        record_update(
            deployments(),
            &Writer {
                manager: "a",
                subresource: None,
            },
            None,
            &mut old,
        );
        let mut new = deployment("nginx", 3);
        new["metadata"]["managedFields"] = old["metadata"]["managedFields"].clone();
        record_update(
            deployments(),
            &Writer {
                manager: "b",
                subresource: None,
            },
            Some(&old),
            &mut new,
        );
        let all = entries(&new);
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[1].0, "b");
        assert_eq!(all[1].1, json!({"f:spec": {"f:replicas": {}}}));
        assert!(
            all[0].1["f:spec"].get("f:replicas").is_none(),
            "a lost spec.replicas"
        );
        assert!(
            all[0].1["f:spec"].get("f:template").is_some(),
            "a keeps the rest"
        );
    }

    #[test]
    fn status_writes_are_recorded_under_the_subresource() {
        let old = deployment("nginx", 1);
        let mut new = old.clone();
        new["status"]["replicas"] = json!(2);
        let writer = Writer {
            manager: "controller",
            subresource: Some("status"),
        };
        record_update(deployments(), &writer, Some(&old), &mut new);
        let entry = &new["metadata"]["managedFields"][0];
        assert_eq!(entry["subresource"], "status");
        assert_eq!(entry["fieldsV1"], json!({"f:status": {"f:replicas": {}}}));
    }
}
