//! CustomResourceDefinitions: the API extended at run time. The
//! definitions are a built-in kind (`apiextensions.k8s.io/v1`); this
//! module serves what they define: their schemas ([`schema`]: the
//! structural check, pruning, defaulting, validation and CEL rules), the
//! entries of their custom resources ([`custom`]), the loop that names,
//! establishes and cleans up after definitions ([`controller`]), the
//! check of a definition's schemas when it is written ([`admission`]) and
//! the JSONPath of printer columns ([`jsonpath`]).

pub mod admission;
pub mod controller;
pub mod custom;
mod jsonpath;
pub mod schema;

use std::sync::Arc;

use keelson_api::field_error::FieldError;
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use serde_json::Value;

pub use controller::CustomKinds;

/// A version's schema and its CEL rules, as the strategy of its custom
/// resources applies them.
struct VersionRules {
    schema: schema::Structural,
    rules: schema::cel::Rules,
}

impl custom::SchemaRules for VersionRules {
    fn prune_and_default(&self, object: &mut Value) {
        self.schema.prune(object);
        self.schema.apply_defaults(object);
    }

    fn validate(&self, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let root = FieldPath::root();
        let mut errors = self.schema.validate(object, &root);
        // Rules run on values of the right shape only, as upstream's.
        if errors.is_empty() && !self.rules.is_empty() {
            errors.extend(self.rules.validate(object, old, &root));
        }
        errors
    }
}

/// The rules of a version's `openAPIV3Schema`; `None` when it is not
/// structural or its rules do not compile (a definition with such a
/// schema is refused when written).
pub fn rules_of(props: &JSONSchemaProps) -> Option<Arc<dyn custom::SchemaRules>> {
    let path = FieldPath::root();
    let schema = schema::Structural::from_props(props, &path).ok()?;
    let rules = schema::cel::Rules::compile(&schema, &path).ok()?;
    Some(Arc::new(VersionRules { schema, rules }))
}
