//! A node as the scheduler sees it: the Node object and the pods bound or
//! assumed on it, with their sums kept as pods come and go (requested
//! resources, host ports in use, claims mounted), as upstream's
//! `framework.NodeInfo`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Node, Pod};

use super::pod_info::PodInfo;
use super::resource::Resource;

/// A host port in use: its IP (`0.0.0.0` for any), protocol and number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostPort {
    pub ip: String,
    pub protocol: String,
    pub port: i32,
}

impl HostPort {
    /// Whether two uses of a port collide: the same protocol and number,
    /// and the same IP or either of them any IP.
    pub fn conflicts(&self, other: &HostPort) -> bool {
        const ANY: &str = "0.0.0.0";
        self.port == other.port
            && self.protocol == other.protocol
            && (self.ip == other.ip || self.ip == ANY || other.ip == ANY)
    }
}

/// The host ports a pod asks for (its containers' `hostPort`s, not its
/// init containers', as upstream counts them; an empty IP is any, an
/// empty protocol TCP).
pub fn host_ports(pod: &Pod) -> Vec<HostPort> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|port| {
            let number = port.host_port.filter(|p| *p > 0)?;
            let ip = port.host_ip.clone().filter(|ip| !ip.is_empty());
            let protocol = port.protocol.clone().filter(|p| !p.is_empty());
            Some(HostPort {
                ip: ip.unwrap_or_else(|| "0.0.0.0".to_string()),
                protocol: protocol.unwrap_or_else(|| "TCP".to_string()),
                port: number,
            })
        })
        .collect()
}

/// A node and its pods.
#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    node: Option<Arc<Node>>,
    pub pods: Vec<Arc<PodInfo>>,
    /// The pods with affinity or anti-affinity terms of any kind.
    pub pods_with_affinity: Vec<Arc<PodInfo>>,
    /// The pods with required anti-affinity terms.
    pub pods_with_required_anti_affinity: Vec<Arc<PodInfo>>,
    pub used_ports: BTreeSet<HostPort>,
    /// What its pods request, summed.
    pub requested: Resource,
    /// What its pods request with missing requests defaulted, for scoring.
    pub non_zero_requested: Resource,
    /// What the node offers (its `status.allocatable`).
    pub allocatable: Resource,
    /// How many of its pods use each PersistentVolumeClaim, by
    /// `namespace/name`.
    pub pvc_ref_counts: HashMap<String, u32>,
    /// Changed on every change, so a snapshot copies only changed nodes.
    pub generation: u64,
}

impl NodeInfo {
    /// A node with no pods.
    pub fn new(node: Arc<Node>) -> NodeInfo {
        let mut info = NodeInfo::default();
        info.set_node(node);
        info
    }

    pub fn node(&self) -> Option<&Node> {
        self.node.as_deref()
    }

    pub fn node_arc(&self) -> Option<&Arc<Node>> {
        self.node.as_ref()
    }

    /// The node's name ("" for a node known only by its pods).
    pub fn name(&self) -> &str {
        self.node()
            .and_then(|n| n.metadata.name.as_deref())
            .unwrap_or_default()
    }

    /// The node's labels (none when unset).
    pub fn labels(&self) -> &BTreeMap<String, String> {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        self.node()
            .and_then(|n| n.metadata.labels.as_ref())
            .unwrap_or(&NONE)
    }

    pub fn set_node(&mut self, node: Arc<Node>) {
        let allocatable = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
        self.allocatable = Resource::from_list(allocatable);
        self.node = Some(node);
    }

    pub fn remove_node(&mut self) {
        self.node = None;
    }

    /// Counts `pod` on this node.
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        self.requested.add(&pod.requests);
        self.non_zero_requested.add(&pod.non_zero_requests);
        self.used_ports.extend(host_ports(&pod.pod));
        for claim in claims(&pod.pod) {
            *self.pvc_ref_counts.entry(claim).or_insert(0) += 1;
        }
        if pod.has_affinity() {
            self.pods_with_affinity.push(pod.clone());
        }
        if pod.has_required_anti_affinity() {
            self.pods_with_required_anti_affinity.push(pod.clone());
        }
        self.pods.push(pod);
    }

    /// Stops counting the pod of `uid`; whether it was here.
    pub fn remove_pod(&mut self, uid: &str) -> bool {
        let Some(index) = self.pods.iter().position(|p| p.uid() == uid) else {
            return false;
        };
        let pod = self.pods.swap_remove(index);
        self.pods_with_affinity.retain(|p| p.uid() != uid);
        self.pods_with_required_anti_affinity
            .retain(|p| p.uid() != uid);
        self.requested.sub(&pod.requests);
        self.non_zero_requested.sub(&pod.non_zero_requests);
        // Ports are recomputed: two pods may name one port on different IPs.
        self.used_ports = self.pods.iter().flat_map(|p| host_ports(&p.pod)).collect();
        for claim in claims(&pod.pod) {
            if let Some(count) = self.pvc_ref_counts.get_mut(&claim) {
                *count -= 1;
                if *count == 0 {
                    self.pvc_ref_counts.remove(&claim);
                }
            }
        }
        true
    }
}

/// The PersistentVolumeClaims a pod mounts, as `namespace/name`.
pub fn claims(pod: &Pod) -> Vec<String> {
    let namespace = super::pod_info::namespace(pod);
    let volumes = pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
    volumes
        .filter_map(|volume| {
            let claim = volume.persistent_volume_claim.as_ref()?;
            Some(format!("{namespace}/{}", claim.claim_name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(uid: &str, spec: serde_json::Value) -> Arc<PodInfo> {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": uid, "namespace": "ns", "uid": uid}, "spec": spec,
        }))
        .expect("a pod");
        Arc::new(PodInfo::new(Arc::new(pod)))
    }

    #[test]
    fn pods_added_and_removed_keep_the_sums() {
        let mut node = NodeInfo::default();
        let ports = json!([{"containerPort": 80, "hostPort": 8080}]);
        node.add_pod(pod(
            "a",
            json!({"containers": [
            {"name": "c", "ports": ports, "resources": {"requests": {"cpu": "1"}}}
        ], "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]}),
        ));
        node.add_pod(pod("b", json!({"containers": [{"name": "c"}]})));
        assert_eq!(node.requested.milli_cpu, 1000);
        assert_eq!(node.non_zero_requested.milli_cpu, 1100);
        assert_eq!(node.pvc_ref_counts.get("ns/data"), Some(&1));
        assert!(
            node.used_ports
                .iter()
                .any(|p| p.port == 8080 && p.protocol == "TCP")
        );
        assert!(node.remove_pod("a"));
        assert!(!node.remove_pod("a"));
        assert_eq!(node.requested.milli_cpu, 0);
        assert!(node.used_ports.is_empty() && node.pvc_ref_counts.is_empty());
        assert_eq!(node.pods.len(), 1);
    }

    #[test]
    fn any_ip_collides_with_every_ip_of_its_port_and_protocol() {
        let port = |ip: &str, protocol: &str| HostPort {
            ip: ip.into(),
            protocol: protocol.into(),
            port: 80,
        };
        assert!(port("0.0.0.0", "TCP").conflicts(&port("127.0.0.1", "TCP")));
        assert!(!port("127.0.0.2", "TCP").conflicts(&port("127.0.0.1", "TCP")));
        assert!(!port("0.0.0.0", "UDP").conflicts(&port("127.0.0.1", "TCP")));
    }
}
