//! CustomResourceDefinitions (apiextensions.k8s.io/v1): named
//! `<plural>.<group>`, with a generation, and the storage version always
//! among `status.storedVersions`. Serving the resources a definition
//! describes is the API server's; the table is upstream's default (name and
//! creation time), as the apiextensions server prints no columns of its own.
//! A deletion adds the cleanup finalizer, which the API server removes
//! once the definition's objects are gone.

use serde_json::{Value, json};

use super::kind_strategy;
use crate::defaults::apiextensions::{self as defaults, storage_version};

kind_strategy! {
    /// apiextensions.k8s.io/v1 CustomResourceDefinition.
    CustomResourceDefinitionStrategy, CUSTOM_RESOURCE_DEFINITION,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition {
        generation: true,
        defaults: custom_resource_definition,
        validate: crate::validate::apiextensions::custom_resource_definition,
        deletion_finalizers: &[CLEANUP_FINALIZER],
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
