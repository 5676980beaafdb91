//! CustomResourceDefinitions (apiextensions.k8s.io/v1): named
//! `<plural>.<group>`, with a generation, and the storage version always
//! among `status.storedVersions`. Serving the resources a definition
//! describes is the API server's; the table is upstream's default (name and
//! creation time), as the apiextensions server prints no columns of its own.
//! A deletion adds the cleanup finalizer, which the API server removes
//! once the definition's objects are gone.

use serde_json::{Value, json};

use super::{Message, Strategy, protobuf::message};
use crate::defaults::apiextensions::{self as defaults, storage_version};
use crate::field_error::FieldError;

/// apiextensions.k8s.io/v1 CustomResourceDefinition.
pub(crate) struct CustomResourceDefinitionStrategy;
pub(crate) static CUSTOM_RESOURCE_DEFINITION: CustomResourceDefinitionStrategy =
    CustomResourceDefinitionStrategy;

impl Strategy for CustomResourceDefinitionStrategy {
    /// Read from JSON and YAML only: see [`Message::json_only`].
    fn protobuf(&self) -> Option<Message> {
        Some(
            message!(
                apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition
            )
            .json_only(),
        )
    }

    fn deletion_finalizers(&self) -> &'static [&'static str] {
        &[CLEANUP_FINALIZER]
    }

    fn has_generation(&self) -> bool {
        true
    }

    fn defaults(&self, object: &mut Value) {
        custom_resource_definition(object);
    }

    fn validate(&self, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
        crate::validate::apiextensions::custom_resource_definition(object, old)
    }
}

/// The finalizer a definition's deletion adds: its objects are deleted
/// before it goes (upstream's `customresourcecleanup` controller).
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// The declarative defaults, then what upstream's create and update
/// strategies add: the storage version of the written spec is recorded as
/// stored, so that objects written from now on can be read back. Defaults
/// run on every write, so this covers both.
fn custom_resource_definition(object: &mut Value) {
    defaults::custom_resource_definition(object);
    record_storage_version(object);
}

fn record_storage_version(object: &mut Value) {
    let Some(storage) = storage_version(object).map(str::to_owned) else {
        return;
    };
    let Some(status) = crate::json::object_entry(object, "status") else {
        return;
    };
    let stored = crate::json::list_of(status, "storedVersions");
    if !stored.iter().any(|v| v.as_str() == Some(&storage)) {
        let mut stored = stored.to_vec();
        stored.push(json!(storage));
        status["storedVersions"] = Value::Array(stored);
    }
}
