//! The field lookup that a client needs to *compute* a strategic merge
//! patch (kubectl's `LookupPatchMeta`): for each field of a value, the
//! shape of what it holds, whether a list merges and on which key, and
//! whether the field carries the `retainKeys` strategy. The same schemas
//! and [`crate::list_types`] table as the server's merge, so that a patch
//! computed with it means on the server what the client meant.

use super::schema::{self, Type};
use crate::list_types::{self, PatchStrategy};

/// The shape of a value of a served kind (or of a part of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(Type);

/// How the list in one field merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListShape {
    /// Whether the patch strategy is `merge` (else the list is replaced).
    pub merges: bool,
    /// `x-kubernetes-patch-merge-key`, when declared.
    pub merge_key: Option<&'static str>,
    /// Whether the strategy includes `retainKeys` (`PodSpec.volumes`).
    pub retains_keys: bool,
    /// The shape of the items.
    pub item: Shape,
}

impl Shape {
    /// The shape of objects of an OpenAPI definition
    /// (`io.k8s.api.apps.v1.Deployment`); `None` when no schema is known,
    /// i.e. when the server would refuse a strategic merge patch.
    pub fn of(definition: &str) -> Option<Shape> {
        schema::knows(definition).then(|| Shape(Type::Struct(definition.to_string())))
    }

    /// The shape of `field`; a field nobody declared is free-form (maps
    /// in it are diffed key by key, lists are replaced).
    pub fn field(&self, field: &str) -> Shape {
        Shape(self.0.field(field).unwrap_or(Type::Free))
    }

    /// Whether the struct field `field` (not a list) has the `retainKeys`
    /// strategy (`DeploymentSpec.strategy`).
    pub fn retains_keys(&self, field: &str) -> bool {
        match &self.0 {
            Type::Struct(definition) => {
                list_types::struct_field_strategy(definition, field).is_some_and(retains)
            }
            _ => false,
        }
    }

    /// The type the merge works with.
    pub(super) fn ty(&self) -> &Type {
        &self.0
    }

    /// How the list in `field` merges.
    pub fn list(&self, field: &str) -> ListShape {
        let meta = self.0.list_meta(field);
        let retains_keys = match &self.0 {
            Type::Struct(definition) => list_types::list_field(definition, field)
                .and_then(|list| list.patch_strategy)
                .is_some_and(retains),
            _ => false,
        };
        match meta {
            Some(meta) => ListShape {
                merges: meta.merges,
                merge_key: meta.merge_key,
                retains_keys,
                item: Shape(meta.item),
            },
            None => ListShape {
                merges: false,
                merge_key: None,
                retains_keys: false,
                item: Shape(Type::Free),
            },
        }
    }
}

fn retains(strategy: PatchStrategy) -> bool {
    matches!(
        strategy,
        PatchStrategy::RetainKeys | PatchStrategy::MergeRetainKeys
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_schemas_and_the_list_table() {
        assert!(Shape::of("io.k8s.api.example.v1.Widget").is_none());
        let deployment = Shape::of("io.k8s.api.apps.v1.Deployment").expect("served");
        let spec = deployment.field("spec");
        assert!(spec.retains_keys("strategy"));
        assert!(!spec.retains_keys("template"));
        let pod = spec.field("template").field("spec");
        let containers = pod.list("containers");
        assert!(containers.merges && !containers.retains_keys);
        assert_eq!(containers.merge_key, Some("name"));
        let volumes = pod.list("volumes");
        assert!(volumes.merges && volumes.retains_keys);
        let args = containers.item.list("args");
        assert!(!args.merges);
        let finalizers = deployment.field("metadata").list("finalizers");
        assert!(finalizers.merges && finalizers.merge_key.is_none());
        // Undeclared fields and map values are free-form.
        assert_eq!(pod.field("nope"), Shape(Type::Free));
        assert!(
            !deployment
                .field("metadata")
                .field("labels")
                .list("x")
                .merges
        );
    }
}
