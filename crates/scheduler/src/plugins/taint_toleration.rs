//! The `TaintToleration` plugin: a pod fits only nodes whose `NoSchedule`
//! and `NoExecute` taints it tolerates, and prefers nodes with fewer
//! `PreferNoSchedule` taints it does not tolerate, as upstream's
//! `tainttoleration` plugin.

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Pod, Taint, Toleration};

use super::node_affinity::default_normalize_score;
use crate::framework::events::{Changed, ClusterChange};
use crate::framework::node_selector::{find_untolerated_taint, taints, tolerates, tolerations};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, Filter, Handle, Listers,
    MAX_NODE_SCORE, NodeInfo, NodeScore, Plugin, PodInfo, PreScore, QueueingHint, Score, Snapshot,
    Status,
};

/// The plugin's name in configurations.
pub const NAME: &str = "TaintToleration";

const PRE_SCORE_STATE_KEY: &str = "PreScoreTaintToleration";

/// The pod's tolerations that may tolerate a `PreferNoSchedule` taint,
/// picked once per cycle in PreScore.
#[derive(Clone)]
struct PreScoreState(Arc<Vec<Toleration>>);

/// The plugin.
pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &str {
        NAME
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

    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        Some(vec![
            ClusterEventWithHint::hinted(
                EventResource::Node,
                ActionType::ADD | ActionType::UPDATE_NODE_TAINT,
                after_node_change,
            ),
            ClusterEventWithHint::hinted(
                EventResource::UnscheduledPod,
                ActionType::UPDATE_POD_TOLERATIONS,
                after_pod_toleration_change,
            ),
        ])
    }
}

/// The taints Filter considers: those that keep pods off the node.
fn does_not_schedule(taint: &Taint) -> bool {
    matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute")
}

impl Filter for TaintToleration {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(node) = node.node() else {
            return Status::error("node not found");
        };
        let untolerated =
            find_untolerated_taint(taints(node), tolerations(&pod.pod), does_not_schedule);
        match untolerated {
            None => Status::success(),
            Some(taint) => Status::unresolvable(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                taint.key,
                taint.value.as_deref().unwrap_or_default()
            )),
        }
    }
}

impl PreScore for TaintToleration {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[Arc<NodeInfo>],
        _snapshot: &Snapshot,
        _listers: &Listers,
    ) -> Status {
        // An empty effect tolerates every effect, PreferNoSchedule among them.
        let relevant = tolerations(&pod.pod)
            .iter()
            .filter(|t| {
                matches!(
                    t.effect.as_deref(),
                    None | Some("") | Some("PreferNoSchedule")
                )
            })
            .cloned()
            .collect();
        state.write(PRE_SCORE_STATE_KEY, PreScoreState(Arc::new(relevant)));
        Status::success()
    }
}

impl Score for TaintToleration {
    fn score(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let Some(node) = node.node() else {
            return Err(Status::error("node not found"));
        };
        let Some(PreScoreState(tolerations)) = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY)
        else {
            return Err(Status::error(format!(
                "failed to read {PRE_SCORE_STATE_KEY:?} from cycleState: not found"
            )));
        };
        Ok(count_intolerable_prefer_no_schedule(
            taints(node),
            tolerations,
        ))
    }

    fn normalize(&self, _state: &CycleState, _pod: &PodInfo, scores: &mut [NodeScore]) -> Status {
        // More intolerable taints, lower score.
        default_normalize_score(MAX_NODE_SCORE, true, scores)
    }
}

/// How many of `taints` are `PreferNoSchedule` and not tolerated.
fn count_intolerable_prefer_no_schedule(taints: &[Taint], tolerations: &[Toleration]) -> i64 {
    let intolerable = taints
        .iter()
        .filter(|taint| taint.effect == "PreferNoSchedule")
        .filter(|taint| !tolerations.iter().any(|t| tolerates(t, taint)));
    intolerable.count() as i64
}

/// A node added, or retainted, so that the pod now tolerates all its
/// NoSchedule and NoExecute taints may take it.
fn after_node_change(pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let Some(node) = change.new_node() else {
        return QueueingHint::Queue;
    };
    let untolerated =
        |node| find_untolerated_taint(taints(node), tolerations(pod), does_not_schedule).is_some();
    let was_untolerated = change.old_node().is_none_or(untolerated);
    if was_untolerated && !untolerated(node) {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

/// The pod itself gaining a toleration may make it fit.
fn after_pod_toleration_change(pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let Some(Changed::Pod(modified)) = &change.new else {
        return QueueingHint::Queue;
    };
    if modified.metadata.uid == pod.metadata.uid {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

/// Makes the plugin from its arguments (it takes none).
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(TaintToleration))
}

#[cfg(test)]
mod tests;
