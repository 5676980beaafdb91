//! Validation of policy/v1 PodDisruptionBudgets and scheduling.k8s.io/v1
//! PriorityClasses.

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{bool_of, int_of, is_absent, list_of, str_of};

use super::apps::{at_most_100_percent, int_or_percent};
use super::pod::NULL;
use super::{immutable, nonnegative, selector};

/// The priority classes only the system may define, with their values.
pub(crate) const SYSTEM_PRIORITY_CLASSES: &[(&str, i64)] = &[
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];
/// The highest priority a user-defined class may have.
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

/// PodDisruptionBudget: its spec, and on update its status.
pub(crate) fn pod_disruption_budget(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    let (min, max) = (spec.get("minAvailable"), spec.get("maxUnavailable"));
    if !is_absent(min) && !is_absent(max) {
        errors.push(FieldError::invalid(
            &path,
            spec.clone(),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (value, key) in [(min, "minAvailable"), (max, "maxUnavailable")] {
        if !is_absent(value) {
            int_or_percent(value, &path.child(key), &mut errors);
            at_most_100_percent(value, &path.child(key), &mut errors);
        }
    }
    errors.extend(selector::validate(
        spec.get("selector"),
        &path.child("selector"),
    ));
    if let Some(policy) = str_of(spec, "unhealthyPodEvictionPolicy")
        && !["AlwaysAllow", "IfHealthyBudget"].contains(&policy)
    {
        errors.push(FieldError::not_supported(
            &path.child("unhealthyPodEvictionPolicy"),
            policy,
            &["AlwaysAllow", "IfHealthyBudget"],
        ));
    }
    if old.is_some() {
        disruption_status(object.get("status").unwrap_or(&NULL), &mut errors);
    }
    errors
}

fn disruption_status(status: &Value, errors: &mut Vec<FieldError>) {
    let path = FieldPath::new("status");
    super::conditions::conditions(
        list_of(status, "conditions"),
        &path.child("conditions"),
        errors,
    );
    for key in [
        "disruptionsAllowed",
        "currentHealthy",
        "desiredHealthy",
        "expectedPods",
    ] {
        nonnegative(int_of(status, key), &path.child(key), errors);
    }
}

/// PriorityClass: the `system-` names are the system's, user classes stay
/// below the system's values, and on update value and preemption policy
/// are fixed.
pub(crate) fn priority_class(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = crate::json::at(object, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("");
    let value = int_of(object, "value").unwrap_or(0);
    if name.starts_with("system-") {
        if let Err(why) = known_system_class(name, value, bool_of(object, "globalDefault")) {
            errors.push(FieldError::forbidden(
                &FieldPath::new("metadata").child("name"),
                format!("priority class names with 'system-' prefix are reserved for system use only. error: {why}"),
            ));
        }
    } else if value > HIGHEST_USER_PRIORITY {
        errors.push(FieldError::forbidden(
            &FieldPath::new("value"),
            format!("maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"),
        ));
    }
    if let Some(policy) = object.get("preemptionPolicy").filter(|p| !p.is_null()) {
        preemption_policy(policy, &mut errors);
    }
    if let Some(old) = old {
        if int_of(old, "value").unwrap_or(0) != value {
            errors.push(FieldError::forbidden(
                &FieldPath::new("value"),
                "may not be changed in an update.",
            ));
        }
        let path = FieldPath::new("preemptionPolicy");
        immutable(
            object.get("preemptionPolicy"),
            old.get("preemptionPolicy"),
            &path,
            &mut errors,
        );
    }
    errors
}

/// Whether `name` is one of the system's classes, with its value and not
/// the default.
fn known_system_class(name: &str, value: i64, global_default: Option<bool>) -> Result<(), String> {
    let Some((_, expected)) = SYSTEM_PRIORITY_CLASSES.iter().find(|(n, _)| *n == name) else {
        return Err(format!("{name} is not a known system priority class"));
    };
    if value != *expected {
        return Err(format!("value of {name} PriorityClass must be {expected}"));
    }
    if global_default == Some(true) {
        return Err(format!(
            "globalDefault of {name} PriorityClass must be false"
        ));
    }
    Ok(())
}

fn preemption_policy(policy: &Value, errors: &mut Vec<FieldError>) {
    let path = FieldPath::new("preemptionPolicy");
    match policy.as_str().unwrap_or("") {
        "PreemptLowerPriority" | "Never" => {}
        "" => errors.push(FieldError::required(&path, "")),
        other => errors.push(FieldError::not_supported(
            &path,
            other,
            &["PreemptLowerPriority", "Never"],
        )),
    }
}
