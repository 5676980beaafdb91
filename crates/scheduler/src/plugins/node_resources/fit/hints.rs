//! `NodeResourcesFit`'s queueing hints: whether a pod it rejected may fit
//! after a pod went away or shrank, or a node came or changed (upstream's
//! `isSchedulableAfterPodEvent` and `isSchedulableAfterNodeChange`).

use keelson_api::k8s_openapi::api::core::v1::{Node, Pod};

use crate::framework::events::Changed;
use crate::framework::resource::{CPU, EPHEMERAL_STORAGE, MEMORY, pod_requests};
use crate::framework::{ClusterChange, QueueingHint, Resource};

use super::{Ignored, NodeUse, insufficient};

/// After a pod was deleted or scaled down.
pub fn after_pod_event(pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let (old, new) = match (&change.old, &change.new) {
        (Some(Changed::Pod(old)), new) => (old, new),
        // Neither a deletion nor an update of a pod: nothing to judge by.
        _ => return QueueingHint::Queue,
    };
    let Some(Changed::Pod(new)) = new else {
        // Deleted: only a pod bound to a node, or nominated to one (whose
        // requests Filter counts there), frees any room.
        return if node_name(old).is_empty() && nominated_node_name(old).is_empty() {
            QueueingHint::Skip
        } else {
            QueueingHint::Queue
        };
    };
    if scaled_down_for(pod, old, new) {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

/// Whether an update of `old` to `new` may make `target` fit: it is the
/// target itself, or a bound pod whose requests of something the target
/// requests went down.
fn scaled_down_for(target: &Pod, old: &Pod, new: &Pod) -> bool {
    if new.metadata.uid.is_some() && new.metadata.uid == target.metadata.uid {
        return true;
    }
    if node_name(new).is_empty() {
        return false;
    }
    let (before, after) = (pod_requests(old), pod_requests(new));
    let wanted = pod_requests(target);
    let went_down = |name: &str| before.get(name) > after.get(name);
    let mut requested = [CPU, MEMORY, EPHEMERAL_STORAGE]
        .into_iter()
        .filter(|name| wanted.get(name) != 0);
    if requested.any(went_down) {
        return true;
    }
    wanted
        .scalar
        .iter()
        .any(|(name, amount)| *amount != 0 && went_down(name))
}

/// After a node was added or its allocatable changed: queue when the pod
/// fits the node empty, and (for an update) the node grew in something
/// the pod requests.
pub fn after_node_change(pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let Some(node) = change.new_node() else {
        return QueueingHint::Queue;
    };
    let request = pod_requests(pod);
    let now = allocatable(node);
    let empty = NodeUse {
        pods: 0,
        allocatable: &now,
        requested: &Resource::default(),
    };
    if !insufficient(&request, empty, &Ignored::default()).is_empty() {
        return QueueingHint::Skip;
    }
    let Some(old) = change.old_node() else {
        return QueueingHint::Queue;
    };
    if grew_in_requested(&request, &allocatable(old), &now) {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

/// Whether the node now allows more pods, or more of a resource the pod
/// requests.
fn grew_in_requested(request: &Resource, before: &Resource, after: &Resource) -> bool {
    if after.allowed_pod_number > before.allowed_pod_number {
        return true;
    }
    let grew = |want: i64, before: i64, after: i64| want > 0 && after > before;
    grew(request.milli_cpu, before.milli_cpu, after.milli_cpu)
        || grew(request.memory, before.memory, after.memory)
        || grew(
            request.ephemeral_storage,
            before.ephemeral_storage,
            after.ephemeral_storage,
        )
        || request
            .scalar
            .iter()
            .any(|(name, want)| grew(*want, before.get(name), after.get(name)))
}

fn allocatable(node: &Node) -> Resource {
    Resource::from_list(node.status.as_ref().and_then(|s| s.allocatable.as_ref()))
}

fn nominated_node_name(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .unwrap_or_default()
}

fn node_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;
    use crate::framework::{ActionType, ClusterEvent, EventResource};
    use crate::plugins::node_resources::test_support::{containers, node, pod};

    fn spec(requests: &[Value]) -> Value {
        json!({"containers": containers(requests)})
    }

    fn pod_change(event: ActionType, old: Option<Value>, new: Option<Value>) -> ClusterChange {
        let wrap = |name: &str, spec: Value| Changed::Pod(Arc::new(pod(name, spec)));
        ClusterChange {
            event: ClusterEvent::new(EventResource::AssignedPod, event),
            old: old.map(|spec| wrap("other", spec)),
            new: new.map(|spec| wrap("other", spec)),
        }
    }

    #[test]
    fn pod_events_queue_when_they_free_what_the_pod_requests() {
        let target = pod("p", spec(&[json!({"cpu": "1"})]));
        let on_node = |requests: Value| {
            let mut spec = spec(&[requests]);
            spec["nodeName"] = json!("n");
            spec
        };
        let cpu2 = on_node(json!({"cpu": "2", "memory": "2Gi"}));
        let cases = [
            (
                "an unscheduled pod deleted",
                pod_change(ActionType::DELETE, Some(spec(&[json!({"cpu": "2"})])), None),
                QueueingHint::Skip,
            ),
            (
                "a scheduled pod deleted",
                pod_change(ActionType::DELETE, Some(cpu2.clone()), None),
                QueueingHint::Queue,
            ),
            (
                "a scheduled pod's cpu scaled down",
                pod_change(
                    ActionType::UPDATE_POD_SCALE_DOWN,
                    Some(cpu2.clone()),
                    Some(on_node(json!({"cpu": "1", "memory": "2Gi"}))),
                ),
                QueueingHint::Queue,
            ),
            (
                "a scheduled pod's memory scaled down",
                pod_change(
                    ActionType::UPDATE_POD_SCALE_DOWN,
                    Some(cpu2.clone()),
                    Some(on_node(json!({"cpu": "2", "memory": "1Gi"}))),
                ),
                QueueingHint::Skip,
            ),
            (
                "an unscheduled pod scaled down",
                pod_change(
                    ActionType::UPDATE_POD_SCALE_DOWN,
                    Some(spec(&[json!({"cpu": "2"})])),
                    Some(spec(&[json!({"cpu": "1"})])),
                ),
                QueueingHint::Skip,
            ),
        ];
        for (name, change, want) in cases {
            assert_eq!(after_pod_event(&target, &change), want, "{name}");
        }
        let itself = Changed::Pod(Arc::new(target.clone()));
        let change = ClusterChange {
            event: ClusterEvent::new(
                EventResource::UnscheduledPod,
                ActionType::UPDATE_POD_SCALE_DOWN,
            ),
            old: Some(itself.clone()),
            new: Some(itself),
        };
        assert_eq!(after_pod_event(&target, &change), QueueingHint::Queue);
    }

    #[test]
    fn a_nominated_pod_deleted_frees_the_room_held_for_it() {
        let target = pod("p", spec(&[json!({"cpu": "1"})]));
        let mut nominated = pod("other", spec(&[json!({"cpu": "2"})]));
        nominated.status =
            Some(serde_json::from_value(json!({"nominatedNodeName": "n"})).expect("a status"));
        let change = ClusterChange {
            event: ClusterEvent::new(EventResource::UnscheduledPod, ActionType::DELETE),
            old: Some(Changed::Pod(Arc::new(nominated))),
            new: None,
        };
        assert_eq!(after_pod_event(&target, &change), QueueingHint::Queue);
    }

    #[test]
    fn node_events_queue_when_the_node_may_now_fit_the_pod() {
        let target = pod("p", spec(&[json!({"cpu": "2"})]));
        let change = |old: Option<Value>, new: Value| ClusterChange {
            event: ClusterEvent::new(EventResource::Node, ActionType::UPDATE_NODE_ALLOCATABLE),
            old: old.map(|a| Changed::Node(node("n", a))),
            new: Some(Changed::Node(node("n", new))),
        };
        let node = |cpu: &str, memory: &str, pods: &str| json!({"cpu": cpu, "memory": memory, "pods": pods});
        let cases = [
            (
                "added, fits",
                change(None, node("2", "1Gi", "32")),
                QueueingHint::Queue,
            ),
            (
                "added, too small",
                change(None, node("1", "1Gi", "32")),
                QueueingHint::Skip,
            ),
            (
                "added, no pods allowed",
                change(None, node("4", "1Gi", "0")),
                QueueingHint::Skip,
            ),
            (
                "cpu grew to fit",
                change(Some(node("1", "1Gi", "32")), node("2", "1Gi", "32")),
                QueueingHint::Queue,
            ),
            (
                "cpu grew, still too small",
                change(Some(node("1", "1Gi", "32")), node("1500m", "1Gi", "32")),
                QueueingHint::Skip,
            ),
            (
                "memory grew, not requested",
                change(Some(node("2", "1Gi", "32")), node("2", "2Gi", "32")),
                QueueingHint::Skip,
            ),
            (
                "more pods allowed",
                change(Some(node("2", "1Gi", "32")), node("2", "1Gi", "64")),
                QueueingHint::Queue,
            ),
        ];
        for (name, change, want) in cases {
            assert_eq!(after_node_change(&target, &change), want, "{name}");
        }
    }
}
