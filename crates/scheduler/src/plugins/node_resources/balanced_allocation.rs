//! The `NodeResourcesBalancedAllocation` plugin: favours the nodes whose
//! resources would be used most evenly with the pod on them, scoring
//! `(1 - std) * 100` of the fractions used of each weighed resource
//! (upstream's `noderesources/balanced_allocation.go`). It counts
//! requests as they are (a container without requests adds nothing), and
//! leaves out pods that request none of its resources, so that
//! best-effort pods do not all pile onto the node it likes best.

use std::sync::Arc;

use crate::framework::{
    ClusterEventWithHint, CycleState, Handle, Listers, NodeInfo, Plugin, PodInfo, PreScore, Score,
    Snapshot, Status,
};

use super::args::balanced_allocation_args;
use super::scoring::{ResourceAllocation, balanced_score};

/// The plugin's name in configurations.
pub const NAME: &str = "NodeResourcesBalancedAllocation";

/// Where PreScore keeps the pod's requests of the weighed resources.
const PRE_SCORE_KEY: &str = "PreScoreNodeResourcesBalancedAllocation";

/// The pod's requests of each weighed resource, in the arguments' order.
#[derive(Debug, Clone)]
struct PreScoreState(Vec<i64>);

/// The plugin.
pub struct NodeResourcesBalancedAllocation {
    scorer: ResourceAllocation,
}

impl Plugin for NodeResourcesBalancedAllocation {
    fn name(&self) -> &str {
        NAME
    }

    fn as_pre_score(&self) -> Option<&dyn PreScore> {
        Some(self)
    }

    fn as_score(&self) -> Option<&dyn Score> {
        Some(self)
    }

    /// A score plugin rejects no pod: no event concerns it.
    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        Some(Vec::new())
    }
}

impl PreScore for NodeResourcesBalancedAllocation {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[Arc<NodeInfo>],
        _snapshot: &Snapshot,
        _listers: &Listers,
    ) -> Status {
        let requests = self.scorer.pod_requests(pod);
        if ResourceAllocation::requests_nothing(&requests) {
            return Status::skip();
        }
        state.write(PRE_SCORE_KEY, PreScoreState(requests));
        Status::success()
    }
}

impl Score for NodeResourcesBalancedAllocation {
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let score = |requests: &[i64]| balanced_score(self.scorer.usages(node, requests));
        if let Some(PreScoreState(requests)) = state.read::<PreScoreState>(PRE_SCORE_KEY) {
            return Ok(score(requests));
        }
        // Scored without PreScore (as upstream allows): computed here, and
        // a pod requesting nothing scores 0 as PreScore would have skipped it.
        let requests = self.scorer.pod_requests(pod);
        if ResourceAllocation::requests_nothing(&requests) {
            return Ok(0);
        }
        Ok(score(&requests))
    }
}

/// Makes the plugin from its arguments.
pub fn new(args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    let resources = balanced_allocation_args(args)?;
    Ok(Arc::new(NodeResourcesBalancedAllocation {
        scorer: ResourceAllocation::new(resources, true),
    }))
}

#[cfg(test)]
mod tests;
