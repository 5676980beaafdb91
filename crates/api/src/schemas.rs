//! The JSON schemas of the served kinds, from k8s-openapi's `schemars`
//! implementations, found from the registry (each kind's strategy names
//! its type through its protobuf [`Message`]), plus the API machinery types
//! their documents need. Everything that needs the schemas (the OpenAPI
//! documents, strategic merge patch) takes them from here.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta, Patch, Status};
use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value};

use crate::registry;
use crate::strategy::{DELETE_OPTIONS, Message, SCALE};

/// A type's definition name, and what adds its schema to a generator.
type Schema = (fn() -> String, fn(&mut SchemaGenerator));

/// The API machinery types beside the kinds.
const MACHINERY: &[Schema] = &[
    (name_of::<ListMeta>, add::<ListMeta>),
    (name_of::<ObjectMeta>, add::<ObjectMeta>),
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
    let kinds = registry::all().iter().filter_map(|r| r.strategy.protobuf());
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

/// The OpenAPI 3 schemas of every served type and of what they contain,
/// by definition name.
pub(crate) fn definitions() -> Map<String, Value> {
    let mut generator = SchemaSettings::openapi3()
        .with(|settings| settings.meta_schema = None)
        .into_generator();
    add_all(&mut generator);
    generator.take_definitions(true)
}

/// The definition a schema points at, directly or through a single
/// `allOf`/`anyOf`/`oneOf` branch.
pub(crate) fn reference(schema: &Value) -> Option<String> {
    let schema = schema.as_object()?;
    if let Some(Value::String(target)) = schema.get("$ref") {
        return target.rsplit('/').next().map(str::to_string);
    }
    ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|key| schema.get(*key)?.as_array())
        .flatten()
        .find_map(reference)
}
