//! What strategic merge patch needs to know about the shape of every
//! served kind: which definition each struct field holds, and whether a
//! field is a list or a map of something. Derived once, at first use, from
//! k8s-openapi's `schemars` schemas, so no kind needs code of its own; the
//! list semantics themselves come from [`crate::list_types`].

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::list_types;
use crate::schemas::reference;

/// The type of a value, as far as merging cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Type {
    /// An object of an OpenAPI definition (`io.k8s.api.core.v1.PodSpec`).
    Struct(String),
    /// A map from any key to values of one type (`labels`, `limits`).
    Map(Box<Type>),
    /// A list of values of one type.
    List(Box<Type>),
    /// A scalar, or a value whose shape is not declared (`RawExtension`):
    /// maps in it merge key by key and lists in it are replaced.
    Free,
}

/// How a list field merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListMeta {
    /// Whether the patch strategy is `merge` (else the list is replaced).
    pub merges: bool,
    /// `x-kubernetes-patch-merge-key`, when declared.
    pub merge_key: Option<&'static str>,
    /// The type of the items.
    pub item: Type,
}

impl Type {
    /// The type of `field` in a value of this type; `None` for a field that
    /// a known struct does not have.
    pub fn field(&self, field: &str) -> Option<Type> {
        match self {
            Type::Struct(definition) => match table().get(definition.as_str()) {
                Some(fields) => fields.get(field).cloned(),
                None => Some(Type::Free),
            },
            Type::Map(value) => Some((**value).clone()),
            Type::List(_) | Type::Free => Some(Type::Free),
        }
    }

    /// How the list in `field` of a value of this type merges; `None` for a
    /// field that a known struct does not have.
    pub fn list_meta(&self, field: &str) -> Option<ListMeta> {
        let item = match self.field(field)? {
            Type::List(item) => *item,
            _ => Type::Free,
        };
        let declared = match self {
            Type::Struct(definition) => list_types::list_field(definition, field),
            _ => None,
        };
        Some(match declared {
            Some(list) => ListMeta {
                merges: list.patch_strategy.is_some_and(|s| s.merges()),
                merge_key: list.patch_merge_key,
                item: list
                    .item_definition
                    .map_or(item, |d| Type::Struct(d.to_string())),
            },
            None => ListMeta {
                merges: false,
                merge_key: None,
                item,
            },
        })
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Type::Struct(definition) => definition.clone(),
            Type::Map(_) => "map".into(),
            Type::List(_) => "list".into(),
            Type::Free => "object".into(),
        }
    }
}

/// Whether strategic merge patch knows the definition (a served kind, or
/// `autoscaling/v1` Scale).
pub(super) fn knows(definition: &str) -> bool {
    table().contains_key(definition)
}

/// Field types by definition, then by field name.
type Table = HashMap<String, HashMap<String, Type>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        crate::schemas::definitions()
            .iter()
            .filter_map(|(name, schema)| {
                let properties = schema.get("properties")?.as_object()?;
                let fields = properties
                    .iter()
                    .map(|(field, schema)| (field.clone(), type_of(schema)))
                    .collect();
                Some((name.clone(), fields))
            })
            .collect()
    })
}

/// The type a property schema describes.
fn type_of(schema: &Value) -> Type {
    if let Some(definition) = reference(schema) {
        return Type::Struct(definition);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => Type::List(Box::new(schema.get("items").map_or(Type::Free, type_of))),
        Some("object") => match schema.get("additionalProperties") {
            Some(value @ Value::Object(_)) => Type::Map(Box::new(type_of(value))),
            _ => Type::Free,
        },
        _ => Type::Free,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_kind_has_a_schema() {
        for resource in crate::registry::all() {
            assert!(knows(resource.definition), "{}", resource.definition);
        }
    }

    #[test]
    fn fields_resolve_to_definitions_lists_and_maps() {
        let spec = Type::Struct("io.k8s.api.apps.v1.DeploymentSpec".into());
        assert_eq!(
            spec.field("template"),
            Some(Type::Struct("io.k8s.api.core.v1.PodTemplateSpec".into()))
        );
        assert_eq!(spec.field("nope"), None);
        let resources = Type::Struct("io.k8s.api.core.v1.ResourceRequirements".into());
        assert!(matches!(resources.field("limits"), Some(Type::Map(_))));
        let pod = Type::Struct("io.k8s.api.core.v1.PodSpec".into());
        let containers = pod.list_meta("containers").expect("a field");
        assert!(containers.merges);
        assert_eq!(containers.merge_key, Some("name"));
        assert_eq!(
            containers.item,
            Type::Struct("io.k8s.api.core.v1.Container".into())
        );
    }
}
