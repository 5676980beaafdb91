//! The kinds a protobuf body may hold, found from the registry: each
//! kind's strategy names its message (k8s-pb's prost message, which reads
//! the bytes, paired with k8s-openapi's type of the same path, whose schema
//! gives the JSON names).

use std::sync::OnceLock;

use k8s_openapi::schemars::generate::SchemaSettings;
use keelson_api::registry;
use keelson_api::strategy::{DELETE_OPTIONS, Message, REVIEWS};
use serde_json::{Map, Value};

/// One kind that can be read from protobuf.
pub struct Kind {
    /// How its bytes are read.
    pub message: Message,
    /// The OpenAPI definition name of its schema.
    pub definition: String,
}

/// The OpenAPI schemas of every kind here and of what they refer to.
pub struct Definitions(Map<String, Value>);

impl Definitions {
    /// The schema named `definition`.
    pub fn get(&self, definition: &str) -> Option<&Value> {
        self.0.get(definition)
    }

    /// Follows `$ref`s (also wrapped in a one-element `allOf`).
    pub fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        crate::schema::resolve(&self.0, schema)
    }
}

/// The kinds and their schemas.
pub struct Table {
    kinds: Vec<Kind>,
    pub definitions: Definitions,
}

impl Table {
    /// The kind named by a protobuf body's `typeMeta`.
    pub fn find(&self, api_version: &str, kind: &str) -> Option<&Kind> {
        self.kinds.iter().find(|k| k.message.is(api_version, kind))
    }

    /// Every kind, for tests.
    #[cfg(test)]
    pub fn kinds(&self) -> &[Kind] {
        &self.kinds
    }
}

/// The table, built on first use from the registry: the protobuf message
/// each kind's strategy names, the bodies of the served subresources
/// (Scale, Binding, Eviction, TokenRequest), `DeleteOptions` and the
/// reviews.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut generator = SchemaSettings::openapi3()
            .with(|settings| settings.meta_schema = None)
            .into_generator();
        let mut messages: Vec<Message> = Vec::new();
        for resource in registry::all() {
            messages.extend(resource.strategy.protobuf());
            messages.extend(
                resource
                    .served_subresources()
                    .filter_map(|s| s.serve.body()),
            );
        }
        messages.push(DELETE_OPTIONS);
        messages.extend(REVIEWS.iter().copied());
        let mut kinds: Vec<Kind> = Vec::new();
        for message in messages {
            if !kinds.iter().any(|k| k.message == message) {
                let definition = (message.schema)(&mut generator);
                kinds.push(Kind {
                    message,
                    definition,
                });
            }
        }
        Table {
            kinds,
            definitions: Definitions(generator.take_definitions(true)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_schema() {
        let table = table();
        for kind in table.kinds() {
            let schema = table.definitions.get(&kind.definition);
            assert!(
                schema.is_some_and(|s| s.get("properties").is_some()),
                "{}",
                kind.definition
            );
        }
        assert!(table.find("apps/v1", "Deployment").is_some());
        assert!(table.find("v1", "Deployment").is_none());
        assert!(table.find("apps/v1beta1", "Deployment").is_none());
        assert!(table.find("batch/v1", "DeleteOptions").is_some());
    }

    /// Field names are found ignoring case and separators: no two fields
    /// of one type may look the same that way.
    #[test]
    fn no_two_fields_of_a_type_normalize_alike() {
        for (definition, schema) in &table().definitions.0 {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                continue;
            };
            let mut seen = std::collections::BTreeSet::new();
            for name in properties.keys() {
                let normalized = super::super::json::normalize(name);
                assert!(seen.insert(normalized), "{definition}: {name}");
            }
        }
    }
}
