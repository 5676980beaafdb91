//! The kinds a protobuf body may hold: each pairs k8s-pb's prost message
//! (which reads the bytes) with k8s-openapi's type of the same path (whose
//! schema gives the JSON names), so one line per kind is all there is.

use std::fmt::Debug;
use std::sync::OnceLock;

use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value};

/// One kind that can be read from protobuf.
pub struct Kind {
    /// `apps/v1`; `None` for a kind every group-version serves
    /// (`DeleteOptions`).
    pub api_version: Option<&'static str>,
    pub kind: &'static str,
    /// The OpenAPI definition name of its schema.
    pub definition: String,
    /// Decodes the message and prints it with `Debug`.
    pub decode: fn(&[u8]) -> Result<String, prost::DecodeError>,
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
        self.kinds
            .iter()
            .find(|k| k.kind == kind && k.api_version.is_none_or(|v| v == api_version))
    }

    /// Every kind, for tests.
    #[cfg(test)]
    pub fn kinds(&self) -> &[Kind] {
        &self.kinds
    }
}

/// `[k8s_pb::PATH, k8s_openapi::PATH]` for each path.
macro_rules! resources {
    ($generator:ident; $($($path:ident)::+),+ $(,)?) => {
        vec![$(resource::<k8s_pb::$($path)::+, k8s_openapi::$($path)::+>(&mut $generator)),+]
    };
}

/// The table, built on first use.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut generator = SchemaSettings::openapi3()
            .with(|settings| settings.meta_schema = None)
            .into_generator();
        let mut kinds = resources!(generator;
            api::core::v1::Pod,
            api::core::v1::Node,
            api::core::v1::Namespace,
            api::core::v1::Service,
            api::core::v1::Endpoints,
            api::core::v1::ConfigMap,
            api::core::v1::Secret,
            api::core::v1::ServiceAccount,
            api::core::v1::Event,
            api::core::v1::PersistentVolume,
            api::core::v1::PersistentVolumeClaim,
            api::core::v1::Binding,
            api::apps::v1::ReplicaSet,
            api::apps::v1::Deployment,
            api::apps::v1::StatefulSet,
            api::apps::v1::DaemonSet,
            api::apps::v1::ControllerRevision,
            api::batch::v1::Job,
            api::batch::v1::CronJob,
            api::coordination::v1::Lease,
            api::discovery::v1::EndpointSlice,
            api::autoscaling::v1::Scale,
            api::policy::v1::Eviction,
        );
        kinds.push(any_version::<
            k8s_pb::apimachinery::pkg::apis::meta::v1::DeleteOptions,
            k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions,
        >(&mut generator, "DeleteOptions"));
        Table {
            kinds,
            definitions: Definitions(generator.take_definitions(true)),
        }
    })
}

fn resource<P, O>(generator: &mut SchemaGenerator) -> Kind
where
    P: prost::Message + Default + Debug,
    O: k8s_openapi::Resource + JsonSchema,
{
    Kind {
        api_version: Some(O::API_VERSION),
        ..any_version::<P, O>(generator, O::KIND)
    }
}

fn any_version<P, O>(generator: &mut SchemaGenerator, kind: &'static str) -> Kind
where
    P: prost::Message + Default + Debug,
    O: JsonSchema,
{
    generator.subschema_for::<O>();
    Kind {
        api_version: None,
        kind,
        definition: O::schema_name().into_owned(),
        decode: debug_text::<P>,
    }
}

fn debug_text<P: prost::Message + Default + Debug>(
    raw: &[u8],
) -> Result<String, prost::DecodeError> {
    P::decode(raw).map(|message| format!("{message:?}"))
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
