//! Defaults of apiextensions.k8s.io/v1 CustomResourceDefinitions, as
//! upstream's v1 `SetDefaults_CustomResourceDefinition`: the singular name
//! and list kind from the kind, conversion `None`, port 443 for a
//! conversion webhook's service, and the storage version recorded as
//! stored when no version is yet.

use serde_json::{Value, json};

use crate::json::{at, at_mut, default_absent, default_zero, list_of, object_entry, str_of};

/// CustomResourceDefinition.
pub(crate) fn custom_resource_definition(object: &mut Value) {
    if let Some(spec) = object_entry(object, "spec") {
        spec_defaults(spec);
    }
    let storage = storage_version(object).map(str::to_owned);
    if let (Some(storage), Some(status)) = (storage, object_entry(object, "status"))
        && list_of(status, "storedVersions").is_empty()
    {
        status["storedVersions"] = json!([storage]);
    }
}

fn spec_defaults(spec: &mut Value) {
    if let Some(names) = object_entry(spec, "names") {
        let kind = str_of(names, "kind").unwrap_or("").to_owned();
        if !kind.is_empty() {
            default_zero(names, "singular", json!(kind.to_lowercase()));
            default_zero(names, "listKind", json!(format!("{kind}List")));
        }
    }
    default_absent(spec, "conversion", json!({"strategy": "None"}));
    let service = at_mut(spec, &["conversion", "webhook", "clientConfig", "service"]);
    if let Some(service) = service.filter(|s| s.is_object()) {
        default_absent(service, "port", json!(443));
    }
}

/// The name of the first version marked `storage: true`.
pub(crate) fn storage_version(object: &Value) -> Option<&str> {
    let versions = at(object, &["spec", "versions"]).and_then(Value::as_array)?;
    versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .and_then(|v| str_of(v, "name"))
}
