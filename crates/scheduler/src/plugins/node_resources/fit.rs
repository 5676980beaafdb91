//! The `NodeResourcesFit` plugin: a node fits a pod when it has room for
//! one more pod and for the pod's requests of every resource beside what
//! its pods request already (PreFilter, Filter); nodes are then ranked by
//! how full they would be, by the configured scoring strategy (PreScore,
//! Score). Upstream's `noderesources/fit.go`.

mod hints;
#[cfg(test)]
mod score_tests;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::framework::{
    ActionType, ClusterEventWithHint, Code, CycleState, EventResource, Filter, Handle, Listers,
    NodeInfo, Plugin, PodInfo, PreFilter, PreFilterResult, PreScore, Resource, Score, Snapshot,
    Status,
};

use super::args::{FitArgs, Strategy, fit_args};
use super::scoring::{ResourceAllocation, strategy_score};

/// The plugin's name in configurations.
pub const NAME: &str = "NodeResourcesFit";

/// Where PreFilter keeps the pod's requests for Filter.
const PRE_FILTER_KEY: &str = "PreFilterNodeResourcesFit";
/// Where PreScore keeps the pod's requests of the scored resources.
const PRE_SCORE_KEY: &str = "PreScoreNodeResourcesFit";

/// The pod's requests, as Filter compares them.
#[derive(Debug, Clone)]
struct PreFilterState(Resource);

/// The pod's requests of each scored resource, in the arguments' order.
#[derive(Debug, Clone)]
struct PreScoreState(Vec<i64>);

/// The extended resources the plugin does not check: by name, or by the
/// group before their `/`.
#[derive(Debug, Clone, Default)]
pub struct Ignored {
    pub resources: BTreeSet<String>,
    pub groups: BTreeSet<String>,
}

impl Ignored {
    fn skips(&self, name: &str) -> bool {
        if !is_extended(name) {
            return false;
        }
        let group = name.split('/').next().unwrap_or_default();
        self.resources.contains(name) || self.groups.contains(group)
    }
}

/// The plugin.
pub struct NodeResourcesFit {
    ignored: Ignored,
    strategy: Strategy,
    scorer: ResourceAllocation,
}

impl NodeResourcesFit {
    fn from_args(args: FitArgs) -> NodeResourcesFit {
        NodeResourcesFit {
            ignored: Ignored {
                resources: args.ignored_resources.into_iter().collect(),
                groups: args.ignored_resource_groups.into_iter().collect(),
            },
            strategy: args.strategy,
            scorer: ResourceAllocation::new(args.resources, false),
        }
    }
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &str {
        NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilter> {
        Some(self)
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }

    fn as_pre_score(&self) -> Option<&dyn PreScore> {
        Some(self)
    }

    fn as_score(&self) -> Option<&dyn Score> {
        Some(self)
    }

    /// A pod that did not fit may fit once a pod goes away or shrinks
    /// (in-place resize, on by default in 1.33), or a node comes or
    /// grows; upstream registers pods of both kinds and lets the hint
    /// tell them apart. Queueing hints are on by default in 1.33, so node label
    /// and taint changes are not registered.
    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        Some(vec![
            ClusterEventWithHint::hinted(
                EventResource::AssignedPod,
                ActionType::DELETE | ActionType::UPDATE_POD_SCALE_DOWN,
                hints::after_pod_event,
            ),
            ClusterEventWithHint::hinted(
                EventResource::UnscheduledPod,
                ActionType::DELETE | ActionType::UPDATE_POD_SCALE_DOWN,
                hints::after_pod_event,
            ),
            ClusterEventWithHint::hinted(
                EventResource::Node,
                ActionType::ADD | ActionType::UPDATE_NODE_ALLOCATABLE,
                hints::after_node_change,
            ),
        ])
    }
}

impl PreFilter for NodeResourcesFit {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _snapshot: &Snapshot,
        _listers: &Listers,
    ) -> (Option<PreFilterResult>, Status) {
        state.write(PRE_FILTER_KEY, PreFilterState(pod.requests.clone()));
        (None, Status::success())
    }
}

impl Filter for NodeResourcesFit {
    fn filter(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(PreFilterState(request)) = state.read::<PreFilterState>(PRE_FILTER_KEY) else {
            return Status::error(format!(
                "error reading {PRE_FILTER_KEY:?} from cycleState: not found"
            ));
        };
        let reasons = insufficient(request, NodeUse::of(node), &self.ignored);
        if reasons.is_empty() {
            return Status::success();
        }
        // Preemption may free what is used, so the pod may yet fit: 1.33
        // answers Unschedulable even when the node's whole allocatable is
        // too small (UnschedulableAndUnresolvable for that came in 1.34).
        Status::new(Code::Unschedulable, reasons)
    }
}

impl PreScore for NodeResourcesFit {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[Arc<NodeInfo>],
        _snapshot: &Snapshot,
        _listers: &Listers,
    ) -> Status {
        state.write(PRE_SCORE_KEY, PreScoreState(self.scorer.pod_requests(pod)));
        Status::success()
    }
}

impl Score for NodeResourcesFit {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let score =
            |requests: &[i64]| strategy_score(&self.strategy, self.scorer.usages(node, requests));
        match state.read::<PreScoreState>(PRE_SCORE_KEY) {
            Some(PreScoreState(requests)) => Ok(score(requests)),
            // Scored without PreScore (as upstream allows): computed here.
            None => Ok(score(&self.scorer.pod_requests(pod))),
        }
    }
}

/// What a node has and uses, as Filter reads it.
#[derive(Debug, Clone, Copy)]
pub struct NodeUse<'a> {
    pub pods: usize,
    pub allocatable: &'a Resource,
    pub requested: &'a Resource,
}

impl<'a> NodeUse<'a> {
    pub fn of(node: &'a NodeInfo) -> NodeUse<'a> {
        NodeUse {
            pods: node.pods.len(),
            allocatable: &node.allocatable,
            requested: &node.requested,
        }
    }
}

/// Why a pod requesting `request` does not fit beside what the node uses,
/// in upstream's order (pods, cpu, memory, ephemeral storage, then the
/// scalar resources by name); empty when it fits. Nothing is allocated
/// when it fits.
pub fn insufficient(
    request: &Resource,
    node: NodeUse<'_>,
    ignored: &Ignored,
) -> Vec<Cow<'static, str>> {
    let mut reasons = Vec::new();
    let allowed = usize::try_from(node.allocatable.allowed_pod_number).unwrap_or(0);
    if node.pods + 1 > allowed {
        reasons.push(Cow::Borrowed("Too many pods"));
    }
    let requests_nothing = request.milli_cpu == 0
        && request.memory == 0
        && request.ephemeral_storage == 0
        && request.scalar.is_empty();
    if requests_nothing {
        return reasons;
    }
    let (free, used) = (node.allocatable, node.requested);
    let short = |want: i64, have: i64, using: i64| want > 0 && want > have - using;
    if short(request.milli_cpu, free.milli_cpu, used.milli_cpu) {
        reasons.push(Cow::Borrowed("Insufficient cpu"));
    }
    if short(request.memory, free.memory, used.memory) {
        reasons.push(Cow::Borrowed("Insufficient memory"));
    }
    let storage = request.ephemeral_storage;
    if short(storage, free.ephemeral_storage, used.ephemeral_storage) {
        reasons.push(Cow::Borrowed("Insufficient ephemeral-storage"));
    }
    for (name, want) in &request.scalar {
        if *want == 0 || ignored.skips(name) {
            continue;
        }
        if short(*want, free.get(name), used.get(name)) {
            reasons.push(Cow::Owned(format!("Insufficient {name}")));
        }
    }
    reasons
}

/// Whether `name` is an extended resource (`example.com/gpu`): one with a
/// domain that is not Kubernetes' own, as upstream's
/// `IsExtendedResourceName`. Only those can be ignored.
fn is_extended(name: &str) -> bool {
    name.contains('/') && !name.contains("kubernetes.io/") && !name.starts_with("requests.")
}

/// Makes the plugin from its arguments.
pub fn new(args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(NodeResourcesFit::from_args(fit_args(args)?)))
}
