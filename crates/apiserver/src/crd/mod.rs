//! CustomResourceDefinitions: the API extended at run time. The
//! definitions are a built-in kind (`apiextensions.k8s.io/v1`); this
//! module serves what they define: the entries of their custom resources
//! ([`custom`]), the loop that names, establishes and cleans up after
//! definitions ([`controller`]), and the JSONPath of printer columns
//! ([`jsonpath`]).

pub mod controller;
pub mod custom;
mod jsonpath;

pub use controller::CustomKinds;

/// The rules of a version's schema, until schemas are read: none.
pub fn no_rules(_schema: &serde_json::Value) -> Option<std::sync::Arc<dyn custom::SchemaRules>> {
    None
}
