//! The `NodeName` plugin: a pod that names its node (`spec.nodeName`)
//! fits only that node, as upstream's `nodename` plugin.

use std::sync::Arc;

use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, Filter, Handle, NodeInfo, Plugin,
    PodInfo, Status,
};

/// The plugin's name in configurations.
pub const NAME: &str = "NodeName";

/// Why a node other than the one the pod names is rejected.
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

/// The plugin.
pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &str {
        NAME
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }

    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        // A node updated never changes its name: only a new node can be
        // the one asked for (upstream registers Add alone once queueing
        // hints are on, as they are by default in v1.33).
        Some(vec![ClusterEventWithHint::always(
            EventResource::Node,
            ActionType::ADD,
        )])
    }
}

impl Filter for NodeName {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if node.node().is_none() {
            return Status::error("node not found");
        }
        if fits(pod, node) {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON)
        }
    }
}

/// Whether `pod` names no node, or names `node`.
pub fn fits(pod: &PodInfo, node: &NodeInfo) -> bool {
    let wanted = pod.pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
    match wanted {
        None | Some("") => true,
        Some(name) => name == node.name(),
    }
}

/// Makes the plugin from its arguments (it takes none).
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(NodeName))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use keelson_api::k8s_openapi::api::core::v1::{Node, Pod};
    use serde_json::json;

    fn pod(node_name: Option<&str>) -> PodInfo {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c"}], "nodeName": node_name},
        }))
        .expect("a pod");
        PodInfo::new(Arc::new(pod))
    }

    fn node(name: &str) -> NodeInfo {
        let node: Node =
            serde_json::from_value(json!({"metadata": {"name": name}})).expect("a node");
        NodeInfo::new(Arc::new(node))
    }

    #[test]
    fn only_the_named_node_fits() {
        // (pod's nodeName, node, expected code) as upstream's TestNodeName.
        let cases = [
            (None, "foo", Code::Success),
            (Some("foo"), "foo", Code::Success),
            (Some("bar"), "foo", Code::UnschedulableAndUnresolvable),
        ];
        for (wanted, name, code) in cases {
            let status = NodeName.filter(&CycleState::new(), &pod(wanted), &node(name));
            assert_eq!(status.code(), code, "pod naming {wanted:?} on {name}");
            if code != Code::Success {
                assert_eq!(status.reasons(), [ERR_REASON]);
            }
        }
    }

    #[test]
    fn a_node_info_without_its_node_is_an_error() {
        let status = NodeName.filter(&CycleState::new(), &pod(None), &NodeInfo::default());
        assert_eq!(status.code(), Code::Error);
    }

    #[test]
    fn only_an_added_node_may_help() {
        let events = NodeName.events_to_register().expect("events");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event.resource, EventResource::Node);
        assert_eq!(events[0].event.action, ActionType::ADD);
    }
}
