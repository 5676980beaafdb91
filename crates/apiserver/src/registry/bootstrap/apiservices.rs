//! The local APIServices: one per group-version the server serves, with
//! upstream's group and version priorities (which order the groups in
//! discovery) and the `Available` condition of an API served in-process.

use serde_json::{Value, json};

/// `(group, version, group priority minimum, version priority)` of the
/// built-in group-versions, as upstream's aggregator ranks them.
const PRIORITIES: &[(&str, &str, i64, i64)] = &[
    ("", "v1", 18000, 1),
    ("apiregistration.k8s.io", "v1", 18000, 15),
    ("apps", "v1", 17800, 15),
    ("events.k8s.io", "v1", 17750, 15),
    ("authentication.k8s.io", "v1", 17700, 15),
    ("authorization.k8s.io", "v1", 17600, 15),
    ("autoscaling", "v2", 17500, 30),
    ("autoscaling", "v1", 17500, 15),
    ("batch", "v1", 17400, 15),
    ("certificates.k8s.io", "v1", 17300, 15),
    ("networking.k8s.io", "v1", 17200, 15),
    ("policy", "v1", 17100, 15),
    ("rbac.authorization.k8s.io", "v1", 17000, 15),
    ("storage.k8s.io", "v1", 16800, 15),
    ("admissionregistration.k8s.io", "v1", 16700, 15),
    ("apiextensions.k8s.io", "v1", 16700, 15),
    ("scheduling.k8s.io", "v1", 16600, 15),
    ("coordination.k8s.io", "v1", 16500, 15),
    ("node.k8s.io", "v1", 16300, 15),
    ("discovery.k8s.io", "v1", 16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1", 16100, 21),
];

/// The label the aggregator puts on the APIServices it registers at start.
const AUTOMANAGED: &str = "kube-aggregator.kubernetes.io/automanaged";

/// The name of a group-version's APIService: `<version>.<group>`.
pub(super) fn name(group: &str, version: &str) -> String {
    format!("{version}.{group}")
}

/// The APIService of a served group-version; `None` for a group-version
/// without a built-in priority (upstream registers none for those, so
/// that a custom resource's group cannot get stuck in the list).
pub(super) fn api_service(group: &str, version: &str) -> Option<Value> {
    let (_, _, group_priority, version_priority) = PRIORITIES
        .iter()
        .find(|(g, v, _, _)| *g == group && *v == version)?;
    Some(json!({
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": name(group, version), "labels": {AUTOMANAGED: "onstart"}},
        "spec": {
            "group": group,
            "version": version,
            "groupPriorityMinimum": group_priority,
            "versionPriority": version_priority,
            "service": null,
        },
    }))
}

/// The status of an API this server serves itself.
pub(super) fn available(now: &str) -> Value {
    json!({"conditions": [{
        "type": "Available",
        "status": "True",
        "lastTransitionTime": now,
        "reason": "Local",
        "message": "Local APIServices are always available",
    }]})
}

/// Whether an APIService's status says it is available.
pub(super) fn is_available(service: &Value) -> bool {
    service
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Available" && c["status"] == "True")
}
