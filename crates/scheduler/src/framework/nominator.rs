//! The pods nominated to nodes (by preemption, `status.nominatedNodeName`)
//! and not yet bound: filtering counts those of equal or higher priority
//! as if they ran there, so that the room preemption made is not taken by
//! another pod first (upstream's nominator).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use super::pod_info::PodInfo;

/// Nominated pods, by node and by uid.
#[derive(Debug, Default)]
pub struct Nominator {
    inner: RwLock<Nominated>,
    /// How many pods are nominated: filtering every node asks whether any
    /// is, and should not take a lock to learn that none is.
    count: AtomicUsize,
}

#[derive(Debug, Default)]
struct Nominated {
    by_node: HashMap<String, Vec<Arc<PodInfo>>>,
    node_of: HashMap<String, String>,
}

impl Nominator {
    /// Nominates `pod` to `node`, replacing an earlier nomination.
    pub fn add(&self, pod: Arc<PodInfo>, node: &str) {
        self.remove(pod.uid());
        let mut inner = self.write();
        inner
            .node_of
            .insert(pod.uid().to_string(), node.to_string());
        inner.by_node.entry(node.to_string()).or_default().push(pod);
        self.count.store(inner.node_of.len(), Ordering::Release);
    }

    /// Whether no pod is nominated.
    pub fn is_empty(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }

    /// Forgets the nomination of the pod of `uid`.
    pub fn remove(&self, uid: &str) {
        let mut inner = self.write();
        let Some(node) = inner.node_of.remove(uid) else {
            return;
        };
        self.count.store(inner.node_of.len(), Ordering::Release);
        if let Some(pods) = inner.by_node.get_mut(&node) {
            pods.retain(|p| p.uid() != uid);
            if pods.is_empty() {
                inner.by_node.remove(&node);
            }
        }
    }

    /// The pods nominated to `node`.
    pub fn pods_on(&self, node: &str) -> Vec<Arc<PodInfo>> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.by_node.get(node).cloned().unwrap_or_default()
    }

    /// The node the pod of `uid` is nominated to.
    pub fn node_of(&self, uid: &str) -> Option<String> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.node_of.get(uid).cloned()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Nominated> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}
