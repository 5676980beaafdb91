//! Upstream's NodePorts cases: filter verdicts for colliding ports and
//! the hint for a deleted pod.

use super::*;
use crate::framework::events::Changed;
use crate::framework::{ClusterEvent, Code};
use keelson_api::k8s_openapi::api::core::v1::Node;
use serde_json::json;

/// A pod bound to `node` (none: unscheduled) with ports written
/// `PROTOCOL/IP/PORT`, as upstream's `newPod`.
fn pod(node: Option<&str>, ports: &[&str]) -> Pod {
    let ports: Vec<_> = ports
        .iter()
        .map(|spec| {
            let [protocol, ip, port] = spec.split('/').collect::<Vec<_>>()[..] else {
                panic!("a port is PROTOCOL/IP/PORT: {spec}");
            };
            let port: i32 = port.parse().expect("a port number");
            json!({"containerPort": port, "hostPort": port, "hostIP": ip, "protocol": protocol})
        })
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": "p", "namespace": "default", "uid": "p"},
        "spec": {"nodeName": node, "containers": [{"name": "c", "ports": ports}]},
    }))
    .expect("a pod")
}

fn node_with(pods: &[Pod]) -> NodeInfo {
    let node: Node = serde_json::from_value(json!({"metadata": {"name": "n"}})).expect("a node");
    let mut info = NodeInfo::new(Arc::new(node));
    for pod in pods {
        info.add_pod(Arc::new(PodInfo::new(Arc::new(pod.clone()))));
    }
    info
}

fn run(pod: &Pod, node: &NodeInfo) -> Status {
    let info = PodInfo::new(Arc::new(pod.clone()));
    let mut state = CycleState::new();
    let (_, status) =
        NodePorts.pre_filter(&mut state, &info, &Snapshot::default(), &Listers::default());
    if !status.is_success() {
        return status;
    }
    NodePorts.filter(&state, &info, node)
}

#[test]
fn a_pod_without_host_ports_skips_the_filter() {
    let status = run(&pod(None, &[]), &node_with(&[]));
    assert_eq!(status.code(), Code::Skip);
}

#[test]
fn ports_collide_on_protocol_number_and_ip_or_any_ip() {
    let conflict = Code::Unschedulable;
    let fits = Code::Success;
    // (wanted, in use on the node, expected), as upstream's TestNodePorts.
    let cases: [(&[&str], &[&str], Code); 11] = [
        (&["UDP/127.0.0.1/8080"], &["UDP/127.0.0.1/8080"], conflict),
        (&["TCP/127.0.0.1/8080"], &["TCP/127.0.0.1/8080"], conflict),
        (&["TCP/127.0.0.1/8080"], &["TCP/127.0.0.2/8080"], fits),
        (&["UDP/127.0.0.1/8080"], &["TCP/127.0.0.1/8080"], fits),
        (
            &["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"],
            &["UDP/127.0.0.1/8080"],
            conflict,
        ),
        (
            &["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"],
            &["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"],
            conflict,
        ),
        (&["TCP/0.0.0.0/8001"], &["TCP/127.0.0.1/8001"], conflict),
        (
            &["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"],
            &["TCP/127.0.0.1/8001"],
            conflict,
        ),
        (&["TCP/127.0.0.1/8001"], &["TCP/0.0.0.0/8001"], conflict),
        (&["UDP/127.0.0.1/8001"], &["TCP/0.0.0.0/8001"], fits),
        (
            &["UDP/127.0.0.1/8001"],
            &["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"],
            conflict,
        ),
    ];
    for (wanted, used, code) in cases {
        let status = run(&pod(None, wanted), &node_with(&[pod(Some("n"), used)]));
        assert_eq!(status.code(), code, "{wanted:?} against {used:?}");
        if code == conflict {
            assert_eq!(status.reasons(), [ERR_REASON]);
        }
    }
}

#[test]
fn a_port_freed_by_a_pod_leaving_the_node_fits() {
    let wanted = pod(None, &["TCP/127.0.0.1/8080"]);
    let holder = pod(Some("n"), &["TCP/127.0.0.1/8080"]);
    let mut node = node_with(&[holder]);
    assert_eq!(run(&wanted, &node).code(), Code::Unschedulable);
    node.remove_pod("p");
    assert!(run(&wanted, &node).is_success());
}

fn deleted(pod: Pod) -> ClusterChange {
    ClusterChange {
        event: ClusterEvent::new(EventResource::AssignedPod, ActionType::DELETE),
        old: Some(Changed::Pod(Arc::new(pod))),
        new: None,
    }
}

#[test]
fn only_a_placed_pod_releasing_a_wanted_port_requeues() {
    let wanted = pod(None, &["TCP/127.0.0.1/8080"]);
    let mut nominated = pod(None, &["TCP/127.0.0.1/8080"]);
    nominated.status =
        Some(serde_json::from_value(json!({"nominatedNodeName": "n"})).expect("a status"));
    // As upstream's Test_isSchedulableAfterPodDeleted.
    let cases = [
        (pod(None, &["TCP/127.0.0.1/8080"]), QueueingHint::Skip),
        (pod(Some("n"), &[]), QueueingHint::Skip),
        (pod(Some("n"), &["TCP/127.0.0.1/8081"]), QueueingHint::Skip),
        (pod(Some("n"), &["TCP/127.0.0.1/8080"]), QueueingHint::Queue),
        (nominated, QueueingHint::Queue),
    ];
    for (gone, hint) in cases {
        assert_eq!(
            after_pod_deleted(&wanted, &deleted(gone.clone())),
            hint,
            "{gone:?}"
        );
    }
    let not_a_pod = ClusterChange {
        event: ClusterEvent::new(EventResource::AssignedPod, ActionType::DELETE),
        old: Some(Changed::Other),
        new: None,
    };
    assert_eq!(after_pod_deleted(&wanted, &not_a_pod), QueueingHint::Queue);
}

#[test]
fn a_pod_deleted_or_a_node_added_may_free_ports() {
    let events = NodePorts.events_to_register().expect("events");
    let registered: Vec<_> = events
        .iter()
        .map(|e| (e.event.resource, e.event.action, e.hint.is_some()))
        .collect();
    assert_eq!(
        registered,
        [
            (EventResource::AssignedPod, ActionType::DELETE, true),
            (EventResource::UnscheduledPod, ActionType::DELETE, true),
            (EventResource::Node, ActionType::ADD, false),
        ]
    );
}
