//! Defaulting, as upstream's structural defaulting: top-down, a default
//! is applied where a property is absent or null without being nullable;
//! null items and null additional properties get their schema's default
//! too. Then the nulls the schema does not allow and cannot fill are
//! dropped, so that validation does not reject what a client left null.

use serde_json::Value;

use super::Node;

/// Applies the defaults of `node` to `value`, and below.
pub(super) fn apply(value: &mut Value, node: &Node) {
    match value {
        Value::Object(map) => {
            for (name, prop) in &node.properties {
                let Some(default) = &prop.default else {
                    continue;
                };
                let missing = match map.get(name) {
                    None => true,
                    Some(value) => non_nullable_null(value, Some(prop)),
                };
                if missing {
                    map.insert(name.clone(), default.clone());
                }
            }
            for (name, value) in map.iter_mut() {
                if let Some(prop) = node.properties.get(name) {
                    apply(value, prop);
                } else if let Some(additional) = node.additional_schema() {
                    fill_null(value, additional);
                    apply(value, additional);
                }
            }
        }
        Value::Array(items) => {
            let Some(item_schema) = node.items.as_deref() else {
                return;
            };
            for item in items {
                fill_null(item, item_schema);
                apply(item, item_schema);
            }
        }
        _ => {}
    }
}

fn fill_null(value: &mut Value, node: &Node) {
    if let Some(default) = &node.default
        && non_nullable_null(value, Some(node))
    {
        *value = default.clone();
    }
}

fn non_nullable_null(value: &Value, node: Option<&Node>) -> bool {
    value.is_null() && node.is_some_and(|n| !n.nullable)
}

/// Drops the fields that are null where the schema neither allows null
/// nor has a default.
pub(super) fn drop_non_nullable_nulls(value: &mut Value, node: &Node) {
    match value {
        Value::Object(map) => {
            map.retain(|name, value| {
                let Some(schema) = node.field(name) else {
                    return true;
                };
                if value.is_null() && schema.default.is_none() && !schema.nullable {
                    return false;
                }
                drop_non_nullable_nulls(value, schema);
                true
            });
        }
        Value::Array(items) => {
            if let Some(item_schema) = node.items.as_deref() {
                for item in items {
                    drop_non_nullable_nulls(item, item_schema);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::crd::schema::test_support::structural;

    #[test]
    fn applies_defaults_top_down() {
        let schema = structural(json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "default": {},
                    "properties": {
                        "replicas": {"type": "integer", "default": 1},
                        "mode": {"type": "string", "default": "fast"},
                        "note": {"type": "string", "nullable": true, "default": "n"},
                        "plain": {"type": "string"},
                        "ports": {"type": "array", "items": {
                            "type": "object", "default": {"port": 80},
                            "properties": {
                                "port": {"type": "integer"},
                                "protocol": {"type": "string", "default": "TCP"}}}},
                        "limits": {"type": "object", "additionalProperties": {
                            "type": "string", "default": "1"}}
                    }
                }
            }
        }));
        let cases = [
            (
                json!({}),
                json!({"spec": {"replicas": 1, "mode": "fast", "note": "n"}}),
            ),
            (
                json!({"spec": {"replicas": 3, "mode": null, "note": null, "plain": null}}),
                json!({"spec": {"replicas": 3, "mode": "fast", "note": null}}),
            ),
            (
                json!({"spec": {"ports": [{"port": 1}, null], "limits": {"cpu": null, "mem": "2"}}}),
                json!({"spec": {"replicas": 1, "mode": "fast", "note": "n",
                    "ports": [{"port": 1, "protocol": "TCP"}, {"port": 80, "protocol": "TCP"}],
                    "limits": {"cpu": "1", "mem": "2"}}}),
            ),
        ];
        for (mut object, want) in cases {
            let before = object.clone();
            schema.apply_defaults(&mut object);
            assert_eq!(object, want, "{before}");
        }
    }
}
