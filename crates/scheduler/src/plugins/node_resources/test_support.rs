//! Pods and nodes for the tests of both plugins, built from JSON.

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::{Value, json};

use crate::framework::{NodeInfo, PodInfo};

/// A pod named `name` with `spec`.
pub fn pod(name: &str, spec: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "uid": name},
        "spec": spec,
    }))
    .expect("a pod")
}

/// A pod whose containers request each of `requests` (resource lists).
pub fn requesting(requests: &[Value]) -> PodInfo {
    PodInfo::new(Arc::new(pod(
        "p",
        json!({"containers": containers(requests)}),
    )))
}

/// Containers `c0`, `c1`, ... requesting each of `requests`.
pub fn containers(requests: &[Value]) -> Value {
    let list: Vec<Value> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| json!({"name": format!("c{i}"), "resources": {"requests": r}}))
        .collect();
    Value::Array(list)
}

/// A node named `name` offering `allocatable`.
pub fn node(name: &str, allocatable: Value) -> Arc<Node> {
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": name},
        "status": {"allocatable": allocatable, "capacity": allocatable},
    }))
    .expect("a node");
    Arc::new(node)
}

/// A node with a pod bound for each spec of `pods`.
pub fn node_with(node: Arc<Node>, pods: &[Value]) -> NodeInfo {
    let mut info = NodeInfo::new(node);
    for (i, spec) in pods.iter().enumerate() {
        let pod = PodInfo::new(Arc::new(self::pod(&format!("existing-{i}"), spec.clone())));
        info.add_pod(Arc::new(pod));
    }
    info
}
