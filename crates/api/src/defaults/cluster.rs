//! Defaults of the kinds that configure the cluster rather than run
//! workloads: PriorityClasses, StorageClasses, IngressClasses,
//! NetworkPolicies, LimitRanges, RBAC bindings and APIServices.

use serde_json::{Value, json};

use crate::json::{
    at_mut, default_absent, default_zero, for_each_item, list_of, object_entry, str_of,
};

/// PriorityClass: pods of the class preempt lower priorities.
pub(crate) fn priority_class(object: &mut Value) {
    default_absent(object, "preemptionPolicy", json!("PreemptLowerPriority"));
}

/// StorageClass: volumes are deleted with their claim and bound at once.
pub(crate) fn storage_class(object: &mut Value) {
    default_absent(object, "reclaimPolicy", json!("Delete"));
    default_absent(object, "volumeBindingMode", json!("Immediate"));
}

/// IngressClass: parameters are cluster-scoped unless said otherwise.
pub(crate) fn ingress_class(object: &mut Value) {
    if let Some(parameters) = at_mut(object, &["spec", "parameters"]).filter(|p| p.is_object()) {
        default_absent(parameters, "scope", json!("Cluster"));
    }
}

/// NetworkPolicy: TCP ports, and policy types implied by the rules given
/// (`Ingress` always, `Egress` when there are egress rules).
pub(crate) fn network_policy(object: &mut Value) {
    let Some(spec) = object_entry(object, "spec") else {
        return;
    };
    for direction in ["ingress", "egress"] {
        for_each_item(spec, direction, |rule| {
            for_each_item(rule, "ports", |port| {
                default_absent(port, "protocol", json!("TCP"));
            });
        });
    }
    if list_of(spec, "policyTypes").is_empty() {
        let mut types = vec![json!("Ingress")];
        if !list_of(spec, "egress").is_empty() {
            types.push(json!("Egress"));
        }
        spec["policyTypes"] = Value::from(types);
    }
}

/// LimitRange: a container limit's default limit is its maximum, and its
/// default request is its default limit, else its minimum.
pub(crate) fn limit_range(object: &mut Value) {
    let Some(spec) = object_entry(object, "spec") else {
        return;
    };
    for_each_item(spec, "limits", |limit| {
        if str_of(limit, "type") != Some("Container") {
            return;
        }
        fill_from(limit, "default", "max");
        fill_from(limit, "defaultRequest", "default");
        fill_from(limit, "defaultRequest", "min");
    });
}

/// Copies the entries of `limit[from]` that `limit[to]` lacks; an empty
/// result stays absent.
fn fill_from(limit: &mut Value, to: &str, from: &str) {
    let Some(source) = limit.get(from).and_then(Value::as_object).cloned() else {
        return;
    };
    let Some(target) = object_entry(limit, to).and_then(Value::as_object_mut) else {
        return;
    };
    for (name, quantity) in source {
        target.entry(name).or_insert(quantity);
    }
    if target.is_empty()
        && let Some(map) = limit.as_object_mut()
    {
        map.remove(to);
    }
}

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// RoleBinding and ClusterRoleBinding: roles and user or group subjects
/// of the RBAC group.
pub(crate) fn role_binding(object: &mut Value) {
    if let Some(role) = object_entry(object, "roleRef") {
        default_zero(role, "apiGroup", json!(RBAC_GROUP));
    }
    for_each_item(object, "subjects", |subject| {
        if matches!(str_of(subject, "kind"), Some("User" | "Group")) {
            default_zero(subject, "apiGroup", json!(RBAC_GROUP));
        }
    });
}

/// APIService: a service backend is reached on port 443.
pub(crate) fn api_service(object: &mut Value) {
    if let Some(service) = at_mut(object, &["spec", "service"]).filter(|s| s.is_object()) {
        default_absent(service, "port", json!(443));
    }
}
