//! The JSON schemas of the served kinds, from k8s-openapi's `schemars`
//! implementations, found from the registry (each kind's strategy names
//! its type through its protobuf [`Message`]), plus the API machinery types
//! their documents need. Everything that needs the schemas (the OpenAPI
//! documents, strategic merge patch) takes them from here.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, Patch, Status};
use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::SchemaGenerator;

use crate::registry;
use crate::strategy::{DELETE_OPTIONS, Message, SCALE};

/// A type's definition name, and what adds its schema to a generator.
type Schema = (fn() -> String, fn(&mut SchemaGenerator));

/// The API machinery types beside the kinds.
const MACHINERY: &[Schema] = &[
    (name_of::<ListMeta>, add::<ListMeta>),
    (name_of::<Patch>, add::<Patch>),
    (name_of::<Status>, add::<Status>),
];

fn name_of<T: JsonSchema>() -> String {
    T::schema_name().into_owned()
}

fn add<T: JsonSchema>(generator: &mut SchemaGenerator) {
    generator.subschema_for::<T>();
}

/// Every served kind's message, and the bodies of `scale` and deletes.
fn messages() -> impl Iterator<Item = Message> {
    let kinds = registry::all().iter().map(|r| r.strategy.protobuf());
    kinds.chain([SCALE, DELETE_OPTIONS])
}

/// Adds to `generator` the schema of the type whose upstream definition
/// name is `definition` (`io.k8s.api.apps.v1.Deployment`), with every type
/// it contains; false if no served type has that name.
pub fn add_definition(generator: &mut SchemaGenerator, definition: &str) -> bool {
    if let Some(message) = messages().find(|m| (m.definition)() == definition) {
        (message.schema)(generator);
        return true;
    }
    match MACHINERY.iter().find(|(name, _)| name() == definition) {
        Some((_, add)) => {
            add(generator);
            true
        }
        None => false,
    }
}

/// Adds to `generator` the schema of every served type.
pub fn add_all(generator: &mut SchemaGenerator) {
    for message in messages() {
        (message.schema)(generator);
    }
    for (_, add) in MACHINERY {
        add(generator);
    }
}
