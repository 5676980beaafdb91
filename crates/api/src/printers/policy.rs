//! The tables of pod disruption budgets, priority classes and resource
//! quotas.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ResourceQuota;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::format::{age, quantity};
use super::{AGE, Column, NAME, Row, col, wide};

pub(crate) const POD_DISRUPTION_BUDGET: &[Column] = &[
    NAME,
    col(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    col(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

pub(crate) const PRIORITY_CLASS: &[Column] = &[
    NAME,
    col(
        "Value",
        "integer",
        "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.",
    ),
    col(
        "Global-Default",
        "boolean",
        "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.",
    ),
    AGE,
    wide(
        "PreemptionPolicy",
        "string",
        "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
    ),
];

pub(crate) const RESOURCE_QUOTA: &[Column] = &[
    NAME,
    col(
        "Request",
        "string",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    col(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE,
];

/// An int-or-percent as upstream prints it, `N/A` when unset.
fn int_or_percent(value: Option<&IntOrString>) -> String {
    match value {
        Some(IntOrString::Int(n)) => n.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => "N/A".to_string(),
    }
}

pub(crate) fn pod_disruption_budget(object: &Value, now: Timestamp) -> Option<Row> {
    let budget: PodDisruptionBudget = super::typed(object)?;
    let spec = budget.spec.unwrap_or_default();
    let allowed = budget.status.map_or(0, |s| s.disruptions_allowed);
    Some(Row::new(vec![
        json!(budget.metadata.name.unwrap_or_default()),
        json!(int_or_percent(spec.min_available.as_ref())),
        json!(int_or_percent(spec.max_unavailable.as_ref())),
        json!(allowed),
        json!(age(budget.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) fn priority_class(object: &Value, now: Timestamp) -> Option<Row> {
    let class: PriorityClass = super::typed(object)?;
    Some(Row::new(vec![
        json!(class.metadata.name.unwrap_or_default()),
        json!(class.value),
        json!(class.global_default.unwrap_or(false)),
        json!(age(class.metadata.creation_timestamp.as_ref(), now)),
        json!(class.preemption_policy.unwrap_or_default()),
    ]))
}

/// `name: used/hard` for each hard limit, requests and limits apart, by
/// resource name.
pub(crate) fn resource_quota(object: &Value, now: Timestamp) -> Option<Row> {
    let quota: ResourceQuota = super::typed(object)?;
    let status = quota.status.unwrap_or_default();
    let hard = status.hard.unwrap_or_default();
    let used = status.used.unwrap_or_default();
    let (mut requests, mut limits) = (Vec::new(), Vec::new());
    for (name, limit) in &hard {
        let used = quantity(used.get(name).map(|q| q.0.as_str()));
        let cell = format!("{name}: {used}/{}", quantity(Some(&limit.0)));
        match name.split_once('.') {
            Some(("limits", _)) => limits.push(cell),
            _ => requests.push(cell),
        }
    }
    Some(Row::new(vec![
        json!(quota.metadata.name.unwrap_or_default()),
        json!(requests.join(", ")),
        json!(limits.join(", ")),
        json!(age(quota.metadata.creation_timestamp.as_ref(), now)),
    ]))
}
