//! Validation of the core workload kinds that predate apps/v1: PodTemplates
//! and ReplicationControllers (whose selector is a plain label map).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{int_of, is_absent, string_map};

use super::apps::long_running_template;
use super::pod::{NULL, TEMPLATE, pod_template};
use super::{nonnegative, selector};

/// PodTemplate.
pub(crate) fn pod_template_object(object: &Value, _old: Option<&Value>) -> Vec<FieldError> {
    let template = object.get("template").unwrap_or(&NULL);
    pod_template(template, &FieldPath::new("template"), TEMPLATE)
}

/// ReplicationController.
pub(crate) fn replication_controller(object: &Value, _old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    nonnegative(
        int_of(spec, "minReadySeconds"),
        &path.child("minReadySeconds"),
        &mut errors,
    );
    let selector = string_map(spec, "selector");
    if selector.is_empty() {
        errors.push(FieldError::required(&path.child("selector"), ""));
    }
    nonnegative(
        int_of(spec, "replicas"),
        &path.child("replicas"),
        &mut errors,
    );
    let template_path = path.child("template");
    match spec.get("template").filter(|t| !t.is_null()) {
        None => errors.push(FieldError::required(&template_path, "")),
        Some(template) => {
            if !selects(&selector, &selector::template_labels(template)) {
                errors.push(FieldError::invalid(
                    &template_path.child("metadata").child("labels"),
                    selector::template_labels_value(template),
                    "`selector` does not match template `labels`",
                ));
            }
            errors.extend(pod_template(template, &template_path, TEMPLATE));
            long_running_template(spec, &path, "ReplicationController", &mut errors);
        }
    }
    errors
}

/// Whether a map selector selects `labels`; an empty one selects nothing
/// to check (it is reported as missing instead).
fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector
        .iter()
        .all(|(key, value)| labels.get(key) == Some(value))
}

/// The `status.selector` of a ReplicationController's Scale: its label map
/// as a selector string.
pub(crate) fn scale_selector(object: &Value) -> String {
    let spec = object.get("spec").unwrap_or(&NULL);
    if is_absent(spec.get("selector")) {
        return String::new();
    }
    string_map(spec, "selector")
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(",")
}
