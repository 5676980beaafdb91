//! Upstream's TaintToleration cases: filter reasons, scores after
//! normalizing, and the hints.

use keelson_api::k8s_openapi::api::core::v1::Node;
use serde_json::{Value, json};

use super::*;
use crate::framework::{ClusterEvent, Code};

fn pod(uid: &str, tolerations: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": uid, "namespace": "default", "uid": uid},
        "spec": {"containers": [{"name": "c"}], "tolerations": tolerations},
    }))
    .expect("a pod")
}

fn node_object(name: &str, taints: Value) -> Node {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"taints": taints}}))
        .expect("a node")
}

fn node(name: &str, taints: Value) -> NodeInfo {
    NodeInfo::new(Arc::new(node_object(name, taints)))
}

fn info(tolerations: Value) -> PodInfo {
    PodInfo::new(Arc::new(pod("p", tolerations)))
}

#[test]
fn a_node_keeps_off_pods_not_tolerating_its_no_schedule_and_no_execute_taints() {
    let dedicated =
        |value: &str, effect: &str| json!([{"key": "dedicated", "value": value, "effect": effect}]);
    // (tolerations, taints, rejection), as upstream's TestTaintTolerationFilter.
    let cases = [
        (
            json!([]),
            dedicated("user1", "NoSchedule"),
            Some("node(s) had untolerated taint {dedicated: user1}"),
        ),
        (
            json!([{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]),
            dedicated("user1", "NoSchedule"),
            None,
        ),
        (
            json!([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}]),
            dedicated("user1", "NoSchedule"),
            Some("node(s) had untolerated taint {dedicated: user1}"),
        ),
        (
            json!([{"key": "foo", "operator": "Exists", "effect": "NoSchedule"}]),
            json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}]),
            None,
        ),
        (
            json!([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}, {"key": "foo", "operator": "Exists", "effect": "NoSchedule"}]),
            json!([{"key": "dedicated", "value": "user2", "effect": "NoSchedule"}, {"key": "foo", "value": "bar", "effect": "NoSchedule"}]),
            None,
        ),
        (
            json!([{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}]),
            json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}]),
            Some("node(s) had untolerated taint {foo: bar}"),
        ),
        (
            json!([{"key": "foo", "operator": "Equal", "value": "bar"}]),
            json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}]),
            None,
        ),
        (
            json!([{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}]),
            dedicated("user1", "PreferNoSchedule"),
            None,
        ),
        (json!([]), dedicated("user1", "PreferNoSchedule"), None),
        (
            json!([]),
            json!([{"key": "evict", "effect": "NoExecute"}]),
            Some("node(s) had untolerated taint {evict: }"),
        ),
    ];
    for (tolerations, taints, rejection) in cases {
        let status = TaintToleration.filter(
            &CycleState::new(),
            &info(tolerations.clone()),
            &node("n", taints.clone()),
        );
        match rejection {
            None => assert!(status.is_success(), "{tolerations} on {taints}: {status}"),
            Some(reason) => {
                assert_eq!(
                    status.code(),
                    Code::UnschedulableAndUnresolvable,
                    "{tolerations} on {taints}"
                );
                assert_eq!(status.reasons(), [reason]);
            }
        }
    }
}

/// PreScore, Score on each node, Normalize.
fn scores(pod: &PodInfo, nodes: &[NodeInfo]) -> Vec<i64> {
    let mut state = CycleState::new();
    let infos: Vec<Arc<NodeInfo>> = nodes.iter().cloned().map(Arc::new).collect();
    let status = TaintToleration.pre_score(
        &mut state,
        pod,
        &infos,
        &Snapshot::default(),
        &Listers::default(),
    );
    assert!(status.is_success(), "{status}");
    let mut list: Vec<NodeScore> = nodes
        .iter()
        .map(|node| NodeScore {
            name: node.name().to_string(),
            score: TaintToleration.score(&state, pod, node).expect("scored"),
        })
        .collect();
    assert!(
        TaintToleration
            .normalize(&state, pod, &mut list)
            .is_success()
    );
    list.into_iter().map(|s| s.score).collect()
}

#[test]
fn fewer_intolerable_prefer_no_schedule_taints_score_higher() {
    let prefer =
        |key: &str, value: &str| json!({"key": key, "value": value, "effect": "PreferNoSchedule"});
    let tolerate = |key: &str, value: &str, effect: &str| json!({"key": key, "operator": "Equal", "value": value, "effect": effect});
    let arm = prefer("cpu-type", "arm64");
    let ssd = prefer("disk-type", "ssd");
    // (tolerations, each node's taints, expected), as upstream's
    // TestTaintTolerationScore.
    let cases = [
        (
            json!([tolerate("foo", "bar", "PreferNoSchedule")]),
            vec![
                json!([prefer("foo", "bar")]),
                json!([prefer("foo", "blah")]),
            ],
            vec![100, 0],
        ),
        (
            json!([
                tolerate("cpu-type", "arm64", "PreferNoSchedule"),
                tolerate("disk-type", "ssd", "PreferNoSchedule")
            ]),
            vec![
                json!([]),
                json!([arm.clone()]),
                json!([arm.clone(), ssd.clone()]),
            ],
            vec![100, 100, 100],
        ),
        (
            json!([tolerate("foo", "bar", "PreferNoSchedule")]),
            vec![
                json!([]),
                json!([arm.clone()]),
                json!([arm.clone(), ssd.clone()]),
            ],
            vec![100, 50, 0],
        ),
        (
            json!([
                tolerate("cpu-type", "arm64", "NoSchedule"),
                tolerate("disk-type", "ssd", "NoSchedule")
            ]),
            vec![
                json!([]),
                json!([{"key": "cpu-type", "value": "arm64", "effect": "NoSchedule"}]),
                json!([arm.clone(), ssd]),
            ],
            vec![100, 100, 0],
        ),
        (json!([]), vec![json!([]), json!([arm])], vec![100, 0]),
    ];
    for (tolerations, taints, want) in cases {
        let nodes: Vec<NodeInfo> = taints
            .iter()
            .enumerate()
            .map(|(i, t)| node(&format!("node{i}"), t.clone()))
            .collect();
        assert_eq!(
            scores(&info(tolerations.clone()), &nodes),
            want,
            "{tolerations}"
        );
    }
}

#[test]
fn score_without_pre_score_is_an_error() {
    let result = TaintToleration.score(&CycleState::new(), &info(json!([])), &node("n", json!([])));
    assert_eq!(result.map_err(|s| s.code()), Err(Code::Error));
}

#[test]
fn only_a_node_coming_to_be_tolerated_requeues() {
    let rejected = pod(
        "p",
        json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}]),
    );
    let tolerated = json!([{"key": "foo", "value": "bar", "effect": "NoSchedule"}]);
    let untolerated = json!([{"key": "other", "value": "x", "effect": "NoSchedule"}]);
    // (old taints, new taints, hint), as upstream's Test_isSchedulableAfterNodeChange.
    let cases = [
        (None, untolerated.clone(), QueueingHint::Skip),
        (None, tolerated.clone(), QueueingHint::Queue),
        (
            Some(tolerated.clone()),
            tolerated.clone(),
            QueueingHint::Skip,
        ),
        (Some(untolerated.clone()), tolerated, QueueingHint::Queue),
        (Some(json!([])), untolerated, QueueingHint::Skip),
    ];
    for (old, new, hint) in cases {
        let change = ClusterChange {
            event: ClusterEvent::new(EventResource::Node, ActionType::UPDATE_NODE_TAINT),
            old: old
                .clone()
                .map(|t| Changed::Node(Arc::new(node_object("n", t)))),
            new: Some(Changed::Node(Arc::new(node_object("n", new.clone())))),
        };
        assert_eq!(
            after_node_change(&rejected, &change),
            hint,
            "{old:?} -> {new}"
        );
    }
}

#[test]
fn only_the_pods_own_toleration_change_requeues() {
    let rejected = pod("p", json!([]));
    for (uid, hint) in [("p", QueueingHint::Queue), ("other", QueueingHint::Skip)] {
        let change = ClusterChange {
            event: ClusterEvent::new(
                EventResource::UnscheduledPod,
                ActionType::UPDATE_POD_TOLERATIONS,
            ),
            old: Some(Changed::Pod(Arc::new(pod(uid, json!([]))))),
            new: Some(Changed::Pod(Arc::new(pod(
                uid,
                json!([{"key": "k", "operator": "Exists"}]),
            )))),
        };
        assert_eq!(
            after_pod_toleration_change(&rejected, &change),
            hint,
            "{uid}"
        );
    }
}
