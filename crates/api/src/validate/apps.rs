//! Validation of the apps/v1 workloads: Deployment, ReplicaSet,
//! StatefulSet and DaemonSet, on create and update.

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{int_of, is_absent, semantically_equal, str_of};
use crate::label_selector::Selector;

use super::pod::{NULL, TEMPLATE, pod_template};
use super::{immutable, nonnegative, selector};

/// Deployment.
pub(crate) fn deployment(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    nonnegative(
        int_of(spec, "replicas"),
        &path.child("replicas"),
        &mut errors,
    );
    if let Some(selector) = required_selector(spec, &path, "deployment", &mut errors) {
        replica_set_template(spec, &selector, &path, &mut errors);
    }
    deployment_strategy(spec, &path.child("strategy"), &mut errors);
    nonnegative(
        int_of(spec, "minReadySeconds"),
        &path.child("minReadySeconds"),
        &mut errors,
    );
    nonnegative(
        int_of(spec, "revisionHistoryLimit"),
        &path.child("revisionHistoryLimit"),
        &mut errors,
    );
    if let Some(deadline) = int_of(spec, "progressDeadlineSeconds") {
        let deadline_path = path.child("progressDeadlineSeconds");
        nonnegative(Some(deadline), &deadline_path, &mut errors);
        if deadline <= int_of(spec, "minReadySeconds").unwrap_or(0) {
            errors.push(FieldError::invalid(
                &deadline_path,
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
    immutable_selector(spec, old, &path, &mut errors);
    errors
}

/// ReplicaSet.
pub(crate) fn replica_set(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    nonnegative(
        int_of(spec, "replicas"),
        &path.child("replicas"),
        &mut errors,
    );
    nonnegative(
        int_of(spec, "minReadySeconds"),
        &path.child("minReadySeconds"),
        &mut errors,
    );
    // Upstream names the wrong kind in this message; clients see it as is.
    if let Some(selector) = required_selector(spec, &path, "deployment", &mut errors) {
        replica_set_template(spec, &selector, &path, &mut errors);
    }
    immutable_selector(spec, old, &path, &mut errors);
    errors
}

/// StatefulSet. Upstream checks only the labels and annotations of its
/// pod template, not the pod spec.
pub(crate) fn stateful_set(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    match str_of(spec, "podManagementPolicy").unwrap_or("") {
        "" => errors.push(FieldError::required(&path.child("podManagementPolicy"), "")),
        "OrderedReady" | "Parallel" => {}
        other => errors.push(FieldError::invalid(
            &path.child("podManagementPolicy"),
            other,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    stateful_set_strategy(spec, &path.child("updateStrategy"), &mut errors);
    retention_policy(spec, &path, &mut errors);
    for key in ["replicas", "minReadySeconds"] {
        nonnegative(int_of(spec, key), &path.child(key), &mut errors);
    }
    let start = spec.get("ordinals").and_then(|o| int_of(o, "start"));
    nonnegative(start, &path.child("ordinals.start"), &mut errors);
    if let Some(selector) = required_selector(spec, &path, "statefulset", &mut errors) {
        let template = spec.get("template").unwrap_or(&NULL);
        let template_path = path.child("template");
        selector::check_template_match(&selector, template, &template_path, &mut errors);
        let meta = template.get("metadata").unwrap_or(&NULL);
        errors.extend(crate::validation::validate_labels(
            &crate::json::string_map(meta, "labels"),
            &template_path.child("labels"),
        ));
        errors.extend(crate::validation::validate_annotations(
            &crate::json::string_map(meta, "annotations"),
            &template_path.child("annotations"),
        ));
    }
    long_running_template(spec, &path, "StatefulSet", &mut errors);
    if let Some(old) = old {
        stateful_set_update(spec, old.get("spec").unwrap_or(&NULL), &mut errors);
    }
    errors
}

/// DaemonSet.
pub(crate) fn daemon_set(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let selector_value = spec.get("selector").filter(|s| !s.is_null());
    let mut errors = selector::validate(selector_value, &path.child("selector"));
    let template = spec.get("template").unwrap_or(&NULL);
    if let Some(selector) = selector::parse(selector_value)
        && !selector.matches(&selector::template_labels(template))
    {
        errors.push(FieldError::invalid(
            &path.child("template").child("metadata").child("labels"),
            selector::template_labels_value(template),
            "`selector` does not match template `labels`",
        ));
    }
    if selector_value.is_some_and(selector::is_empty) {
        let value = selector_value.cloned().unwrap_or(Value::Null);
        errors.push(FieldError::invalid(
            &path.child("selector"),
            value,
            "empty selector is invalid for daemonset",
        ));
    }
    errors.extend(pod_template(template, &path.child("template"), TEMPLATE));
    long_running_template(spec, &path, "DaemonSet", &mut errors);
    for key in [
        "minReadySeconds",
        "templateGeneration",
        "revisionHistoryLimit",
    ] {
        nonnegative(int_of(spec, key), &path.child(key), &mut errors);
    }
    daemon_set_strategy(spec, &path.child("updateStrategy"), &mut errors);
    immutable_selector(spec, old, &path, &mut errors);
    errors
}

/// `spec.selector` must be set and not empty; returns the selector when it
/// can be used to check the template.
fn required_selector(
    spec: &Value,
    path: &FieldPath,
    kind: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Selector> {
    let selector_path = path.child("selector");
    let value = spec.get("selector").filter(|s| !s.is_null());
    match value {
        None => errors.push(FieldError::required(&selector_path, "")),
        Some(value) => {
            errors.extend(selector::validate(Some(value), &selector_path));
            if selector::is_empty(value) {
                errors.push(FieldError::invalid(
                    &selector_path,
                    value.clone(),
                    format!("empty selector is invalid for {kind}"),
                ));
            }
        }
    }
    let parsed = selector::parse(value);
    if parsed.is_none() {
        let value = value.cloned().unwrap_or(Value::Null);
        errors.push(FieldError::invalid(
            &selector_path,
            value,
            "invalid label selector",
        ));
    }
    parsed
}

/// The pod template of a Deployment or ReplicaSet.
fn replica_set_template(
    spec: &Value,
    selector: &Selector,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let template = spec.get("template").unwrap_or(&NULL);
    let template_path = path.child("template");
    selector::check_template_match(selector, template, &template_path, errors);
    errors.extend(pod_template(template, &template_path, TEMPLATE));
    long_running_template(spec, path, "ReplicaSet", errors);
}

/// Pods of long-running workloads always restart and have no deadline.
pub(crate) fn long_running_template(
    spec: &Value,
    path: &FieldPath,
    kind: &str,
    errors: &mut Vec<FieldError>,
) {
    let pod_spec = crate::json::at(spec, &["template", "spec"]).unwrap_or(&NULL);
    let pod_path = path.child("template").child("spec");
    let restart = str_of(pod_spec, "restartPolicy").unwrap_or("");
    if restart != "Always" {
        errors.push(FieldError::not_supported(
            &pod_path.child("restartPolicy"),
            restart,
            &["Always"],
        ));
    }
    if !is_absent(pod_spec.get("activeDeadlineSeconds")) {
        errors.push(FieldError::forbidden(
            &pod_path.child("activeDeadlineSeconds"),
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
}

/// On update, apps/v1 selectors may not change.
fn immutable_selector(
    spec: &Value,
    old: Option<&Value>,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if let Some(old) = old {
        let old_selector = crate::json::at(old, &["spec", "selector"]);
        immutable(
            spec.get("selector").filter(|s| !s.is_null()),
            old_selector,
            &path.child("selector"),
            errors,
        );
    }
}

/// An int-or-percent that must be a non-negative number or `N%`; returns
/// its number (percent or count) for the zero checks.
pub(crate) fn int_or_percent(
    value: Option<&Value>,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> i64 {
    match value {
        Some(Value::String(text)) => match percent(text) {
            Some(number) => number,
            None => {
                let message = crate::validation::regex_error(
                    "a valid percent string must be a numeric string followed by an ending '%'",
                    "[0-9]+%",
                    &["1%", "93%"],
                );
                errors.push(FieldError::invalid(path, text.as_str(), message));
                0
            }
        },
        Some(Value::Number(number)) => {
            let number = number.as_i64().unwrap_or(0);
            nonnegative(Some(number), path, errors);
            number
        }
        _ => 0,
    }
}

/// The number of an `N%` string.
fn percent(text: &str) -> Option<i64> {
    let digits = text.strip_suffix('%')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(i64::MAX))
}

/// `must not be greater than 100%` for a percentage above 100.
pub(crate) fn at_most_100_percent(
    value: Option<&Value>,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if let Some(Value::String(text)) = value
        && percent(text).is_some_and(|p| p > 100)
    {
        errors.push(FieldError::invalid(
            path,
            text.as_str(),
            "must not be greater than 100%",
        ));
    }
}

fn deployment_strategy(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let strategy = spec.get("strategy").unwrap_or(&NULL);
    let rolling = strategy.get("rollingUpdate").filter(|r| !r.is_null());
    match str_of(strategy, "type").unwrap_or("") {
        "Recreate" if rolling.is_some() => errors.push(FieldError::forbidden(
            &path.child("rollingUpdate"),
            "may not be specified when strategy `type` is 'Recreate'",
        )),
        "Recreate" => {}
        "RollingUpdate" => match rolling {
            None => errors.push(FieldError::required(
                &path.child("rollingUpdate"),
                "this should be defaulted and never be nil",
            )),
            Some(rolling) => {
                let rolling_path = path.child("rollingUpdate");
                let unavailable_path = rolling_path.child("maxUnavailable");
                let unavailable = rolling.get("maxUnavailable");
                let max_unavailable = int_or_percent(unavailable, &unavailable_path, errors);
                let max_surge = int_or_percent(
                    rolling.get("maxSurge"),
                    &rolling_path.child("maxSurge"),
                    errors,
                );
                if max_unavailable == 0 && max_surge == 0 {
                    errors.push(FieldError::invalid(
                        &unavailable_path,
                        unavailable.cloned().unwrap_or(Value::from(0)),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                at_most_100_percent(unavailable, &unavailable_path, errors);
            }
        },
        _ => errors.push(FieldError::not_supported(
            path,
            strategy.clone(),
            &["Recreate", "RollingUpdate"],
        )),
    }
}

fn daemon_set_strategy(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let strategy = spec.get("updateStrategy").unwrap_or(&NULL);
    match str_of(strategy, "type").unwrap_or("") {
        "OnDelete" => {}
        "RollingUpdate" => {
            let Some(rolling) = strategy.get("rollingUpdate").filter(|r| !r.is_null()) else {
                errors.push(FieldError::required(&path.child("rollingUpdate"), ""));
                return;
            };
            let rolling_path = path.child("rollingUpdate");
            let (unavailable, surge) = (rolling.get("maxUnavailable"), rolling.get("maxSurge"));
            let unavailable_path = rolling_path.child("maxUnavailable");
            let surge_path = rolling_path.child("maxSurge");
            let has_unavailable = int_or_percent(unavailable, &unavailable_path, errors) != 0;
            let has_surge = int_or_percent(surge, &surge_path, errors) != 0;
            at_most_100_percent(unavailable, &unavailable_path, errors);
            at_most_100_percent(surge, &surge_path, errors);
            if has_unavailable && has_surge {
                errors.push(FieldError::invalid(
                    &surge_path,
                    surge.cloned().unwrap_or(Value::Null),
                    "may not be set when maxUnavailable is non-zero",
                ));
            } else if !has_unavailable && !has_surge {
                errors.push(FieldError::required(
                    &unavailable_path,
                    "cannot be 0 when maxSurge is 0",
                ));
            }
        }
        _ => errors.push(FieldError::not_supported(
            path,
            strategy.clone(),
            &["RollingUpdate", "OnDelete"],
        )),
    }
}

fn stateful_set_strategy(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let strategy = spec.get("updateStrategy").unwrap_or(&NULL);
    let rolling = strategy.get("rollingUpdate").filter(|r| !r.is_null());
    match str_of(strategy, "type").unwrap_or("") {
        "" => errors.push(FieldError::required(path, "")),
        "OnDelete" => {
            if let Some(rolling) = rolling {
                errors.push(FieldError::invalid(
                    &path.child("rollingUpdate"),
                    rolling.clone(),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(rolling) = rolling {
                let rolling_path = path.child("rollingUpdate");
                nonnegative(
                    int_of(rolling, "partition"),
                    &rolling_path.child("partition"),
                    errors,
                );
                let unavailable = rolling.get("maxUnavailable").filter(|m| !m.is_null());
                if let Some(value) = unavailable {
                    let unavailable_path = rolling_path.child("maxUnavailable");
                    if int_or_percent(Some(value), &unavailable_path, errors) == 0 {
                        errors.push(FieldError::invalid(
                            &unavailable_path,
                            value.clone(),
                            "cannot be 0",
                        ));
                    }
                    at_most_100_percent(Some(value), &unavailable_path, errors);
                }
            }
        }
        _ => errors.push(FieldError::invalid(
            path,
            strategy.clone(),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
}

fn retention_policy(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let Some(policy) = spec
        .get("persistentVolumeClaimRetentionPolicy")
        .filter(|p| !p.is_null())
    else {
        return;
    };
    let policy_path = path.child("persistentVolumeClaimRetentionPolicy");
    for key in ["whenDeleted", "whenScaled"] {
        let value = str_of(policy, key).unwrap_or("");
        if value != "Retain" && value != "Delete" {
            errors.push(FieldError::not_supported(
                &policy_path.child(key),
                value,
                &["Retain", "Delete"],
            ));
        }
    }
}

/// The fields of a StatefulSet spec an update may change.
const STATEFUL_SET_MUTABLE: &[&str] = &[
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

fn stateful_set_update(spec: &Value, old_spec: &Value, errors: &mut Vec<FieldError>) {
    let without_mutable = |spec: &Value| {
        let mut spec = spec.clone();
        if let Some(map) = spec.as_object_mut() {
            for key in STATEFUL_SET_MUTABLE {
                map.remove(*key);
            }
        }
        spec
    };
    if !semantically_equal(
        Some(&without_mutable(spec)),
        Some(&without_mutable(old_spec)),
    ) {
        errors.push(FieldError::forbidden(
            &FieldPath::new("spec"),
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    }
}
