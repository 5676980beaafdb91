//! Defaults of PodTemplates and ReplicationControllers: their pod
//! templates' defaults, and a controller's selector, labels and replicas
//! taken from its template as upstream's `SetDefaults_ReplicationController`.

use serde_json::{Value, json};

use crate::json::{at, default_absent, object_entry};

use super::pod::{TEMPLATE, template_spec};

/// PodTemplate: the defaults of its pod spec.
pub(crate) fn pod_template(object: &mut Value) {
    template_spec(object, &["template", "spec"], TEMPLATE);
}

/// Whether the map at `value[key]` is missing or empty.
fn empty_map(value: &Value, key: &str) -> bool {
    value
        .get(key)
        .and_then(Value::as_object)
        .is_none_or(|m| m.is_empty())
}

/// ReplicationController: the template's labels as selector and labels
/// when those are empty, one replica, and its pod spec's defaults.
pub(crate) fn replication_controller(object: &mut Value) {
    let labels = at(object, &["spec", "template", "metadata", "labels"])
        .filter(|l| l.is_object())
        .cloned();
    if let Some(labels) = labels {
        if let Some(spec) = object_entry(object, "spec")
            && empty_map(spec, "selector")
        {
            spec["selector"] = labels.clone();
        }
        if let Some(metadata) = object_entry(object, "metadata")
            && empty_map(metadata, "labels")
        {
            metadata["labels"] = labels;
        }
    }
    if let Some(spec) = object_entry(object, "spec") {
        default_absent(spec, "replicas", json!(1));
    }
    template_spec(object, &["spec", "template", "spec"], TEMPLATE);
}
