//! Validation of autoscaling/v2 HorizontalPodAutoscalers: replica bounds,
//! the scale target, each metric and its target, and scaling behavior.

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{at, int_of, is_absent, list_of, str_of};
use crate::quantity::Quantity;
use crate::validation::{is_dns1123_label, is_valid_path_segment_name};

use super::pod::NULL;

const MAX_PERIOD_SECONDS: i64 = 1800;
const MAX_STABILIZATION_SECONDS: i64 = 3600;
const SOURCES: &[&str] = &[
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];

/// HorizontalPodAutoscaler, on create when `old` is `None`.
pub(crate) fn horizontal_pod_autoscaler(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    let old_min = old
        .and_then(|o| at(o, &["spec", "minReplicas"]))
        .and_then(Value::as_i64);
    let lower = if old_min == Some(0) { 0 } else { 1 };
    let min = int_of(spec, "minReplicas");
    if let Some(min) = min.filter(|m| *m < lower) {
        let why = format!("must be greater than or equal to {lower}");
        errors.push(FieldError::invalid(&path.child("minReplicas"), min, why));
    }
    let max = int_of(spec, "maxReplicas").unwrap_or(0);
    let max_path = path.child("maxReplicas");
    if max < 1 {
        errors.push(FieldError::invalid(
            &max_path,
            max,
            "must be greater than 0",
        ));
    }
    if min.is_some_and(|min| max < min) {
        let why = "must be greater than or equal to `minReplicas`";
        errors.push(FieldError::invalid(&max_path, max, why));
    }
    let target = spec.get("scaleTargetRef").unwrap_or(&NULL);
    object_reference(target, &path.child("scaleTargetRef"), &mut errors);
    metrics(
        list_of(spec, "metrics"),
        min,
        &path.child("metrics"),
        &mut errors,
    );
    if let Some(behavior) = spec.get("behavior").filter(|b| !b.is_null()) {
        for key in ["scaleUp", "scaleDown"] {
            if let Some(rules) = behavior.get(key).filter(|r| !r.is_null()) {
                scaling_rules(rules, &path.child("behavior").child(key), &mut errors);
            }
        }
    }
    if old.is_some() {
        let status = object.get("status").unwrap_or(&NULL);
        for key in ["currentReplicas", "desiredReplicas"] {
            let status_path = FieldPath::new("status").child(key);
            super::nonnegative(int_of(status, key), &status_path, &mut errors);
        }
    }
    errors
}

/// A kind and a name that can be URL path segments.
fn object_reference(reference: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for key in ["kind", "name"] {
        match str_of(reference, key).unwrap_or("") {
            "" => errors.push(FieldError::required(&path.child(key), "")),
            value => {
                for problem in is_valid_path_segment_name(value) {
                    errors.push(FieldError::invalid(&path.child(key), value, problem));
                }
            }
        }
    }
}

fn metrics(items: &[Value], min: Option<i64>, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for (i, metric) in items.iter().enumerate() {
        metric_spec(metric, &path.index(i), errors);
    }
    let scales_on_objects = items
        .iter()
        .any(|m| matches!(str_of(m, "type"), Some("Object" | "External")));
    if min == Some(0) && !scales_on_objects {
        errors.push(FieldError::forbidden(
            path,
            "must specify at least one Object or External metric to support scaling to zero replicas",
        ));
    }
}

/// The JSON field of each metric source type.
fn source_field(kind: &str) -> Option<&'static str> {
    match kind {
        "Object" => Some("object"),
        "Pods" => Some("pods"),
        "Resource" => Some("resource"),
        "External" => Some("external"),
        "ContainerResource" => Some("containerResource"),
        _ => None,
    }
}

fn metric_spec(metric: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let kind = str_of(metric, "type").unwrap_or("");
    if kind.is_empty() {
        errors.push(FieldError::required(
            &path.child("type"),
            "must specify a metric source type",
        ));
    }
    if !SOURCES.contains(&kind) {
        errors.push(FieldError::not_supported(
            &path.child("type"),
            kind,
            SOURCES,
        ));
    }
    let present: Vec<&str> = [
        "object",
        "external",
        "pods",
        "resource",
        "containerResource",
    ]
    .into_iter()
    .filter(|key| !is_absent(metric.get(*key)))
    .collect();
    if let Some(first) = present.first() {
        source(first, &metric[*first], &path.child(first), errors);
    }
    let expected = source_field(kind);
    match expected {
        Some(field) if is_absent(metric.get(field)) => errors.push(FieldError::required(
            &path.child(field),
            "must populate information for the given metric source",
        )),
        Some(_) => {}
        None => errors.push(FieldError::not_supported(
            &path.child("type"),
            kind,
            SOURCES,
        )),
    }
    if present.len() > 1 {
        for other in present.iter().filter(|p| Some(**p) != expected) {
            let why = "must populate the given metric source only";
            errors.push(FieldError::forbidden(&path.child(other), why));
        }
    }
}

fn source(key: &str, source: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let target = source.get("target").unwrap_or(&NULL);
    let target_path = path.child("target");
    let has = |field: &str| !is_absent(target.get(field));
    match key {
        "object" | "external" | "pods" => {
            if key == "object" {
                let described = source.get("describedObject").unwrap_or(&NULL);
                object_reference(described, &path.child("describedObject"), errors);
            }
            metric_identifier(
                source.get("metric").unwrap_or(&NULL),
                &path.child("metric"),
                errors,
            );
        }
        _ => resource_source(key, source, path, errors),
    }
    metric_target(target, &target_path, errors);
    match key {
        "object" if !has("value") && !has("averageValue") => errors.push(FieldError::required(
            &target_path.child("averageValue"),
            "must set either a target value or averageValue",
        )),
        "external" => {
            if !has("value") && !has("averageValue") {
                errors.push(FieldError::required(
                    &target_path.child("averageValue"),
                    "must set either a target value for metric or a per-pod target",
                ));
            }
            if has("value") && has("averageValue") {
                errors.push(FieldError::forbidden(
                    &target_path.child("value"),
                    "may not set both a target value for metric and a per-pod target",
                ));
            }
        }
        "pods" if !has("averageValue") => errors.push(FieldError::required(
            &target_path.child("averageValue"),
            "must specify a positive target averageValue",
        )),
        "resource" | "containerResource" => utilization_or_value(has, &target_path, errors),
        _ => {}
    }
}

/// A resource metric targets either a utilization or a raw value.
fn utilization_or_value(
    has: impl Fn(&str) -> bool,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if !has("averageUtilization") && !has("averageValue") {
        errors.push(FieldError::required(
            &path.child("averageUtilization"),
            "must set either a target raw value or a target utilization",
        ));
    }
    if has("averageUtilization") && has("averageValue") {
        errors.push(FieldError::forbidden(
            &path.child("averageValue"),
            "may not set both a target raw value and a target utilization",
        ));
    }
}

fn resource_source(key: &str, source: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let name = str_of(source, "name").unwrap_or("");
    if name.is_empty() {
        errors.push(FieldError::required(
            &path.child("name"),
            "must specify a resource name",
        ));
    } else if key == "containerResource" {
        super::resources::resource_name(name, &path.child("name"), errors);
    }
    if key != "containerResource" {
        return;
    }
    let container = str_of(source, "container").unwrap_or("");
    let container_path = path.child("container");
    if container.is_empty() {
        errors.push(FieldError::required(
            &container_path,
            "must specify a container",
        ));
    }
    for problem in is_dns1123_label(container)
        .into_iter()
        .filter(|_| !container.is_empty())
    {
        errors.push(FieldError::invalid(&container_path, container, problem));
    }
}

fn metric_identifier(metric: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    match str_of(metric, "name").unwrap_or("") {
        "" => errors.push(FieldError::required(
            &path.child("name"),
            "must specify a metric name",
        )),
        name => {
            for problem in is_valid_path_segment_name(name) {
                errors.push(FieldError::invalid(&path.child("name"), name, problem));
            }
        }
    }
}

fn metric_target(target: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let kind = str_of(target, "type").unwrap_or("");
    if kind.is_empty() {
        errors.push(FieldError::required(
            &path.child("type"),
            "must specify a metric target type",
        ));
    }
    if !["Utilization", "Value", "AverageValue"].contains(&kind) {
        errors.push(FieldError::invalid(
            &path.child("type"),
            kind,
            "must be either Utilization, Value, or AverageValue",
        ));
    }
    for key in ["value", "averageValue"] {
        let Some(text) = target.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let text = text
            .as_str()
            .map_or_else(|| text.to_string(), str::to_string);
        if text.parse::<Quantity>().map_or(true, |q| q.signum() != 1) {
            errors.push(FieldError::invalid(
                &path.child(key),
                text,
                "must be positive",
            ));
        }
    }
    if let Some(utilization) = int_of(target, "averageUtilization").filter(|u| *u < 1) {
        let why = "must be greater than 0";
        errors.push(FieldError::invalid(
            &path.child("averageUtilization"),
            utilization,
            why,
        ));
    }
}

fn scaling_rules(rules: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if let Some(window) = int_of(rules, "stabilizationWindowSeconds") {
        let window_path = path.child("stabilizationWindowSeconds");
        if window < 0 {
            let why = "must be greater than or equal to zero";
            errors.push(FieldError::invalid(&window_path, window, why));
        }
        if window > MAX_STABILIZATION_SECONDS {
            let why = format!("must be less than or equal to {MAX_STABILIZATION_SECONDS}");
            errors.push(FieldError::invalid(&window_path, window, why));
        }
    }
    if let Some(select) = str_of(rules, "selectPolicy")
        && !["Disabled", "Max", "Min"].contains(&select)
    {
        let allowed = ["Disabled", "Max", "Min"];
        errors.push(FieldError::not_supported(
            &path.child("selectPolicy"),
            select,
            &allowed,
        ));
    }
    let policies_path = path.child("policies");
    let policies = list_of(rules, "policies");
    if policies.is_empty() {
        errors.push(FieldError::required(
            &policies_path,
            "must specify at least one Policy",
        ));
    }
    for (i, policy) in policies.iter().enumerate() {
        scaling_policy(policy, &policies_path.index(i), errors);
    }
}

fn scaling_policy(policy: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let kind = str_of(policy, "type").unwrap_or("");
    if kind != "Pods" && kind != "Percent" {
        errors.push(FieldError::not_supported(
            &path.child("type"),
            kind,
            &["Percent", "Pods"],
        ));
    }
    let value = int_of(policy, "value").unwrap_or(0);
    if value <= 0 {
        errors.push(FieldError::invalid(
            &path.child("value"),
            value,
            "must be greater than zero",
        ));
    }
    let period = int_of(policy, "periodSeconds").unwrap_or(0);
    let period_path = path.child("periodSeconds");
    if period <= 0 {
        errors.push(FieldError::invalid(
            &period_path,
            period,
            "must be greater than zero",
        ));
    }
    if period > MAX_PERIOD_SECONDS {
        let why = format!("must be less than or equal to {MAX_PERIOD_SECONDS}");
        errors.push(FieldError::invalid(&period_path, period, why));
    }
}
