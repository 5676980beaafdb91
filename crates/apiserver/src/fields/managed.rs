//! `metadata.managedFields`: which manager set which fields, kept on every
//! write. Field sets use the `FieldsV1` form (`f:name` for a field, `k:{..}`
//! for a list item by its list-map keys, `v:..` for a set member, `.` for
//! the item itself), computed along the kind's OpenAPI schema so that lists
//! are keyed as the schema says (see [`crate::fields::apply::typed`]).
//!
//! An Update by a manager takes the fields it added or changed (and keeps
//! the ones it had); those fields, and any it removed, leave every other
//! manager's set. Server-side apply keeps its own entries
//! ([`crate::fields::apply`]); both share the entry format and order here.

use keelson_api::registry::ResourceInfo;
use serde_json::{Value, json};

use crate::fields::apply::fieldset::FieldSet;
use crate::fields::apply::typed;
use crate::meta::set_meta;
use crate::schema::Schemas;

/// Metadata fields the system owns, never a manager.
pub(crate) const SYSTEM_METADATA: &[&str] = &[
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
/// into `new`. The entries it starts from are those `new` carries (the
/// caller puts the live object's there, or the client's own when it sent
/// some, as upstream lets clients rewrite managedFields).
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
    // A create compares with an empty object whose top-level structs
    // exist, as upstream compares with a new Go object.
    let old_view = match old {
        Some(old) => view(old),
        None => empty_like(&new_view),
    };
    let (changed, removed) = typed::compare(&schemas, root, Some(&old_view), Some(&new_view));
    let entries = new
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if changed.is_empty() && removed.is_empty() && old.is_some() {
        return;
    }
    let mine = |entry: &Value| {
        entry["manager"] == writer.manager
            && entry["operation"] == "Update"
            && entry.get("subresource").and_then(Value::as_str) == writer.subresource
    };
    let mut own = FieldSet::new();
    let mut kept = Vec::new();
    for mut entry in entries {
        let set = FieldSet::from_fields_v1(&entry["fieldsV1"]);
        if mine(&entry) {
            own = set;
            continue;
        }
        let set = set.difference(&changed).difference(&removed);
        if !set.is_empty() {
            entry["fieldsV1"] = set.to_fields_v1();
            kept.push(entry);
        }
    }
    let own = own.difference(&removed).union(&changed);
    if !own.is_empty() {
        let mut entry = json!({
            "manager": writer.manager,
            "operation": "Update",
            "apiVersion": resource.api_version(),
            "time": crate::meta::now_timestamp(),
            "fieldsType": "FieldsV1",
            "fieldsV1": own.to_fields_v1(),
        });
        if let Some(sub) = writer.subresource {
            entry["subresource"] = Value::from(sub);
        }
        kept.push(entry);
    }
    set_meta(new, "managedFields", encode(kept));
}

/// managedFields as stored: Apply entries first, then by time and
/// manager, as upstream sorts them; `None` when there are none.
pub(crate) fn encode(mut entries: Vec<Value>) -> Option<Value> {
    let text = |entry: &Value, field: &str| entry[field].as_str().unwrap_or("").to_string();
    entries.sort_by_key(|e| {
        (
            text(e, "operation"),
            text(e, "time"),
            text(e, "manager"),
            text(e, "subresource"),
        )
    });
    (!entries.is_empty()).then(|| Value::from(entries))
}

/// The managedFields a client sent, if it sent any: entries without a
/// manager or a field set are dropped (so `[{}]` clears them all, as
/// upstream documents); `None` when the client sent none.
pub(crate) fn given_by_client(object: &Value) -> Option<Value> {
    let entries = object.pointer("/metadata/managedFields")?.as_array()?;
    if entries.is_empty() {
        return None;
    }
    let kept: Vec<Value> = entries
        .iter()
        .filter(|e| e["manager"].is_string() && e["fieldsV1"].is_object())
        .cloned()
        .collect();
    Some(Value::from(kept))
}

/// An empty object with the top-level objects of `view` present but empty.
fn empty_like(view: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (key, value) in view.as_object().into_iter().flatten() {
        if value.is_object() {
            out.insert(key.clone(), json!({}));
        }
    }
    Value::Object(out)
}

/// The part of an object managers can own through an endpoint.
pub(crate) fn owned_part(object: &Value, subresource: Option<&str>, has_status: bool) -> Value {
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
        assert_eq!(
            set["f:metadata"],
            json!({"f:labels": {".": {}, "f:app": {}}}),
            "an added map is owned itself, as upstream records it"
        );
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
