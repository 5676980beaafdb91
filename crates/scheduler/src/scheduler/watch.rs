//! The scheduler's watches (kube-runtime's watcher, one per kind): pods
//! feed the queue (pending pods of its profiles) and the cache (bound
//! ones); nodes feed the cache; the other kinds feed the listers. Each
//! change is also a cluster event that may move unschedulable pods back.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use keelson_api::k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event as WatchEvent};
use kube::{Api, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::Scheduler;
use crate::framework::events::Changed;
use crate::framework::{
    ActionType, ClusterChange, ClusterEvent, EventResource, Lister, Listers, PodInfo,
};

type Synced = oneshot::Receiver<()>;

/// Starts every watch; the future completes once each has listed.
pub(super) fn start(this: Arc<Scheduler>) -> (Vec<JoinHandle<()>>, impl Future<Output = ()>) {
    let mut tasks = Vec::new();
    let mut synced: Vec<Synced> = Vec::new();
    let mut add = |(task, done): (JoinHandle<()>, Synced)| {
        tasks.push(task);
        synced.push(done);
    };
    add(watch_pods(this.clone()));
    add(watch_nodes(this.clone()));
    add(watch_listed(
        &this,
        |l| &l.namespaces,
        EventResource::Namespace,
    ));
    add(watch_listed(
        &this,
        |l| &l.persistent_volume_claims,
        EventResource::PersistentVolumeClaim,
    ));
    add(watch_listed(
        &this,
        |l| &l.persistent_volumes,
        EventResource::PersistentVolume,
    ));
    add(watch_listed(
        &this,
        |l| &l.storage_classes,
        EventResource::StorageClass,
    ));
    add(watch_listed(
        &this,
        |l| &l.csi_nodes,
        EventResource::CSINode,
    ));
    add(watch_listed(
        &this,
        |l| &l.pod_disruption_budgets,
        EventResource::PodDisruptionBudget,
    ));
    add(watch_listed(
        &this,
        |l| &l.services,
        EventResource::Wildcard,
    ));
    add(watch_listed(
        &this,
        |l| &l.replica_sets,
        EventResource::Wildcard,
    ));
    add(watch_listed(
        &this,
        |l| &l.replication_controllers,
        EventResource::Wildcard,
    ));
    add(watch_listed(
        &this,
        |l| &l.stateful_sets,
        EventResource::Wildcard,
    ));
    let all_synced = async move {
        for done in synced {
            let _ = done.await;
        }
    };
    (tasks, all_synced)
}

/// A watch of every `K`, handing each relist (as one batch) and change
/// to `apply`; `synced` is told after the first list.
fn spawn_watch<K>(
    api: Api<K>,
    mut apply: impl FnMut(Change<K>) + Send + 'static,
) -> (JoinHandle<()>, Synced)
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (tell, synced) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut tell = Some(tell);
        let mut listing = Vec::new();
        let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
        let mut stream = std::pin::pin!(stream.into_stream());
        while let Some(event) = stream.next().await {
            match event {
                Ok(WatchEvent::Init) => listing.clear(),
                Ok(WatchEvent::InitApply(object)) => listing.push(slim(object)),
                Ok(WatchEvent::InitDone) => {
                    apply(Change::Listed(std::mem::take(&mut listing)));
                    if let Some(tell) = tell.take() {
                        let _ = tell.send(());
                    }
                }
                Ok(WatchEvent::Apply(object)) => apply(Change::Applied(slim(object))),
                Ok(WatchEvent::Delete(object)) => apply(Change::Deleted(slim(object))),
                // A kind this server does not serve (e.g. CSINode): there
                // are none to list, and scheduling need not wait for it.
                Err(watcher::Error::InitialListFailed(kube::Error::Api(status)))
                    if status.code == 404 =>
                {
                    if let Some(tell) = tell.take() {
                        tracing::info!(kind = %K::kind(&Default::default()), "not served: watched as empty");
                        let _ = tell.send(());
                    }
                }
                Err(err) => tracing::warn!(error = %err, "a scheduler watch failed; retrying"),
            }
        }
    });
    (task, synced)
}

/// `object` without its `managedFields`, which no plugin reads: the
/// cache holds every pod and node, and these are most of their size.
fn slim<K: kube::Resource>(mut object: K) -> K {
    object.meta_mut().managed_fields = None;
    object
}

enum Change<K> {
    Listed(Vec<K>),
    Applied(K),
    Deleted(K),
}

fn watch_listed<K>(
    this: &Arc<Scheduler>,
    lister: fn(&Listers) -> &Lister<K>,
    resource: EventResource,
) -> (JoinHandle<()>, Synced)
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let api: Api<K> = Api::all(this.client.clone());
    let this = this.clone();
    spawn_watch(api, move |change| {
        let listers = this.listers.clone();
        let store = lister(&listers);
        let action = match change {
            Change::Listed(objects) => {
                store.replace(objects);
                ActionType::ADD
            }
            Change::Applied(object) => {
                let known = store
                    .get(object.meta().namespace.as_deref(), &object.name_any())
                    .is_some();
                store.insert(object);
                if known {
                    ActionType::UPDATE_OTHER
                } else {
                    ActionType::ADD
                }
            }
            Change::Deleted(object) => {
                store.remove(&Lister::key_of(&object));
                ActionType::DELETE
            }
        };
        if resource != EventResource::Wildcard {
            this.queue.move_on(&change_of(resource, action, None, None));
        }
    })
}

fn change_of(
    resource: EventResource,
    action: ActionType,
    old: Option<Changed>,
    new: Option<Changed>,
) -> ClusterChange {
    ClusterChange {
        event: ClusterEvent::new(resource, action),
        old,
        new,
    }
}

fn watch_nodes(this: Arc<Scheduler>) -> (JoinHandle<()>, Synced) {
    let api: Api<Node> = Api::all(this.client.clone());
    let mut known: HashMap<String, Arc<Node>> = HashMap::new();
    spawn_watch(api, move |change| match change {
        Change::Listed(nodes) => {
            let listed: HashMap<String, Arc<Node>> = nodes
                .into_iter()
                .map(|n| (n.name_any(), Arc::new(n)))
                .collect();
            for gone in known.keys().filter(|name| !listed.contains_key(*name)) {
                this.cache.remove_node(gone);
            }
            for node in listed.values() {
                this.cache.add_node(node.clone());
            }
            known = listed;
            this.queue
                .move_on(&change_of(EventResource::Node, ActionType::ADD, None, None));
        }
        Change::Applied(node) => {
            let node = Arc::new(node);
            let old = known.insert(node.name_any(), node.clone());
            this.cache.add_node(node.clone());
            let action = old
                .as_deref()
                .map_or(ActionType::ADD, |old| node_update(old, &node));
            let old = old.map(Changed::Node);
            this.queue.move_on(&change_of(
                EventResource::Node,
                action,
                old,
                Some(Changed::Node(node)),
            ));
        }
        Change::Deleted(node) => {
            let name = node.name_any();
            known.remove(&name);
            this.cache.remove_node(&name);
            let old = Some(Changed::Node(Arc::new(node)));
            this.queue.move_on(&change_of(
                EventResource::Node,
                ActionType::DELETE,
                old,
                None,
            ));
        }
    })
}

/// What a node update changed, as upstream's `nodeSchedulingPropertiesChange`.
fn node_update(old: &Node, new: &Node) -> ActionType {
    let mut action = ActionType(0);
    let spec = |n: &Node| n.spec.clone().unwrap_or_default();
    let status = |n: &Node| n.status.clone().unwrap_or_default();
    if old.metadata.labels != new.metadata.labels {
        action = action | ActionType::UPDATE_NODE_LABEL;
    }
    if spec(old).taints != spec(new).taints || spec(old).unschedulable != spec(new).unschedulable {
        action = action | ActionType::UPDATE_NODE_TAINT;
    }
    if status(old).allocatable != status(new).allocatable {
        action = action | ActionType::UPDATE_NODE_ALLOCATABLE;
    }
    if status(old).conditions.map(strip_times) != status(new).conditions.map(strip_times) {
        action = action | ActionType::UPDATE_NODE_CONDITION;
    }
    if old.metadata.annotations != new.metadata.annotations {
        action = action | ActionType::UPDATE_NODE_ANNOTATION;
    }
    action
}

/// Conditions without their heartbeat times, which change every renewal.
fn strip_times(
    conditions: Vec<keelson_api::k8s_openapi::api::core::v1::NodeCondition>,
) -> Vec<(String, String)> {
    conditions
        .into_iter()
        .map(|c| (c.type_, c.status))
        .collect()
}

fn watch_pods(this: Arc<Scheduler>) -> (JoinHandle<()>, Synced) {
    let api: Api<Pod> = Api::all(this.client.clone());
    let mut known: HashMap<String, Arc<Pod>> = HashMap::new();
    spawn_watch(api, move |change| match change {
        Change::Listed(pods) => {
            let listed: HashMap<String, Arc<Pod>> = pods
                .into_iter()
                .map(|p| (uid(&p).to_string(), Arc::new(p)))
                .collect();
            let gone: Vec<Arc<Pod>> = known
                .iter()
                .filter(|(uid, _)| !listed.contains_key(*uid))
                .map(|(_, p)| p.clone())
                .collect();
            for pod in gone {
                this.on_pod(Some(pod), None);
            }
            for pod in listed.values() {
                let old = known.get(uid(pod)).cloned();
                this.on_pod(old, Some(pod.clone()));
            }
            known = listed;
        }
        Change::Applied(pod) => {
            let pod = Arc::new(pod);
            let old = known.insert(uid(&pod).to_string(), pod.clone());
            this.on_pod(old, Some(pod));
        }
        Change::Deleted(pod) => {
            let old = known.remove(uid(&pod));
            this.on_pod(old.or_else(|| Some(Arc::new(pod))), None);
        }
    })
}

fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

fn assigned(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty())
}

fn terminal(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    matches!(phase, Some("Succeeded" | "Failed"))
}

impl Scheduler {
    /// A pod's change: `old` and `new` versions (`None`: absent).
    fn on_pod(&self, old: Option<Arc<Pod>>, new: Option<Arc<Pod>>) {
        let was_assigned = old.as_deref().is_some_and(|p| assigned(p) && !terminal(p));
        match new {
            Some(pod) if assigned(&pod) && !terminal(&pod) => {
                self.forget_pending(uid(&pod));
                self.cache.add_pod(pod.clone());
                let action = match old.as_deref() {
                    Some(old) if was_assigned => pod_update(old, &pod),
                    _ => ActionType::ADD,
                };
                let old = old.filter(|_| was_assigned).map(Changed::Pod);
                self.queue.move_on(&change_of(
                    EventResource::AssignedPod,
                    action,
                    old,
                    Some(Changed::Pod(pod)),
                ));
            }
            Some(pod) if !assigned(&pod) && !terminal(&pod) && self.serves(&pod) => {
                self.lock_pending()
                    .insert(uid(&pod).to_string(), pod.clone());
                self.nominate(&pod);
                match old {
                    Some(old) if !assigned(&old) => self.queue.update(&old, pod),
                    _ => self.queue.add(pod),
                }
            }
            Some(pod) => {
                self.forget_pending(uid(&pod));
                if was_assigned {
                    self.assigned_pod_gone(&pod);
                }
            }
            None => {
                let Some(old) = old else { return };
                self.forget_pending(uid(&old));
                if was_assigned {
                    self.assigned_pod_gone(&old);
                }
            }
        }
    }

    fn assigned_pod_gone(&self, pod: &Arc<Pod>) {
        self.cache.remove_pod(uid(pod));
        let old = Some(Changed::Pod(pod.clone()));
        self.queue.move_on(&change_of(
            EventResource::AssignedPod,
            ActionType::DELETE,
            old,
            None,
        ));
    }

    fn forget_pending(&self, uid: &str) {
        self.lock_pending().remove(uid);
        self.queue.delete(uid);
        self.nominator.remove(uid);
    }

    /// Whether one of this scheduler's profiles is the pod's.
    fn serves(&self, pod: &Pod) -> bool {
        let name = crate::queue::scheduler_name(pod);
        self.profiles.iter().any(|p| p.name() == name)
    }

    /// Keeps the nominator in step with the pod's `nominatedNodeName`.
    fn nominate(&self, pod: &Arc<Pod>) {
        let node = pod
            .status
            .as_ref()
            .and_then(|s| s.nominated_node_name.as_deref())
            .filter(|n| !n.is_empty());
        match node {
            Some(node) => self
                .nominator
                .add(Arc::new(PodInfo::new(pod.clone())), node),
            None => self.nominator.remove(uid(pod)),
        }
    }
}

/// What an update of a bound pod changed.
fn pod_update(old: &Pod, new: &Pod) -> ActionType {
    let mut action = ActionType(0);
    if old.metadata.labels != new.metadata.labels {
        action = action | ActionType::UPDATE_POD_LABEL;
    }
    let requests = |p: &Pod| crate::framework::resource::pod_requests(p);
    let (before, after) = (requests(old), requests(new));
    if after.milli_cpu < before.milli_cpu || after.memory < before.memory {
        action = action | ActionType::UPDATE_POD_SCALE_DOWN;
    }
    if action.0 == 0 {
        action = ActionType::UPDATE_OTHER;
    }
    action
}
