//! The scheduler's cache, as upstream's: every node with the pods bound to
//! it and those *assumed* there — placed by a scheduling cycle whose
//! binding has not been confirmed by the watch yet — so that binding runs
//! apart from scheduling and the next pod already sees the last one's
//! resources taken. A binding that fails forgets the assumed pod; the
//! watch's version of a pod replaces the assumed one when it arrives.
//!
//! Each cycle reads a [`Snapshot`] brought up to date from the nodes that
//! changed since the last one, so a cycle over 5,000 nodes copies only
//! what changed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use keelson_api::k8s_openapi::api::core::v1::{Node, Pod};

use crate::framework::{NodeInfo, PodInfo, Snapshot};

/// The cache.
#[derive(Default)]
pub struct Cache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    nodes: BTreeMap<String, NodeInfo>,
    pods: HashMap<String, PodState>,
    /// Nodes changed since the last snapshot.
    dirty: HashSet<String>,
    /// Whether nodes were added or removed since the last snapshot.
    nodes_changed: bool,
    generation: u64,
}

struct PodState {
    node: String,
    assumed: bool,
}

impl Cache {
    pub fn new() -> Cache {
        Cache::default()
    }

    /// A node added or changed.
    pub fn add_node(&self, node: Arc<Node>) {
        let mut inner = self.lock();
        let name = node.metadata.name.clone().unwrap_or_default();
        let known = inner.nodes.get(&name).is_some_and(|n| n.node().is_some());
        inner.nodes.entry(name.clone()).or_default().set_node(node);
        if !known {
            inner.nodes_changed = true;
        }
        inner.touch(&name);
    }

    /// A node deleted (its pods stay counted until they are deleted).
    pub fn remove_node(&self, name: &str) {
        let mut inner = self.lock();
        let Some(info) = inner.nodes.get_mut(name) else {
            return;
        };
        info.remove_node();
        if info.pods.is_empty() {
            inner.nodes.remove(name);
        }
        inner.nodes_changed = true;
        inner.dirty.remove(name);
    }

    /// A cycle placed `pod` on `node`: counted there until confirmed or
    /// forgotten.
    pub fn assume(&self, pod: Arc<PodInfo>, node: &str) {
        let mut inner = self.lock();
        let uid = pod.uid().to_string();
        inner.remove_pod(&uid);
        inner.add_to_node(pod, node);
        let state = PodState {
            node: node.to_string(),
            assumed: true,
        };
        inner.pods.insert(uid, state);
    }

    /// The binding of an assumed pod failed: it is no longer counted.
    pub fn forget(&self, uid: &str) {
        let mut inner = self.lock();
        if inner.pods.get(uid).is_some_and(|p| p.assumed) {
            inner.remove_pod(uid);
        }
    }

    /// The watch's version of a bound pod (added or changed): it replaces
    /// an assumed one, and a pod moved elsewhere is counted there.
    pub fn add_pod(&self, pod: Arc<Pod>) {
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let info = Arc::new(PodInfo::new(pod));
        let uid = info.uid().to_string();
        let mut inner = self.lock();
        inner.remove_pod(&uid);
        inner.add_to_node(info, &node);
        inner.pods.insert(
            uid,
            PodState {
                node,
                assumed: false,
            },
        );
    }

    /// A bound pod deleted (or finished).
    pub fn remove_pod(&self, uid: &str) {
        self.lock().remove_pod(uid);
    }

    /// Whether the pod of `uid` is assumed or bound in the cache.
    pub fn contains(&self, uid: &str) -> bool {
        self.lock().pods.contains_key(uid)
    }

    /// The node the pod of `uid` is counted on, and whether only assumed.
    pub fn placement(&self, uid: &str) -> Option<(String, bool)> {
        let inner = self.lock();
        inner.pods.get(uid).map(|p| (p.node.clone(), p.assumed))
    }

    /// How many nodes (with a Node object) the cache holds.
    pub fn node_count(&self) -> usize {
        self.lock()
            .nodes
            .values()
            .filter(|n| n.node().is_some())
            .count()
    }

    /// Brings `snapshot` up to date: the changed nodes copied, or all of
    /// them when nodes came or went.
    pub fn update_snapshot(&self, snapshot: &mut Snapshot) {
        let mut inner = self.lock();
        if inner.nodes_changed {
            let nodes = inner
                .nodes
                .values()
                .filter(|n| n.node().is_some())
                .map(|n| Arc::new(n.clone()))
                .collect();
            *snapshot = Snapshot::new(nodes);
            inner.nodes_changed = false;
            inner.dirty.clear();
            return;
        }
        let dirty: Vec<String> = inner.dirty.drain().collect();
        for name in dirty {
            if let Some(info) = inner.nodes.get(&name).filter(|n| n.node().is_some()) {
                snapshot.replace(Arc::new(info.clone()));
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn touch(&mut self, name: &str) {
        self.generation += 1;
        let generation = self.generation;
        if let Some(info) = self.nodes.get_mut(name) {
            info.generation = generation;
        }
        self.dirty.insert(name.to_string());
    }

    fn add_to_node(&mut self, pod: Arc<PodInfo>, node: &str) {
        self.nodes.entry(node.to_string()).or_default().add_pod(pod);
        self.touch(node);
    }

    fn remove_pod(&mut self, uid: &str) {
        let Some(state) = self.pods.remove(uid) else {
            return;
        };
        let Some(info) = self.nodes.get_mut(&state.node) else {
            return;
        };
        info.remove_pod(uid);
        if info.node().is_none() && info.pods.is_empty() {
            self.nodes.remove(&state.node);
        } else {
            self.touch(&state.node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str) -> Arc<Node> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name},
                "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
            }))
            .expect("a node"),
        )
    }

    fn pod(uid: &str, node: Option<&str>) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": uid, "namespace": "default", "uid": uid},
                "spec": {"nodeName": node, "containers": [
                    {"name": "c", "resources": {"requests": {"cpu": "1"}}}
                ]},
            }))
            .expect("a pod"),
        )
    }

    fn requested(snapshot: &Snapshot, node: &str) -> i64 {
        snapshot.get(node).expect("the node").requested.milli_cpu
    }

    #[test]
    fn an_assumed_pod_counts_until_forgotten_and_a_confirmed_one_stays() {
        let cache = Cache::new();
        cache.add_node(node("n1"));
        let mut snapshot = Snapshot::default();
        cache.update_snapshot(&mut snapshot);
        assert_eq!(requested(&snapshot, "n1"), 0);

        cache.assume(Arc::new(PodInfo::new(pod("a", None))), "n1");
        cache.update_snapshot(&mut snapshot);
        assert_eq!(requested(&snapshot, "n1"), 1000);
        cache.forget("a");
        cache.update_snapshot(&mut snapshot);
        assert_eq!(requested(&snapshot, "n1"), 0);

        cache.assume(Arc::new(PodInfo::new(pod("b", None))), "n1");
        cache.add_pod(pod("b", Some("n1")));
        cache.forget("b");
        cache.update_snapshot(&mut snapshot);
        assert_eq!(requested(&snapshot, "n1"), 1000);
        assert_eq!(cache.placement("b"), Some(("n1".to_string(), false)));
        cache.remove_pod("b");
        cache.update_snapshot(&mut snapshot);
        assert_eq!(requested(&snapshot, "n1"), 0);
    }

    #[test]
    fn a_snapshot_follows_nodes_coming_and_going() {
        let cache = Cache::new();
        let mut snapshot = Snapshot::default();
        cache.add_node(node("n1"));
        cache.add_node(node("n2"));
        cache.update_snapshot(&mut snapshot);
        assert_eq!(snapshot.len(), 2);
        cache.add_pod(pod("a", Some("n2")));
        cache.remove_node("n1");
        cache.update_snapshot(&mut snapshot);
        assert_eq!(snapshot.len(), 1);
        assert_eq!(requested(&snapshot, "n2"), 1000);
        // A pod bound to a node not known yet waits for its node.
        cache.add_pod(pod("b", Some("n3")));
        cache.update_snapshot(&mut snapshot);
        assert!(snapshot.get("n3").is_none());
        cache.add_node(node("n3"));
        cache.update_snapshot(&mut snapshot);
        assert_eq!(requested(&snapshot, "n3"), 1000);
    }
}
