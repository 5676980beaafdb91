//! Pruning: the fields of a custom resource that its schema does not
//! specify are dropped on every write, as upstream's pruning does.
//!
//! `x-kubernetes-preserve-unknown-fields` keeps the unknown fields of its
//! level and below, but the properties it lists are still pruned inside.
//! At the root and at `x-kubernetes-embedded-resource` levels,
//! `apiVersion` and `kind` (strings) and `metadata` (an object) belong to
//! the server, and `metadata` is cut down to the fields of an ObjectMeta.

use serde_json::{Map, Value};

use super::{Node, metadata};

/// The warning upstream gives for a pruned field (`unknown field
/// "spec.foo"`) with `fieldValidation=Warn`, and the error text with
/// `Strict`.
pub fn unknown_field_warning(path: &str) -> String {
    format!("unknown field {path:?}")
}

/// Prunes a whole object: the root is a resource.
pub(super) fn prune_root(object: &mut Value, root: &Node) -> Vec<String> {
    let mut pruner = Pruner::default();
    pruner.level(object, Some(root), true, "");
    pruner.pruned
}

/// Prunes `value` without recording what went; with `resource`, its
/// `apiVersion`, `kind` and `metadata` are the server's.
pub(super) fn prune_level(value: &mut Value, node: &Node, resource: bool) {
    Pruner::default().level(value, Some(node), resource, "");
}

#[derive(Default)]
struct Pruner {
    pruned: Vec<String>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl Pruner {
    /// Prunes `value` where the schema is `node` (`None`: nothing is known
    /// there, so every field goes).
    fn level(&mut self, value: &mut Value, node: Option<&Node>, resource: bool, path: &str) {
        let resource = resource || node.is_some_and(|n| n.embedded_resource);
        if let Some(node) = node
            && node.preserve_unknown_fields
        {
            self.preserve(value, node, resource, path);
            return;
        }
        match value {
            Value::Object(map) => self.object(map, node, resource, path),
            Value::Array(items) => {
                let item_schema = node.and_then(|n| n.items.as_deref());
                for (i, item) in items.iter_mut().enumerate() {
                    self.level(item, item_schema, false, &format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }

    fn object(
        &mut self,
        map: &mut Map<String, Value>,
        node: Option<&Node>,
        resource: bool,
        path: &str,
    ) {
        let Some(node) = node else {
            self.pruned.extend(map.keys().map(|key| join(path, key)));
            map.clear();
            return;
        };
        let mut gone = Vec::new();
        for (key, value) in map.iter_mut() {
            let key_path = join(path, key);
            if resource && self.server_field(key, value, &key_path) {
                continue;
            }
            if let Some(schema) = node.properties.get(key) {
                self.level(value, Some(schema), false, &key_path);
            } else if node.additional_properties.is_some() {
                // `additionalProperties: true` (or false, which validation
                // rejects) says nothing of what is inside the value.
                self.level(value, node.additional_schema(), false, &key_path);
            } else {
                gone.push(key.clone());
            }
        }
        for key in gone {
            map.remove(&key);
            self.pruned.push(join(path, &key));
        }
    }

    /// Under `x-kubernetes-preserve-unknown-fields`: unknown fields stay,
    /// what the schema does specify is pruned as usual, and items of a
    /// list keep their unknown fields too.
    fn preserve(&mut self, value: &mut Value, node: &Node, resource: bool, path: &str) {
        match value {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    let key_path = join(path, key);
                    if resource && self.server_field(key, value, &key_path) {
                        continue;
                    }
                    if let Some(schema) = node.properties.get(key) {
                        self.level(value, Some(schema), false, &key_path);
                    } else if node.additional_properties.is_some() {
                        self.level(value, node.additional_schema(), false, &key_path);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = node.items.as_deref() {
                    for (i, item) in items.iter_mut().enumerate() {
                        let embedded = item_schema.embedded_resource;
                        self.preserve(item, item_schema, embedded, &format!("{path}[{i}]"));
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether `key` of a resource is the server's to look after
    /// (`apiVersion` and `kind` as strings, `metadata` as an object, which
    /// is cut down to ObjectMeta here).
    fn server_field(&mut self, key: &str, value: &mut Value, path: &str) -> bool {
        match key {
            "apiVersion" | "kind" => value.is_string(),
            "metadata" => match value {
                Value::Object(meta) => {
                    self.pruned.extend(metadata::prune_object_meta(meta, path));
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::crd::schema::test_support::structural;

    fn schema() -> crate::crd::schema::Structural {
        structural(json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "replicas": {"type": "integer"},
                        "list": {"type": "array", "items": {
                            "type": "object", "properties": {"name": {"type": "string"}}}},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                            "properties": {"known": {"type": "object",
                                "properties": {"a": {"type": "string"}}}}},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                            "properties": {"spec": {"type": "object",
                                "properties": {"image": {"type": "string"}}}}}
                    }
                }
            }
        }))
    }

    #[test]
    fn drops_unknown_fields_and_reports_their_paths() {
        let cases = [
            (
                json!({"apiVersion": "v1", "kind": "K", "metadata": {"name": "a"}, "spec": {"replicas": 1}}),
                json!({"apiVersion": "v1", "kind": "K", "metadata": {"name": "a"}, "spec": {"replicas": 1}}),
                vec![],
            ),
            (
                json!({"spec": {"foo": 1, "replicas": 2}, "status": {}}),
                json!({"spec": {"replicas": 2}}),
                vec!["spec.foo", "status"],
            ),
            (
                json!({"spec": {"list": [{"name": "a", "x": 1}, {"y": true}]}}),
                json!({"spec": {"list": [{"name": "a"}, {}]}}),
                vec!["spec.list[0].x", "spec.list[1].y"],
            ),
            (
                json!({"spec": {"labels": {"a": "b", "c": "d"}}}),
                json!({"spec": {"labels": {"a": "b", "c": "d"}}}),
                vec![],
            ),
            (
                json!({"spec": {"free": {"anything": {"deep": 1}, "known": {"a": "x", "b": "y"}}}}),
                json!({"spec": {"free": {"anything": {"deep": 1}, "known": {"a": "x"}}}}),
                vec!["spec.free.known.b"],
            ),
            (
                json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "p", "bogus": 1, "labels": {"a": "b"}},
                    "spec": {"image": "i", "extra": 1}, "other": 2}}}),
                json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "p", "labels": {"a": "b"}},
                    "spec": {"image": "i"}}}}),
                vec![
                    "spec.template.metadata.bogus",
                    "spec.template.other",
                    "spec.template.spec.extra",
                ],
            ),
            (
                json!({"metadata": {"name": "a", "unknown": "x",
                    "ownerReferences": [{"name": "o", "kind": "K", "zzz": 1}]}}),
                json!({"metadata": {"name": "a", "ownerReferences": [{"name": "o", "kind": "K"}]}}),
                vec!["metadata.ownerReferences[0].zzz", "metadata.unknown"],
            ),
            (json!({"kind": 3}), json!({}), vec!["kind"]),
        ];
        let schema = schema();
        for (mut object, want, pruned) in cases {
            let before = object.clone();
            let mut got = schema.prune(&mut object);
            got.sort();
            assert_eq!(object, want, "{before}");
            assert_eq!(got, pruned, "{before}");
        }
    }

    #[test]
    fn words_warnings_as_upstream() {
        assert_eq!(
            unknown_field_warning("spec.foo"),
            r#"unknown field "spec.foo""#
        );
    }
}
