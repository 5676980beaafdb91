//! What one scheduling cycle reads: the nodes and their pods as the cache
//! held them when the cycle began (upstream's `Snapshot`), and the other
//! objects plugins look up (claims, volumes, classes, namespaces, ...),
//! kept current by the scheduler's watches (upstream's listers).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use keelson_api::k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use keelson_api::k8s_openapi::api::core::v1::{
    Namespace, PersistentVolume, PersistentVolumeClaim, ReplicationController, Service,
};
use keelson_api::k8s_openapi::api::policy::v1::PodDisruptionBudget;
use keelson_api::k8s_openapi::api::storage::v1::{CSINode, StorageClass};
use kube::ResourceExt;

use super::node_info::NodeInfo;

/// The nodes of one cycle, in the order they are tried.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    nodes: Vec<Arc<NodeInfo>>,
    by_name: HashMap<String, usize>,
    with_affinity: Vec<Arc<NodeInfo>>,
    with_required_anti_affinity: Vec<Arc<NodeInfo>>,
}

impl Snapshot {
    /// A snapshot of `nodes` (those without a Node object are left out).
    pub fn new(nodes: Vec<Arc<NodeInfo>>) -> Snapshot {
        let nodes: Vec<_> = nodes.into_iter().filter(|n| n.node().is_some()).collect();
        let by_name = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name().to_string(), i))
            .collect();
        let with_affinity = nodes
            .iter()
            .filter(|n| !n.pods_with_affinity.is_empty())
            .cloned()
            .collect();
        let with_required_anti_affinity = nodes
            .iter()
            .filter(|n| !n.pods_with_required_anti_affinity.is_empty())
            .cloned()
            .collect();
        Snapshot {
            nodes,
            by_name,
            with_affinity,
            with_required_anti_affinity,
        }
    }

    /// Puts `info` in place of the node of its name (it must be in the
    /// snapshot already), keeping the lists of nodes with affinity pods
    /// current.
    pub(crate) fn replace(&mut self, info: Arc<NodeInfo>) {
        let Some(&index) = self.by_name.get(info.name()) else {
            return;
        };
        let old = std::mem::replace(&mut self.nodes[index], info.clone());
        let had = !old.pods_with_affinity.is_empty();
        let has = !info.pods_with_affinity.is_empty();
        let had_anti = !old.pods_with_required_anti_affinity.is_empty();
        let has_anti = !info.pods_with_required_anti_affinity.is_empty();
        update_list(&mut self.with_affinity, &info, had, has);
        update_list(
            &mut self.with_required_anti_affinity,
            &info,
            had_anti,
            has_anti,
        );
    }

    /// Every node, in order.
    pub fn nodes(&self) -> &[Arc<NodeInfo>] {
        &self.nodes
    }

    /// The node named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<NodeInfo>> {
        self.by_name.get(name).map(|&i| &self.nodes[i])
    }

    /// The nodes with pods that have affinity or anti-affinity terms.
    pub fn have_pods_with_affinity(&self) -> &[Arc<NodeInfo>] {
        &self.with_affinity
    }

    /// The nodes with pods that have required anti-affinity terms.
    pub fn have_pods_with_required_anti_affinity(&self) -> &[Arc<NodeInfo>] {
        &self.with_required_anti_affinity
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Keeps `list` (nodes with some kind of pods) current for `info`,
/// which had such pods (`had`) and has them now (`has`).
fn update_list(list: &mut Vec<Arc<NodeInfo>>, info: &Arc<NodeInfo>, had: bool, has: bool) {
    let position = || list.iter().position(|n| n.name() == info.name());
    match (had, has) {
        (false, false) => {}
        (true, false) => {
            if let Some(i) = position() {
                list.remove(i);
            }
        }
        (false, true) => list.push(info.clone()),
        (true, true) => {
            if let Some(i) = position() {
                list[i] = info.clone();
            }
        }
    }
}

/// Objects of one kind by key (`namespace/name`, or `name` for a cluster
/// kind), as an informer's store holds them.
#[derive(Debug)]
pub struct Lister<K> {
    objects: RwLock<HashMap<String, Arc<K>>>,
}

impl<K> Default for Lister<K> {
    fn default() -> Self {
        Lister {
            objects: RwLock::new(HashMap::new()),
        }
    }
}

impl<K: kube::Resource> Lister<K> {
    /// The key of `object`.
    pub fn key_of(object: &K) -> String {
        match object.meta().namespace.as_deref() {
            Some(namespace) => format!("{namespace}/{}", object.name_any()),
            None => object.name_any(),
        }
    }

    /// The object named `name` in `namespace` (`None` for a cluster kind).
    pub fn get(&self, namespace: Option<&str>, name: &str) -> Option<Arc<K>> {
        let key = match namespace {
            Some(namespace) => format!("{namespace}/{name}"),
            None => name.to_string(),
        };
        self.read().get(&key).cloned()
    }

    /// Every object (in no particular order).
    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().values().cloned().collect()
    }

    /// Keeps `object`, replacing an older version.
    pub fn insert(&self, object: K) {
        let key = Self::key_of(&object);
        self.write().insert(key, Arc::new(object));
    }

    /// Forgets the object of `key`.
    pub fn remove(&self, key: &str) {
        self.write().remove(key);
    }

    /// Replaces every object with `objects` (a watch's relist).
    pub fn replace(&self, objects: impl IntoIterator<Item = K>) {
        let objects = objects
            .into_iter()
            .map(|o| (Self::key_of(&o), Arc::new(o)))
            .collect();
        *self.write() = objects;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<K>>> {
        self.objects.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<K>>> {
        self.objects.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The objects besides nodes and pods that plugins read.
#[derive(Debug, Default)]
pub struct Listers {
    pub namespaces: Lister<Namespace>,
    pub persistent_volume_claims: Lister<PersistentVolumeClaim>,
    pub persistent_volumes: Lister<PersistentVolume>,
    pub storage_classes: Lister<StorageClass>,
    pub csi_nodes: Lister<CSINode>,
    pub pod_disruption_budgets: Lister<PodDisruptionBudget>,
    /// The owners PodTopologySpread's default constraints select by.
    pub services: Lister<Service>,
    pub replica_sets: Lister<ReplicaSet>,
    pub replication_controllers: Lister<ReplicationController>,
    pub stateful_sets: Lister<StatefulSet>,
}

impl Listers {
    /// The labels of namespace `name` (none when it is not known).
    pub fn namespace_labels(&self, name: &str) -> std::collections::BTreeMap<String, String> {
        self.namespaces
            .get(None, name)
            .and_then(|n| n.metadata.labels.clone())
            .unwrap_or_default()
    }
}
