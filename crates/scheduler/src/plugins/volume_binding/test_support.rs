//! Builders the volume plugins' tests share: pods, nodes, claims,
//! volumes, classes and CSINodes from JSON, as the API would hold them.

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use keelson_api::k8s_openapi::api::storage::v1::{CSINode, StorageClass};
use serde_json::{Value, json};

use crate::framework::{NodeInfo, PodInfo};

fn object<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid object in a test")
}

/// A pod `name` in namespace `default` with `volumes`.
pub fn pod(name: &str, volumes: Value) -> Arc<PodInfo> {
    let pod: Pod = object(json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
        "spec": {"containers": [{"name": "c"}], "volumes": volumes},
    }));
    Arc::new(PodInfo::new(Arc::new(pod)))
}

/// A volume named `name` of the claim `claim`.
pub fn claim_volume(name: &str, claim: &str) -> Value {
    json!({"name": name, "persistentVolumeClaim": {"claimName": claim}})
}

/// A node with `labels`.
pub fn node(name: &str, labels: Value) -> Arc<Node> {
    Arc::new(object(
        json!({"metadata": {"name": name, "labels": labels}}),
    ))
}

/// A node with its pods.
pub fn node_info(node: Arc<Node>, pods: &[Arc<PodInfo>]) -> NodeInfo {
    let mut info = NodeInfo::new(node);
    for pod in pods {
        info.add_pod(pod.clone());
    }
    info
}

/// A claim in namespace `default`: `spec` as given, `annotations` too.
pub fn pvc(name: &str, spec: Value, annotations: Value) -> PersistentVolumeClaim {
    object(json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
                     "annotations": annotations},
        "spec": spec,
    }))
}

/// A persistent volume with `labels` and `spec`, in phase `Available`.
pub fn pv(name: &str, labels: Value, spec: Value) -> PersistentVolume {
    object(json!({
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
        "status": {"phase": "Available"},
    }))
}

/// A storage class.
pub fn class(name: &str, mode: &str, provisioner: &str, topologies: Value) -> StorageClass {
    object(json!({
        "metadata": {"name": name},
        "provisioner": provisioner,
        "volumeBindingMode": mode,
        "allowedTopologies": topologies,
    }))
}

/// A CSINode with `drivers` (`name`, optional allocatable count).
pub fn csi_node(name: &str, drivers: &[(&str, Option<i32>)]) -> CSINode {
    let drivers: Vec<Value> = drivers
        .iter()
        .map(|(driver, count)| {
            let mut value = json!({"name": driver, "nodeID": name});
            if let Some(count) = count {
                value["allocatable"] = json!({"count": count});
            }
            value
        })
        .collect();
    object(json!({"metadata": {"name": name}, "spec": {"drivers": drivers}}))
}
