//! Validation of storage.k8s.io/v1 StorageClasses: a qualified provisioner,
//! bounded parameters, supported policies and topologies, and on update
//! the fields a class may not change.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{list_of, str_of, string_map};

use super::qualified_name;

const MAX_PARAMETERS: usize = 512;
const MAX_PARAMETERS_SIZE: usize = 256 * 1024;

/// StorageClass, on create when `old` is `None`.
pub(crate) fn storage_class(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let provisioner = str_of(object, "provisioner").unwrap_or("");
    let path = FieldPath::new("provisioner");
    if provisioner.is_empty() {
        errors.push(FieldError::required(&path, ""));
    } else {
        qualified_name(&provisioner.to_lowercase(), &path, &mut errors);
    }
    parameters(object, &mut errors);
    let reclaim = str_of(object, "reclaimPolicy").unwrap_or("");
    if !reclaim.is_empty() && !["Delete", "Retain"].contains(&reclaim) {
        errors.push(FieldError::not_supported(
            &FieldPath::new("reclaimPolicy"),
            reclaim,
            &["Delete", "Retain"],
        ));
    }
    let path = FieldPath::new("volumeBindingMode");
    match str_of(object, "volumeBindingMode") {
        None => errors.push(FieldError::required(&path, "")),
        Some("Immediate" | "WaitForFirstConsumer") => {}
        Some(other) => errors.push(FieldError::not_supported(
            &path,
            other,
            &["Immediate", "WaitForFirstConsumer"],
        )),
    }
    allowed_topologies(list_of(object, "allowedTopologies"), &mut errors);
    if let Some(old) = old {
        fixed_fields(object, old, &mut errors);
    }
    errors
}

fn parameters(object: &Value, errors: &mut Vec<FieldError>) {
    let path = FieldPath::new("parameters");
    let parameters = string_map(object, "parameters");
    if parameters.len() > MAX_PARAMETERS {
        errors.push(FieldError::too_long(&path, Some(MAX_PARAMETERS)));
        return;
    }
    let mut size = 0;
    for (key, value) in &parameters {
        if key.is_empty() {
            errors.push(FieldError::invalid(
                &path,
                key.as_str(),
                "field can not be empty.",
            ));
        }
        size += key.len() + value.len();
    }
    if size > MAX_PARAMETERS_SIZE {
        errors.push(FieldError::too_long(&path, Some(MAX_PARAMETERS_SIZE)));
    }
}

fn allowed_topologies(terms: &[Value], errors: &mut Vec<FieldError>) {
    let path = FieldPath::new("allowedTopologies");
    for (i, term) in terms.iter().enumerate() {
        let expressions = path.index(i).child("matchLabelExpressions");
        let mut keys = BTreeSet::new();
        for (j, requirement) in list_of(term, "matchLabelExpressions").iter().enumerate() {
            let at = expressions.index(j);
            let values = list_of(requirement, "values");
            if values.is_empty() {
                errors.push(FieldError::required(&at.child("values"), ""));
            }
            let mut seen = BTreeSet::new();
            for (k, value) in values.iter().enumerate() {
                let value = value.as_str().unwrap_or("");
                if !seen.insert(value) {
                    errors.push(FieldError::duplicate(&at.child("values").index(k), value));
                }
            }
            let key = str_of(requirement, "key").unwrap_or("");
            qualified_name(key, &at.child("key"), errors);
            if !keys.insert(key) {
                errors.push(FieldError::duplicate(&at.child("key"), key));
            }
        }
    }
}

fn fixed_fields(object: &Value, old: &Value, errors: &mut Vec<FieldError>) {
    if string_map(object, "parameters") != string_map(old, "parameters") {
        errors.push(FieldError::forbidden(
            &FieldPath::new("parameters"),
            "updates to parameters are forbidden.",
        ));
    }
    for key in ["provisioner", "reclaimPolicy"] {
        if str_of(object, key) != str_of(old, key) {
            errors.push(FieldError::forbidden(
                &FieldPath::new(key),
                format!("updates to {key} are forbidden."),
            ));
        }
    }
    let path = FieldPath::new("volumeBindingMode");
    super::immutable(
        object.get("volumeBindingMode"),
        old.get("volumeBindingMode"),
        &path,
        errors,
    );
}
