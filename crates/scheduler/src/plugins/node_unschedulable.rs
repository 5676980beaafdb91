//! The `NodeUnschedulable` plugin: a cordoned node (`spec.unschedulable`)
//! takes only the pods that tolerate the
//! `node.kubernetes.io/unschedulable:NoSchedule` taint, as upstream's
//! `nodeunschedulable` plugin.

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Node, Pod, Taint};

use crate::framework::events::{Changed, ClusterChange};
use crate::framework::node_selector::{tolerates, tolerations};
use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, Filter, Handle, NodeInfo, Plugin,
    PodInfo, QueueingHint, Status,
};

/// The plugin's name in configurations.
pub const NAME: &str = "NodeUnschedulable";

/// Why a cordoned node is rejected.
pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";

/// The taint a cordoned node is treated as carrying.
pub const TAINT_NODE_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// The plugin.
pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &str {
        NAME
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }

    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        // Uncordoning is reported as a taint update, as upstream classifies
        // a change of `spec.unschedulable`.
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

impl Filter for NodeUnschedulable {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(node) = node.node() else {
            return Status::error("node not found");
        };
        if !is_cordoned(node) || tolerates_unschedulable(&pod.pod) {
            return Status::success();
        }
        Status::unresolvable(ERR_REASON_UNSCHEDULABLE)
    }
}

fn is_cordoned(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
}

/// Whether `pod` tolerates the unschedulable taint (and so a cordoned node).
fn tolerates_unschedulable(pod: &Pod) -> bool {
    let taint = Taint {
        key: TAINT_NODE_UNSCHEDULABLE.to_string(),
        effect: "NoSchedule".to_string(),
        ..Taint::default()
    };
    tolerations(pod).iter().any(|t| tolerates(t, &taint))
}

/// A node added uncordoned, or uncordoned, may take the pod.
fn after_node_change(_pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let Some(node) = change.new_node() else {
        return QueueingHint::Queue;
    };
    let uncordoned = match change.old_node() {
        Some(old) => is_cordoned(old) && !is_cordoned(node),
        None => !is_cordoned(node),
    };
    if uncordoned {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

/// The pod itself gaining the toleration may make it fit. (Tolerations
/// can only be added, and the pod was rejected, so it lacked it before.)
fn after_pod_toleration_change(pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let Some(Changed::Pod(modified)) = &change.new else {
        return QueueingHint::Queue;
    };
    if modified.metadata.uid == pod.metadata.uid && tolerates_unschedulable(modified) {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

/// Makes the plugin from its arguments (it takes none).
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(NodeUnschedulable))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{ClusterEvent, Code};
    use serde_json::json;

    fn pod(uid: &str, tolerations: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "default", "uid": uid},
            "spec": {"containers": [{"name": "c"}], "tolerations": tolerations},
        }))
        .expect("a pod")
    }

    fn node(unschedulable: Option<bool>) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": "n"}, "spec": {"unschedulable": unschedulable},
        }))
        .expect("a node")
    }

    #[test]
    fn a_cordoned_node_takes_only_pods_tolerating_the_unschedulable_taint() {
        let tolerating = json!([{"key": TAINT_NODE_UNSCHEDULABLE, "operator": "Exists", "effect": "NoSchedule"}]);
        // (node's spec.unschedulable, pod's tolerations, expected code), as
        // upstream's TestNodeUnschedulable.
        let cases = [
            (Some(false), json!([]), Code::Success),
            (None, json!([]), Code::Success),
            (Some(true), json!([]), Code::UnschedulableAndUnresolvable),
            (Some(true), tolerating, Code::Success),
        ];
        for (unschedulable, tolerations, code) in cases {
            let info = PodInfo::new(Arc::new(pod("p", tolerations.clone())));
            let node = NodeInfo::new(Arc::new(node(unschedulable)));
            let status = NodeUnschedulable.filter(&CycleState::new(), &info, &node);
            assert_eq!(status.code(), code, "{unschedulable:?} {tolerations}");
            if code != Code::Success {
                assert_eq!(status.reasons(), [ERR_REASON_UNSCHEDULABLE]);
            }
        }
    }

    fn node_change(old: Option<Node>, new: Node) -> ClusterChange {
        let action = if old.is_some() {
            ActionType::UPDATE_NODE_TAINT
        } else {
            ActionType::ADD
        };
        ClusterChange {
            event: ClusterEvent::new(EventResource::Node, action),
            old: old.map(|n| Changed::Node(Arc::new(n))),
            new: Some(Changed::Node(Arc::new(new))),
        }
    }

    #[test]
    fn only_a_schedulable_node_added_or_an_uncordoned_one_requeues() {
        let pod = pod("p", json!([]));
        let cases = [
            (None, node(Some(false)), QueueingHint::Queue),
            (None, node(Some(true)), QueueingHint::Skip),
            (
                Some(node(Some(true))),
                node(Some(false)),
                QueueingHint::Queue,
            ),
            (
                Some(node(Some(false))),
                node(Some(false)),
                QueueingHint::Skip,
            ),
            (
                Some(node(Some(false))),
                node(Some(true)),
                QueueingHint::Skip,
            ),
        ];
        for (old, new, hint) in cases {
            let change = node_change(old.clone(), new.clone());
            assert_eq!(after_node_change(&pod, &change), hint, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn only_the_pod_itself_gaining_the_toleration_requeues() {
        let rejected = pod("p", json!([]));
        let tolerating = json!([{"key": TAINT_NODE_UNSCHEDULABLE, "effect": "NoSchedule", "operator": "Exists"}]);
        let unrelated = json!([{"key": "other", "operator": "Exists"}]);
        let cases = [
            (pod("p", tolerating.clone()), QueueingHint::Queue),
            (pod("p", unrelated), QueueingHint::Skip),
            (pod("other", tolerating), QueueingHint::Skip),
        ];
        for (modified, hint) in cases {
            let change = ClusterChange {
                event: ClusterEvent::new(
                    EventResource::UnscheduledPod,
                    ActionType::UPDATE_POD_TOLERATIONS,
                ),
                old: Some(Changed::Pod(Arc::new(rejected.clone()))),
                new: Some(Changed::Pod(Arc::new(modified))),
            };
            assert_eq!(after_pod_toleration_change(&rejected, &change), hint);
        }
    }
}
