//! The `NodePorts` plugin: a pod asking for host ports fits only a node
//! where none of them is in use, as upstream's `nodeports` plugin.

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::Pod;

use crate::framework::events::ClusterChange;
use crate::framework::node_info::{HostPort, host_ports};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, Filter, Handle, Listers, NodeInfo,
    Plugin, PodInfo, PreFilter, PreFilterResult, QueueingHint, Snapshot, Status,
};

/// The plugin's name in configurations.
pub const NAME: &str = "NodePorts";

/// Why a node with one of the ports in use is rejected.
pub const ERR_REASON: &str = "node(s) didn't have free ports for the requested pod ports";

/// Where PreFilter keeps the pod's host ports.
const PRE_FILTER_STATE_KEY: &str = "PreFilterNodePorts";

/// The host ports the pod asks for, computed once per cycle. Adding or
/// removing other pods does not change it, so it is shared, not copied.
#[derive(Clone)]
struct PreFilterState(Arc<Vec<HostPort>>);

/// The plugin.
pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &str {
        NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilter> {
        Some(self)
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }

    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        // Ports are immutable, so pod updates never free one; a node
        // update never adds free ports, only a new node does.
        Some(vec![
            ClusterEventWithHint::hinted(
                EventResource::AssignedPod,
                ActionType::DELETE,
                after_pod_deleted,
            ),
            ClusterEventWithHint::hinted(
                EventResource::UnscheduledPod,
                ActionType::DELETE,
                after_pod_deleted,
            ),
            ClusterEventWithHint::always(EventResource::Node, ActionType::ADD),
        ])
    }
}

impl PreFilter for NodePorts {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _snapshot: &Snapshot,
        _listers: &Listers,
    ) -> (Option<PreFilterResult>, Status) {
        let wanted = host_ports(&pod.pod);
        if wanted.is_empty() {
            return (None, Status::skip());
        }
        state.write(PRE_FILTER_STATE_KEY, PreFilterState(Arc::new(wanted)));
        (None, Status::success())
    }
}

impl Filter for NodePorts {
    fn filter(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(PreFilterState(wanted)) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY)
        else {
            return Status::error(format!(
                "reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            ));
        };
        if fits_ports(wanted, node) {
            Status::success()
        } else {
            Status::unschedulable(ERR_REASON)
        }
    }
}

/// Whether none of `wanted` collides with a port in use on `node`.
fn fits_ports(wanted: &[HostPort], node: &NodeInfo) -> bool {
    !wanted
        .iter()
        .any(|want| node.used_ports.iter().any(|used| used.conflicts(want)))
}

/// Deleting a pod frees a port the rejected pod wants only if that pod
/// was on (or nominated to) a node and used one of those ports.
fn after_pod_deleted(pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let Some(deleted) = change.pod() else {
        return QueueingHint::Queue;
    };
    let bound = deleted
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    let nominated = deleted
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    if !bound && !nominated {
        return QueueingHint::Skip;
    }
    let freed = host_ports(deleted);
    let wanted = host_ports(pod);
    let shared = wanted
        .iter()
        .any(|want| freed.iter().any(|used| used.conflicts(want)));
    if shared {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

/// Makes the plugin from its arguments (it takes none).
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(NodePorts))
}

#[cfg(test)]
mod tests;
