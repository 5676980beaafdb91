//! The scheduling framework: one small trait per extension point, as
//! upstream's `framework` package defines them, and the types they speak
//! in. A plugin is one type implementing [`Plugin`] (its name, the
//! extension points it takes part in, the cluster events that may make a
//! pod it rejected fit) and the traits of those points; a profile
//! ([`runtime::Framework`]) runs the plugins its configuration lists.
//!
//! Everything before binding is synchronous and reads only the cycle's
//! [`Snapshot`] and [`Listers`]: the decision is pure and table-tested.
//! PreBind and Bind talk to the API server and are async.

pub mod cycle_state;
pub mod events;
pub mod node_info;
pub mod node_selector;
pub mod nominator;
pub mod pod_info;
pub mod resource;
pub mod runtime;
pub mod snapshot;
pub mod status;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use keelson_api::k8s_openapi::api::core::v1::Pod;

pub use cycle_state::CycleState;
pub use events::{ActionType, ClusterChange, ClusterEvent, ClusterEventWithHint, EventResource};
pub use events::{QueueingHint, QueueingHintFn};
pub use node_info::NodeInfo;
pub use nominator::Nominator;
pub use pod_info::PodInfo;
pub use resource::Resource;
pub use snapshot::{Lister, Listers, Snapshot};
pub use status::{Code, Status};

/// The highest score a Score plugin gives a node (after normalizing).
pub const MAX_NODE_SCORE: i64 = 100;
/// The lowest.
pub const MIN_NODE_SCORE: i64 = 0;

/// A plugin: its name, and which extension points it takes part in. Each
/// `as_*` method a plugin overrides (returning `Some(self)`) enrols it at
/// that point; a profile enabling the plugin runs it at each.
pub trait Plugin: Send + Sync + 'static {
    /// The name configurations use (`NodeResourcesFit`).
    fn name(&self) -> &str;

    fn as_queue_sort(&self) -> Option<&dyn QueueSort> {
        None
    }
    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueue> {
        None
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilter> {
        None
    }
    fn as_filter(&self) -> Option<&dyn Filter> {
        None
    }
    fn as_post_filter(&self) -> Option<&dyn PostFilter> {
        None
    }
    fn as_pre_score(&self) -> Option<&dyn PreScore> {
        None
    }
    fn as_score(&self) -> Option<&dyn Score> {
        None
    }
    fn as_reserve(&self) -> Option<&dyn Reserve> {
        None
    }
    fn as_permit(&self) -> Option<&dyn Permit> {
        None
    }
    fn as_pre_bind(&self) -> Option<&dyn PreBind> {
        None
    }
    fn as_bind(&self) -> Option<&dyn Bind> {
        None
    }
    fn as_post_bind(&self) -> Option<&dyn PostBind> {
        None
    }

    /// The cluster events after which a pod this plugin rejected may fit
    /// (upstream's `EnqueueExtensions`). `None`: any event.
    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        None
    }
}

/// Orders the active queue: whether `a` is scheduled before `b`.
pub trait QueueSort: Send + Sync {
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool;
}

/// Whether a pod may enter the active queue at all; a rejected pod waits
/// among the unschedulable ones until an event lets it in.
pub trait PreEnqueue: Send + Sync {
    fn pre_enqueue(&self, pod: &Pod) -> Status;
}

/// What PreFilter may narrow the nodes to: `None`, every node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreFilterResult {
    pub node_names: Option<BTreeSet<String>>,
}

impl PreFilterResult {
    /// Only the nodes named.
    pub fn only(names: impl IntoIterator<Item = String>) -> PreFilterResult {
        PreFilterResult {
            node_names: Some(names.into_iter().collect()),
        }
    }

    /// Both narrowings at once.
    pub fn merge(self, other: PreFilterResult) -> PreFilterResult {
        let node_names = match (self.node_names, other.node_names) {
            (None, other) => other,
            (mine, None) => mine,
            (Some(mine), Some(other)) => Some(mine.intersection(&other).cloned().collect()),
        };
        PreFilterResult { node_names }
    }
}

/// Runs once per cycle before filtering, to compute what Filter reads on
/// every node (kept in the cycle state) or to reject the pod outright.
/// `Skip` leaves out this plugin's Filter for the cycle.
pub trait PreFilter: Send + Sync {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        listers: &Listers,
    ) -> (Option<PreFilterResult>, Status);

    /// Updates this plugin's cycle state as if `added` ran on `node`
    /// (preemption and nominated pods use it); nothing by default.
    fn add_pod(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _added: &Arc<PodInfo>,
        _node: &NodeInfo,
    ) -> Status {
        Status::success()
    }

    /// Updates this plugin's cycle state as if `removed` no longer ran on
    /// `node`.
    fn remove_pod(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _removed: &Arc<PodInfo>,
        _node: &NodeInfo,
    ) -> Status {
        Status::success()
    }
}

/// Whether the pod may run on one node.
pub trait Filter: Send + Sync {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status;
}

/// Each node's status after filtering, for PostFilter and the message.
pub type NodeToStatus = std::collections::HashMap<String, Status>;

/// What PostFilter (preemption) decided: the node the pod is nominated to
/// and the victims to delete there. The scheduler carries it out.
#[derive(Debug, Clone, Default)]
pub struct PostFilterResult {
    pub nominated_node_name: Option<String>,
    pub victims: Vec<Arc<Pod>>,
    /// Lower-priority pods nominated to that node that no longer fit
    /// there: their `nominatedNodeName` is cleared.
    pub clear_nominations: Vec<Arc<Pod>>,
}

/// What a PostFilter plugin may use: the profile (to run filters on a
/// node with pods taken away), the snapshot, and the pods nominated.
pub struct PostFilterContext<'a> {
    pub framework: &'a runtime::Framework,
    pub snapshot: &'a Snapshot,
    pub listers: &'a Listers,
    pub nominator: &'a Nominator,
}

/// Runs when no node fits, to make one fit (by preemption).
pub trait PostFilter: Send + Sync {
    fn post_filter(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        statuses: &NodeToStatus,
        context: &PostFilterContext<'_>,
    ) -> (Option<PostFilterResult>, Status);
}

/// Runs once per cycle before scoring, on the nodes that passed.
pub trait PreScore: Send + Sync {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
        listers: &Listers,
    ) -> Status;
}

/// A node's score from one plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeScore {
    pub name: String,
    pub score: i64,
}

/// Ranks the nodes that passed: a score per node, then (optionally) all
/// scores normalized to [`MIN_NODE_SCORE`]..=[`MAX_NODE_SCORE`].
pub trait Score: Send + Sync {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status>;

    fn normalize(&self, _state: &CycleState, _pod: &PodInfo, _scores: &mut [NodeScore]) -> Status {
        Status::success()
    }
}

/// Told when a pod is assumed on a node, and when that is undone.
pub trait Reserve: Send + Sync {
    fn reserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status;
    fn unreserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str);
}

/// Lets a pod go on to binding, rejects it, or holds it (`Wait`, for at
/// most the duration) until [`runtime::WaitingPods::allow`] or reject.
pub trait Permit: Send + Sync {
    fn permit(&self, state: &mut CycleState, pod: &PodInfo, node: &str) -> (Status, Duration);
}

/// Runs before binding, in the binding cycle (e.g. volumes made ready).
#[async_trait::async_trait]
pub trait PreBind: Send + Sync {
    async fn pre_bind(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status;
}

/// Binds the pod; `Skip` passes it to the next Bind plugin.
#[async_trait::async_trait]
pub trait Bind: Send + Sync {
    async fn bind(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status;
}

/// Told after a pod is bound.
pub trait PostBind: Send + Sync {
    fn post_bind(&self, state: &CycleState, pod: &PodInfo, node: &str);
}

/// A pod in the scheduling queue, with what the queue knows of it.
#[derive(Debug, Clone)]
pub struct QueuedPodInfo {
    pub pod_info: Arc<PodInfo>,
    /// When it last entered the queue.
    pub timestamp: std::time::Instant,
    /// When it first entered the queue.
    pub initial_attempt_timestamp: std::time::Instant,
    /// How many times it was tried.
    pub attempts: u32,
    /// The plugins that rejected it last time (its events are what may
    /// move it back).
    pub unschedulable_plugins: BTreeSet<String>,
    /// The plugins that answered Pending last time.
    pub pending_plugins: BTreeSet<String>,
    /// Whether a PreEnqueue plugin holds it back.
    pub gated: bool,
}

impl QueuedPodInfo {
    pub fn new(pod_info: Arc<PodInfo>, now: std::time::Instant) -> QueuedPodInfo {
        QueuedPodInfo {
            pod_info,
            timestamp: now,
            initial_attempt_timestamp: now,
            attempts: 0,
            unschedulable_plugins: BTreeSet::new(),
            pending_plugins: BTreeSet::new(),
            gated: false,
        }
    }

    pub fn pod(&self) -> &Pod {
        &self.pod_info.pod
    }
}

/// What plugins are built with: the listers, and an API client for the
/// plugins that write (binding, volumes).
#[derive(Clone)]
pub struct Handle {
    pub listers: Arc<Listers>,
    pub client: Option<kube::Client>,
}

impl Handle {
    /// A handle with no client, for tests of plugins that do not write.
    pub fn offline(listers: Arc<Listers>) -> Handle {
        Handle {
            listers,
            client: None,
        }
    }
}

/// Makes a plugin of a profile from its arguments (the profile's
/// `pluginConfig` entry for it, if any).
pub type Factory = Arc<
    dyn Fn(Option<&serde_json::Value>, &Handle) -> Result<Arc<dyn Plugin>, String> + Send + Sync,
>;

/// The plugins a scheduler knows, by name: the built-ins and a user's.
pub type Registry = std::collections::BTreeMap<String, Factory>;
