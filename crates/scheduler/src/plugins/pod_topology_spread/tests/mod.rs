//! Upstream's table cases for PodTopologySpread (`filtering_test.go`,
//! `scoring_test.go`), on nodes and pods built from JSON.

mod filtering;
mod scoring;

use std::sync::Arc;

use keelson_api::k8s_openapi::api::apps::v1::ReplicaSet;
use keelson_api::k8s_openapi::api::core::v1::{Node, Pod, Service};
use serde_json::{Value, json};

use super::common::LABEL_HOSTNAME;
use crate::framework::events::Changed;
use crate::framework::{
    ActionType, ClusterChange, ClusterEvent, Code, CycleState, EventResource, Handle, Listers,
    NodeInfo, NodeScore, Plugin, PodInfo, QueueingHint, Snapshot,
};

/// A filter case: its name, the incoming pod, the matching pods on each
/// of the four nodes, and each node's code.
type FilterCase = (&'static str, Arc<PodInfo>, Vec<usize>, Vec<Code>);

/// A score case: its name, the constraints, the matching pods on each of
/// the four nodes, how many of them passed filtering, and their scores
/// (`None`: PreScore skips).
type ScoreCase = (
    &'static str,
    Vec<Value>,
    Vec<usize>,
    usize,
    Option<Vec<i64>>,
);

/// A pod `name` with `labels` on `node` ("" for none) and `spec` merged
/// into its spec.
fn pod(name: &str, labels: Value, node: &str, spec: Value) -> Arc<PodInfo> {
    let mut full = json!({"containers": [{"name": "c"}]});
    if !node.is_empty() {
        full["nodeName"] = json!(node);
    }
    if let (Some(full), Some(extra)) = (full.as_object_mut(), spec.as_object()) {
        full.extend(extra.clone());
    }
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "uid": name, "labels": labels},
        "spec": full,
    }))
    .expect("a pod");
    Arc::new(PodInfo::new(Arc::new(pod)))
}

fn node_object(name: &str, labels: &Value, taints: &Value) -> Arc<Node> {
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints},
        }))
        .expect("a node"),
    )
}

/// A snapshot of `nodes` (name, labels, taints) with each of `pods` on the
/// node its spec names.
fn snapshot(nodes: &[(&str, Value, Value)], pods: &[Arc<PodInfo>]) -> Snapshot {
    let infos = nodes
        .iter()
        .map(|(name, labels, taints)| {
            let mut info = NodeInfo::new(node_object(name, labels, taints));
            for p in pods {
                if p.pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name) {
                    info.add_pod(p.clone());
                }
            }
            Arc::new(info)
        })
        .collect();
    Snapshot::new(infos)
}

/// Four nodes in two zones (`zone`) with a `node` label each.
fn four_nodes() -> Vec<(&'static str, Value, Value)> {
    ["node-a", "node-b", "node-x", "node-y"]
        .into_iter()
        .map(|n| {
            let zone = if n < "node-x" { "zone1" } else { "zone2" };
            (n, json!({"zone": zone, "node": n}), json!(null))
        })
        .collect()
}

/// `counts[i]` pods labelled `foo` on the i-th of `nodes`.
fn spread(nodes: &[&str], counts: &[usize]) -> Vec<Arc<PodInfo>> {
    let mut pods = Vec::new();
    for (node, count) in nodes.iter().zip(counts) {
        for i in 0..*count {
            pods.push(pod(
                &format!("p-{node}-{i}"),
                json!({"foo": ""}),
                node,
                json!({}),
            ));
        }
    }
    pods
}

const NODES: [&str; 4] = ["node-a", "node-b", "node-x", "node-y"];

fn constraint(max_skew: i32, key: &str, when: &str, extra: Value) -> Value {
    let mut c = json!({
        "maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when,
        "labelSelector": {"matchExpressions": [{"key": "foo", "operator": "Exists"}]},
    });
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(extra.clone());
    }
    c
}

fn incoming(constraints: Vec<Value>, spec: Value) -> Arc<PodInfo> {
    let mut spec = spec;
    spec["topologySpreadConstraints"] = json!(constraints);
    pod("p", json!({"foo": ""}), "", spec)
}

/// A plugin and the listers it is built with and cycles read.
struct Tested {
    plugin: Arc<dyn Plugin>,
    listers: Arc<Listers>,
}

fn plugin_with(args: Option<Value>, listers: Listers) -> Tested {
    let listers = Arc::new(listers);
    let handle = Handle::offline(listers.clone());
    let plugin = super::new(args.as_ref(), &handle).expect("valid args");
    Tested { plugin, listers }
}

fn plugin() -> Tested {
    plugin_with(None, Listers::default())
}

/// PreFilter then Filter on every node: each node's code.
fn filter_all(tested: &Tested, pod: &PodInfo, snapshot: &Snapshot) -> Vec<Code> {
    let plugin = tested.plugin.as_ref();
    let mut state = CycleState::new();
    let pre = plugin.as_pre_filter().expect("PreFilter");
    let (_, status) = pre.pre_filter(&mut state, pod, snapshot, &tested.listers);
    if status.is_skip() {
        return vec![Code::Success; snapshot.len()];
    }
    assert!(status.is_success(), "{status}");
    let filter = plugin.as_filter().expect("Filter");
    let statuses = snapshot
        .nodes()
        .iter()
        .map(|n| filter.filter(&state, pod, n));
    statuses.map(|s| s.code()).collect()
}

use Code::{Success as FIT, Unschedulable as SKEWED, UnschedulableAndUnresolvable as NO_KEY};

/// PreScore, Score and Normalize over `filtered` nodes of `snapshot`.
fn score_all(
    tested: &Tested,
    pod: &PodInfo,
    snapshot: &Snapshot,
    filtered: usize,
) -> Option<Vec<i64>> {
    let plugin = tested.plugin.as_ref();
    let nodes = &snapshot.nodes()[..filtered];
    let mut state = CycleState::new();
    let pre = plugin.as_pre_score().expect("PreScore");
    let status = pre.pre_score(&mut state, pod, nodes, snapshot, &tested.listers);
    if status.is_skip() {
        return None;
    }
    assert!(status.is_success(), "{status}");
    let score = plugin.as_score().expect("Score");
    let mut scores: Vec<NodeScore> = nodes
        .iter()
        .map(|n| NodeScore {
            name: n.name().to_string(),
            score: score.score(&state, pod, n).expect("a score"),
        })
        .collect();
    assert!(score.normalize(&state, pod, &mut scores).is_success());
    Some(scores.into_iter().map(|s| s.score).collect())
}

fn web_listers() -> Listers {
    let listers = Listers::default();
    let service: Service = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}},
    }))
    .expect("a service");
    listers.services.insert(service);
    let rs: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "web-1", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"tier": "front"}}},
    }))
    .expect("a replica set");
    listers.replica_sets.insert(rs);
    listers
}

fn web_pod(name: &str, node: &str, labels: Value) -> Arc<PodInfo> {
    let mut pod = (*pod(name, labels, node, json!({})).pod).clone();
    pod.metadata.owner_references = Some(vec![
        serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": "web-1", "uid": "rs", "controller": true}))
        .expect("an owner"),
    ]);
    Arc::new(PodInfo::new(Arc::new(pod)))
}

#[test]
fn arguments_are_validated() {
    let handle = Handle::offline(Arc::new(Listers::default()));
    let err = |args: Value| super::new(Some(&args), &handle).err().expect("invalid");
    assert_eq!(
        err(json!({"defaultingType": "Foo"})),
        "PodTopologySpreadArgs.defaultingType: Unsupported value: \"Foo\": supported values: \"System\", \"List\""
    );
    let one = json!([{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]);
    assert_eq!(
        err(json!({"defaultingType": "System", "defaultConstraints": one})),
        "PodTopologySpreadArgs.defaultingType: Invalid value: \"System\": when .defaultConstraints are not empty"
    );
    let bad = json!([{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "Maybe"}]);
    let message = err(json!({"defaultingType": "List", "defaultConstraints": bad}));
    assert!(
        message.contains("PodTopologySpreadArgs.defaultConstraints[0].maxSkew: Invalid value: 0"),
        "{message}"
    );
    assert!(
        message.contains("defaultConstraints[0].whenUnsatisfiable: Unsupported value: \"Maybe\""),
        "{message}"
    );
    assert!(super::new(Some(&json!({"defaultingType": "List"})), &handle).is_ok());
}

#[test]
fn hints_queue_only_changes_that_may_help() {
    let plugin = plugin();
    let events = plugin.plugin.events_to_register().expect("events");
    let pod_hint = events[0].hint.clone().expect("a pod hint");
    let node_hint = events[2].hint.clone().expect("a node hint");
    let target = incoming(
        vec![constraint(1, "zone", "DoNotSchedule", json!({}))],
        json!({}),
    );
    let pod_change = |old: Option<&Arc<PodInfo>>, new: Option<&Arc<PodInfo>>| ClusterChange {
        event: ClusterEvent::new(EventResource::AssignedPod, ActionType::ADD),
        old: old.map(|p| Changed::Pod(p.pod.clone())),
        new: new.map(|p| Changed::Pod(p.pod.clone())),
    };
    let matching = pod("m", json!({"foo": ""}), "node-a", json!({}));
    let other = pod("m", json!({"bar": ""}), "node-a", json!({}));
    let unbound = pod("u", json!({"foo": ""}), "", json!({}));
    let hint = |change: ClusterChange| pod_hint(&target.pod, &change);
    assert_eq!(hint(pod_change(None, Some(&matching))), QueueingHint::Queue);
    assert_eq!(hint(pod_change(None, Some(&other))), QueueingHint::Skip);
    assert_eq!(hint(pod_change(None, Some(&unbound))), QueueingHint::Skip);
    assert_eq!(hint(pod_change(Some(&matching), None)), QueueingHint::Queue);
    assert_eq!(
        hint(pod_change(Some(&matching), Some(&other))),
        QueueingHint::Queue
    );
    assert_eq!(
        hint(pod_change(Some(&other), Some(&other))),
        QueueingHint::Skip
    );

    let node = |labels: Value| Changed::Node(node_object("n", &labels, &json!(null)));
    let node_change = |old: Option<Value>, new: Option<Value>| ClusterChange {
        event: ClusterEvent::new(EventResource::Node, ActionType::ADD),
        old: old.map(node),
        new: new.map(node),
    };
    let hint = |change: ClusterChange| node_hint(&target.pod, &change);
    assert_eq!(
        hint(node_change(None, Some(json!({"zone": "z"})))),
        QueueingHint::Queue
    );
    assert_eq!(
        hint(node_change(None, Some(json!({"rack": "r"})))),
        QueueingHint::Skip
    );
    assert_eq!(
        hint(node_change(
            Some(json!({"zone": "a"})),
            Some(json!({"zone": "b"}))
        )),
        QueueingHint::Queue
    );
    assert_eq!(
        hint(node_change(
            Some(json!({"zone": "a"})),
            Some(json!({"zone": "a", "x": "y"}))
        )),
        QueueingHint::Skip
    );
}
