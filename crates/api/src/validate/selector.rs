//! Label selectors of workload specs (`spec.selector`): their validation,
//! and matching them against a pod template's labels.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{list_of, str_of, string_map};
use crate::label_selector::Selector;
use crate::validation::{is_valid_label_value, validate_labels};

use super::qualified_name;

/// Errors in a `LabelSelector` at `path` (nothing for an absent one).
pub(crate) fn validate(selector: Option<&Value>, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let Some(selector) = selector.filter(|s| !s.is_null()) else {
        return errors;
    };
    errors.extend(validate_labels(
        &string_map(selector, "matchLabels"),
        &path.child("matchLabels"),
    ));
    let expressions = path.child("matchExpressions");
    for (i, requirement) in list_of(selector, "matchExpressions").iter().enumerate() {
        requirement_errors(requirement, &expressions.index(i), &mut errors);
    }
    errors
}

fn requirement_errors(requirement: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let values: Vec<&str> = list_of(requirement, "values")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let operator = str_of(requirement, "operator").unwrap_or("");
    match operator {
        "In" | "NotIn" if values.is_empty() => errors.push(FieldError::required(
            &path.child("values"),
            "must be specified when `operator` is 'In' or 'NotIn'",
        )),
        "Exists" | "DoesNotExist" if !values.is_empty() => errors.push(FieldError::forbidden(
            &path.child("values"),
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        )),
        "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
        other => errors.push(FieldError::invalid(
            &path.child("operator"),
            other,
            "not a valid selector operator",
        )),
    }
    qualified_name(
        str_of(requirement, "key").unwrap_or(""),
        &path.child("key"),
        errors,
    );
    for (i, value) in values.iter().enumerate() {
        for problem in is_valid_label_value(value) {
            errors.push(FieldError::invalid(
                &path.child("values").index(i),
                *value,
                problem,
            ));
        }
    }
}

/// The selector a `LabelSelector` means: nothing for an absent one,
/// everything for an empty one; `None` when it cannot be converted.
pub(crate) fn parse(selector: Option<&Value>) -> Option<Selector> {
    match selector.filter(|s| !s.is_null()) {
        None => Some(Selector::nothing()),
        Some(value) => {
            let typed: LabelSelector = serde_json::from_value(value.clone()).ok()?;
            Selector::from_label_selector(&typed).ok()
        }
    }
}

/// Whether a present selector has neither `matchLabels` nor
/// `matchExpressions`.
pub(crate) fn is_empty(selector: &Value) -> bool {
    let count = |key| {
        selector.get(key).map_or(0, |v| {
            v.as_object().map_or(0, |m| m.len()) + v.as_array().map_or(0, Vec::len)
        })
    };
    count("matchLabels") + count("matchExpressions") == 0
}

/// The labels of a pod template (`template.metadata.labels`).
pub(crate) fn template_labels(template: &Value) -> BTreeMap<String, String> {
    template
        .get("metadata")
        .map(|m| string_map(m, "labels"))
        .unwrap_or_default()
}

/// The `template.metadata.labels` value as the error shows it.
pub(crate) fn template_labels_value(template: &Value) -> Value {
    crate::json::at(template, &["metadata", "labels"])
        .cloned()
        .unwrap_or(Value::Null)
}

/// `` `selector` does not match template `labels` `` when a non-empty
/// `selector` does not select the template's labels.
pub(crate) fn check_template_match(
    selector: &Selector,
    template: &Value,
    template_path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if selector.is_everything() {
        return;
    }
    if !selector.matches(&template_labels(template)) {
        errors.push(FieldError::invalid(
            &template_path.child("metadata").child("labels"),
            template_labels_value(template),
            "`selector` does not match template `labels`",
        ));
    }
}
