//! The cycle with small plugins of its own: how many nodes are looked at,
//! the message of a pod that fits nowhere, and scoring.

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Node, Pod};

use super::*;
use crate::framework::runtime::ExtensionPoint;
use crate::framework::{Filter, Plugin, Score};

/// Rejects nodes labelled `full`, unresolvably those labelled `tainted`.
struct Labels;

impl Plugin for Labels {
    fn name(&self) -> &str {
        "Labels"
    }
    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn Score> {
        Some(self)
    }
}

impl Filter for Labels {
    fn filter(&self, _: &CycleState, _: &PodInfo, node: &NodeInfo) -> Status {
        if node.labels().contains_key("full") {
            return Status::new(Code::Unschedulable, ["Insufficient cpu"]);
        }
        if node.labels().contains_key("tainted") {
            return Status::unresolvable(
                "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
            );
        }
        Status::success()
    }
}

impl Score for Labels {
    /// The `score` label's value.
    fn score(&self, _: &CycleState, _: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        Ok(node
            .labels()
            .get("score")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }
}

fn node(name: &str, labels: serde_json::Value) -> Arc<NodeInfo> {
    let node: Node =
        serde_json::from_value(serde_json::json!({"metadata": {"name": name, "labels": labels}}))
            .expect("a node");
    Arc::new(NodeInfo::new(Arc::new(node)))
}

fn pod() -> PodInfo {
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "u"}, "spec": {"containers": []},
    }))
    .expect("a pod");
    PodInfo::new(Arc::new(pod))
}

fn framework() -> Framework {
    let mut framework = Framework::new("default-scheduler", Arc::default());
    framework
        .enrol(ExtensionPoint::Filter, Arc::new(Labels), 1)
        .expect("a filter");
    framework
        .enrol(ExtensionPoint::Score, Arc::new(Labels), 1)
        .expect("a score");
    framework
}

fn run(nodes: Vec<Arc<NodeInfo>>) -> Result<ScheduleResult, ScheduleError> {
    let framework = framework();
    let snapshot = Snapshot::new(nodes);
    let listers = Listers::default();
    let cycle = Cycle {
        framework: &framework,
        snapshot: &snapshot,
        listers: &listers,
        percentage: None,
    };
    cycle.schedule(&mut CycleState::new(), &pod(), &mut Rotation::default())
}

#[test]
fn the_adaptive_percentage_looks_at_fewer_nodes_in_larger_clusters() {
    let cases = [
        (10, 10),
        (100, 100),
        (1000, 420),
        (5000, 500),
        (20000, 1000),
        (2000, 680),
    ];
    for (all, expected) in cases {
        assert_eq!(feasible_nodes_to_find(None, all), expected, "{all} nodes");
    }
    assert_eq!(feasible_nodes_to_find(Some(100), 5000), 5000);
    assert_eq!(feasible_nodes_to_find(Some(1), 5000), 100);
}

#[test]
fn a_pod_that_fits_nowhere_is_told_why_per_node_in_upstreams_words() {
    let nodes = vec![
        node("a", serde_json::json!({"full": ""})),
        node("b", serde_json::json!({"tainted": ""})),
        node("c", serde_json::json!({"tainted": ""})),
    ];
    let Err(ScheduleError::Fit(error)) = run(nodes) else {
        panic!("no node fits");
    };
    assert_eq!(
        error.message(),
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }."
    );
    assert_eq!(
        error.diagnosis.unschedulable_plugins,
        BTreeSet::from(["Labels".to_string()])
    );
    let mut with_preemption = error.clone();
    with_preemption.diagnosis.post_filter_msg =
        "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.".to_string();
    assert!(with_preemption.message().ends_with("{node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."));
}

#[test]
fn the_highest_score_wins_and_an_empty_cluster_has_no_nodes() {
    let nodes = vec![
        node("a", serde_json::json!({"score": "10"})),
        node("b", serde_json::json!({"score": "90"})),
        node("c", serde_json::json!({"full": "", "score": "100"})),
    ];
    let result = run(nodes).expect("a node fits");
    assert_eq!(result.node, "b");
    assert_eq!((result.evaluated, result.feasible), (3, 2));
    assert!(matches!(run(Vec::new()), Err(ScheduleError::NoNodes)));
}

#[test]
fn ties_are_broken_across_every_tied_node() {
    let framework = framework();
    let nodes: Vec<_> = (0..4)
        .map(|i| node(&format!("n{i}"), serde_json::json!({})))
        .collect();
    let snapshot = Snapshot::new(nodes);
    let listers = Listers::default();
    let cycle = Cycle {
        framework: &framework,
        snapshot: &snapshot,
        listers: &listers,
        percentage: None,
    };
    let mut rotation = Rotation::default();
    let mut chosen = BTreeSet::new();
    for _ in 0..64 {
        let result = cycle
            .schedule(&mut CycleState::new(), &pod(), &mut rotation)
            .expect("fits");
        chosen.insert(result.node);
    }
    assert_eq!(chosen.len(), 4, "{chosen:?}");
}

#[test]
fn a_pod_with_malformed_affinity_is_unschedulable_with_the_reason() {
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "u"},
        "spec": {"containers": [], "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "Near"}]}, "topologyKey": "zone"}
        ]}}},
    }))
    .expect("a pod");
    let framework = framework();
    let snapshot = Snapshot::new(vec![node("a", serde_json::json!({}))]);
    let listers = Listers::default();
    let cycle = Cycle {
        framework: &framework,
        snapshot: &snapshot,
        listers: &listers,
        percentage: None,
    };
    let info = PodInfo::new(Arc::new(pod));
    let Err(ScheduleError::Fit(error)) =
        cycle.schedule(&mut CycleState::new(), &info, &mut Rotation::default())
    else {
        panic!("unschedulable");
    };
    assert!(
        error
            .message()
            .starts_with("0/1 nodes are available: invalid pod affinity:"),
        "{}",
        error.message()
    );
}

/// Narrows every cycle to the node named `a`.
struct Pins;

impl Plugin for Pins {
    fn name(&self) -> &str {
        "Pins"
    }
    fn as_pre_filter(&self) -> Option<&dyn crate::framework::PreFilter> {
        Some(self)
    }
}

impl crate::framework::PreFilter for Pins {
    fn pre_filter(
        &self,
        _: &mut CycleState,
        _: &PodInfo,
        _: &Snapshot,
        _: &Listers,
    ) -> (Option<crate::framework::PreFilterResult>, Status) {
        (
            Some(crate::framework::PreFilterResult::only(["a".to_string()])),
            Status::success(),
        )
    }
}

#[test]
fn nodes_a_pre_filter_left_out_are_counted_under_the_plugin_that_narrowed() {
    let mut framework = framework();
    framework
        .enrol(ExtensionPoint::PreFilter, Arc::new(Pins), 1)
        .expect("a pre-filter");
    let nodes = vec![
        node("a", serde_json::json!({"full": ""})),
        node("b", serde_json::json!({})),
        node("c", serde_json::json!({})),
    ];
    let snapshot = Snapshot::new(nodes);
    let listers = Listers::default();
    let cycle = Cycle {
        framework: &framework,
        snapshot: &snapshot,
        listers: &listers,
        percentage: None,
    };
    let Err(ScheduleError::Fit(error)) =
        cycle.schedule(&mut CycleState::new(), &pod(), &mut Rotation::default())
    else {
        panic!("no node fits");
    };
    assert_eq!(
        error.message(),
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [Pins]."
    );
}
