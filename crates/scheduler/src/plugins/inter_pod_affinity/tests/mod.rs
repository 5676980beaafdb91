//! Upstream's table cases for InterPodAffinity (`filtering_test.go`,
//! `scoring_test.go`), on nodes and pods built from JSON.

mod filtering;
mod scoring;

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use serde_json::{Value, json};

use crate::framework::{
    Code, CycleState, Handle, Listers, NodeInfo, NodeScore, Plugin, PodInfo, Snapshot, Status,
};

use super::filtering::{
    ERR_REASON_AFFINITY_RULES_NOT_MATCH, ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
    ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
};

/// A filter case: its name, the incoming pod, the existing pods and the
/// status of the one node.
type FilterCase = (&'static str, Arc<PodInfo>, Vec<Arc<PodInfo>>, Status);

/// A score case: its name, the incoming pod, the nodes and their labels,
/// the existing pods and the final scores (`None`: PreScore skips).
type ScoreCase = (
    &'static str,
    Arc<PodInfo>,
    Vec<(&'static str, Value)>,
    Vec<Arc<PodInfo>>,
    Option<Vec<i64>>,
);

/// A pod `name` in `namespace` with `labels`, bound to `node` ("" for
/// none), with `affinity`.
fn pod(name: &str, namespace: &str, labels: Value, node: &str, affinity: Value) -> Arc<PodInfo> {
    let mut spec = json!({"containers": [{"name": "c"}], "affinity": affinity});
    if !node.is_empty() {
        spec["nodeName"] = json!(node);
    }
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": namespace, "uid": name, "labels": labels},
        "spec": spec,
    }))
    .expect("a pod");
    Arc::new(PodInfo::new(Arc::new(pod)))
}

fn node(name: &str, labels: Value) -> Arc<Node> {
    Arc::new(
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
            .expect("a node"),
    )
}

/// A snapshot of `nodes` with each of `pods` on the node its spec names.
fn snapshot(nodes: &[(&str, Value)], pods: &[Arc<PodInfo>]) -> Snapshot {
    let infos = nodes
        .iter()
        .map(|(name, labels)| {
            let mut info = NodeInfo::new(node(name, labels.clone()));
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

fn listers(namespaces: &[(&str, Value)]) -> Arc<Listers> {
    let listers = Listers::default();
    for (name, labels) in namespaces {
        let ns: Namespace =
            serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
                .expect("a namespace");
        listers.namespaces.insert(ns);
    }
    Arc::new(listers)
}

fn plugin(args: Option<Value>, listers: &Arc<Listers>) -> Arc<dyn Plugin> {
    super::new(args.as_ref(), &Handle::offline(listers.clone())).expect("valid args")
}

fn term(key: &str, operator: &str, values: &[&str], topology: &str) -> Value {
    json!({"labelSelector": {"matchExpressions": [
        {"key": key, "operator": operator, "values": values}
    ]}, "topologyKey": topology})
}

fn required(kind: &str, terms: Vec<Value>) -> Value {
    json!({kind: {"requiredDuringSchedulingIgnoredDuringExecution": terms}})
}

fn preferred(kind: &str, weight: i32, term: Value) -> Value {
    json!({kind: {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": weight, "podAffinityTerm": term}
    ]}})
}

/// PreFilter then Filter on every node: each node's status (PreFilter's
/// when it rejected, success for every node when it skipped).
fn filter_all(plugin: &dyn Plugin, pod: &PodInfo, snapshot: &Snapshot, l: &Listers) -> Vec<Status> {
    let mut state = CycleState::new();
    let pre = plugin.as_pre_filter().expect("a PreFilter plugin");
    let (_, status) = pre.pre_filter(&mut state, pod, snapshot, l);
    if status.is_skip() {
        return vec![Status::success(); snapshot.len()];
    }
    if !status.is_success() {
        return vec![status; snapshot.len()];
    }
    let filter = plugin.as_filter().expect("a Filter plugin");
    snapshot
        .nodes()
        .iter()
        .map(|n| filter.filter(&state, pod, n))
        .collect()
}

fn ok() -> Status {
    Status::success()
}

fn affinity_failed() -> Status {
    Status::unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH)
}

fn anti_affinity_failed() -> Status {
    Status::unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH)
}

fn existing_failed() -> Status {
    Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH)
}

#[test]
fn arguments_are_validated() {
    let l = listers(&[]);
    let handle = Handle::offline(l);
    let err = super::new(Some(&json!({"hardPodAffinityWeight": 101})), &handle)
        .err()
        .expect("out of range");
    assert_eq!(
        err,
        "InterPodAffinityArgs.hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]"
    );
    assert!(super::new(Some(&json!({"hardPodAffinityWeight": 0})), &handle).is_ok());
}

/// PreScore, Score and Normalize over every node of `snapshot`: the final
/// scores, or `None` when PreScore skipped.
fn score_all(
    plugin: &dyn Plugin,
    pod: &PodInfo,
    snapshot: &Snapshot,
    l: &Listers,
) -> Option<Vec<i64>> {
    let mut state = CycleState::new();
    let pre = plugin.as_pre_score().expect("PreScore");
    let status = pre.pre_score(&mut state, pod, snapshot.nodes(), snapshot, l);
    if status.is_skip() {
        return None;
    }
    assert!(status.is_success(), "{status}");
    let score = plugin.as_score().expect("Score");
    let mut scores: Vec<NodeScore> = snapshot
        .nodes()
        .iter()
        .map(|n| NodeScore {
            name: n.name().to_string(),
            score: score.score(&state, pod, n).expect("a score"),
        })
        .collect();
    assert!(score.normalize(&state, pod, &mut scores).is_success());
    Some(scores.into_iter().map(|s| s.score).collect())
}

#[test]
fn hints_queue_only_changes_that_may_help() {
    use crate::framework::events::Changed;
    use crate::framework::{ActionType, ClusterChange, ClusterEvent, EventResource, QueueingHint};
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    let events = plugin.events_to_register().expect("events");
    let pod_hint = events[0].hint.clone().expect("a pod hint");
    let node_hint = events[1].hint.clone().expect("a node hint");
    let mut affinity = required("podAffinity", vec![term("app", "In", &["db"], "zone")]);
    affinity["podAntiAffinity"] =
        required("podAntiAffinity", vec![term("app", "In", &["web"], "zone")])["podAntiAffinity"]
            .clone();
    let target = pod("p", "default", json!({}), "", affinity);
    let change = |old: Option<Arc<PodInfo>>, new: Option<Arc<PodInfo>>| ClusterChange {
        event: ClusterEvent::new(EventResource::AssignedPod, ActionType::ADD),
        old: old.map(|p| Changed::Pod(p.pod.clone())),
        new: new.map(|p| Changed::Pod(p.pod.clone())),
    };
    let db = pod("d", "default", json!({"app": "db"}), "n1", json!(null));
    let web = pod("w", "default", json!({"app": "web"}), "n1", json!(null));
    let other = pod("o", "default", json!({"app": "other"}), "n1", json!(null));
    let unbound = pod("u", "default", json!({"app": "db"}), "", json!(null));
    assert_eq!(
        pod_hint(&target.pod, &change(None, Some(db.clone()))),
        QueueingHint::Queue
    );
    assert_eq!(
        pod_hint(&target.pod, &change(None, Some(other.clone()))),
        QueueingHint::Skip
    );
    assert_eq!(
        pod_hint(&target.pod, &change(None, Some(unbound))),
        QueueingHint::Skip
    );
    assert_eq!(
        pod_hint(&target.pod, &change(Some(web.clone()), None)),
        QueueingHint::Queue
    );
    assert_eq!(
        pod_hint(&target.pod, &change(Some(db.clone()), None)),
        QueueingHint::Skip
    );
    assert_eq!(
        pod_hint(&target.pod, &change(Some(web), Some(other.clone()))),
        QueueingHint::Queue
    );
    assert_eq!(
        pod_hint(&target.pod, &change(Some(db), Some(other))),
        QueueingHint::Skip
    );

    let node_change = |labels: Value| ClusterChange {
        event: ClusterEvent::new(EventResource::Node, ActionType::ADD),
        old: None,
        new: Some(Changed::Node(node("n", labels))),
    };
    assert_eq!(
        node_hint(&target.pod, &node_change(json!({"zone": "z"}))),
        QueueingHint::Queue
    );
    assert_eq!(
        node_hint(&target.pod, &node_change(json!({"rack": "r"}))),
        QueueingHint::Skip
    );
}
