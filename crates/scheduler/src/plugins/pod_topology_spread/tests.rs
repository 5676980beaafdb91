//! Upstream's table cases for PodTopologySpread (`filtering_test.go`,
//! `scoring_test.go`), on nodes and pods built from JSON.

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

fn plugin_with(args: Option<Value>, listers: Listers) -> Arc<dyn Plugin> {
    super::new(args.as_ref(), &Handle::offline(Arc::new(listers))).expect("valid args")
}

fn plugin() -> Arc<dyn Plugin> {
    plugin_with(None, Listers::default())
}

/// PreFilter then Filter on every node: each node's code.
fn filter_all(plugin: &dyn Plugin, pod: &PodInfo, snapshot: &Snapshot) -> Vec<Code> {
    let mut state = CycleState::new();
    let pre = plugin.as_pre_filter().expect("PreFilter");
    let (_, status) = pre.pre_filter(&mut state, pod, snapshot, &Listers::default());
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

#[test]
fn filter_follows_upstream_single_constraint_cases() {
    let zone = |skew| constraint(skew, "zone", "DoNotSchedule", json!({}));
    let host = |skew| constraint(skew, "node", "DoNotSchedule", json!({}));
    let away_from_b_x = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "node", "operator": "NotIn", "values": ["node-b", "node-x"]}]}]
    }}}});
    let cases: Vec<FilterCase> = vec![
        (
            "no existing pods",
            incoming(vec![zone(1)], json!({})),
            vec![0, 0, 0, 0],
            vec![FIT; 4],
        ),
        (
            "zones 3/3: every node fits",
            incoming(vec![zone(1)], json!({})),
            vec![2, 1, 1, 2],
            vec![FIT; 4],
        ),
        (
            "zones 3/1: only zone2 fits",
            incoming(vec![zone(1)], json!({})),
            vec![2, 1, 1, 0],
            vec![SKEWED, SKEWED, FIT, FIT],
        ),
        (
            "no node has the key",
            incoming(
                vec![constraint(1, "rack", "DoNotSchedule", json!({}))],
                json!({}),
            ),
            vec![1, 0, 0, 0],
            vec![NO_KEY; 4],
        ),
        (
            "hosts 2/1/0/3: only node-x fits",
            incoming(vec![host(1)], json!({})),
            vec![2, 1, 0, 3],
            vec![SKEWED, SKEWED, FIT, SKEWED],
        ),
        (
            "hosts 2/1/0/3, maxSkew 2: node-b and node-x fit",
            incoming(vec![host(2)], json!({})),
            vec![2, 1, 0, 3],
            vec![SKEWED, FIT, FIT, SKEWED],
        ),
        (
            "hosts 2/~1~/~0~/3 by node affinity: node-a fits (and the excluded ones, for NodeAffinity to reject)",
            incoming(vec![host(1)], away_from_b_x.clone()),
            vec![2, 1, 0, 3],
            vec![FIT, FIT, FIT, SKEWED],
        ),
        (
            "nodeAffinityPolicy Ignore counts the excluded nodes",
            incoming(
                vec![constraint(
                    1,
                    "node",
                    "DoNotSchedule",
                    json!({"nodeAffinityPolicy": "Ignore"}),
                )],
                away_from_b_x,
            ),
            vec![2, 1, 0, 3],
            vec![SKEWED, SKEWED, FIT, SKEWED],
        ),
        (
            "zones 2/1 with minDomains 3 count the global minimum as 0",
            incoming(
                vec![constraint(
                    2,
                    "zone",
                    "DoNotSchedule",
                    json!({"minDomains": 3}),
                )],
                json!({}),
            ),
            vec![1, 1, 1, 0],
            vec![SKEWED, SKEWED, FIT, FIT],
        ),
        (
            "zones 2/1 with minDomains 2 (met): every node fits maxSkew 2",
            incoming(
                vec![constraint(
                    2,
                    "zone",
                    "DoNotSchedule",
                    json!({"minDomains": 2}),
                )],
                json!({}),
            ),
            vec![1, 1, 1, 0],
            vec![FIT; 4],
        ),
        (
            "two constraints: zone then host",
            incoming(vec![zone(1), host(1)], json!({})),
            vec![1, 0, 2, 1],
            vec![SKEWED, FIT, SKEWED, SKEWED],
        ),
    ];
    let plugin = plugin();
    for (name, pod, counts, want) in cases {
        let snapshot = snapshot(&four_nodes(), &spread(&NODES, &counts));
        assert_eq!(filter_all(plugin.as_ref(), &pod, &snapshot), want, "{name}");
    }
}

#[test]
fn a_node_missing_the_key_is_neither_counted_nor_fit() {
    let mut nodes = four_nodes();
    nodes[1].1 = json!({"zon": "zone1", "node": "node-b"});
    let snapshot = snapshot(&nodes, &spread(&NODES, &[1, 1, 1, 1]));
    let pod = incoming(
        vec![constraint(1, "zone", "DoNotSchedule", json!({}))],
        json!({}),
    );
    assert_eq!(
        filter_all(plugin().as_ref(), &pod, &snapshot),
        vec![FIT, NO_KEY, SKEWED, SKEWED]
    );
}

#[test]
fn node_taints_policy_honor_leaves_out_untolerated_nodes() {
    let mut nodes = four_nodes();
    nodes[2].2 = json!([{"key": "k", "value": "v", "effect": "NoSchedule"}]);
    let snapshot = snapshot(&nodes, &spread(&NODES, &[2, 1, 0, 3]));
    let honor = json!({"nodeTaintsPolicy": "Honor"});
    let pod = incoming(
        vec![constraint(1, "node", "DoNotSchedule", honor)],
        json!({}),
    );
    assert_eq!(
        filter_all(plugin().as_ref(), &pod, &snapshot),
        vec![SKEWED, FIT, FIT, SKEWED]
    );
    let ignore = incoming(
        vec![constraint(1, "node", "DoNotSchedule", json!({}))],
        json!({}),
    );
    assert_eq!(
        filter_all(plugin().as_ref(), &ignore, &snapshot),
        vec![SKEWED, SKEWED, FIT, SKEWED]
    );
}

#[test]
fn match_label_keys_count_only_pods_of_the_same_values_and_namespace() {
    let versioned = |name: &str, version: &str, node: &str| {
        pod(
            name,
            json!({"foo": "", "version": version}),
            node,
            json!({}),
        )
    };
    let mut pods = vec![
        versioned("a1", "v1", "node-a"),
        versioned("a2", "v2", "node-a"),
        versioned("a3", "v2", "node-a"),
        versioned("x1", "v1", "node-x"),
    ];
    let mut elsewhere = (*pods[0].pod).clone();
    elsewhere.metadata.namespace = Some("other".into());
    elsewhere.metadata.uid = Some("o1".into());
    pods.push(Arc::new(PodInfo::new(Arc::new(elsewhere))));
    let snapshot = snapshot(&four_nodes(), &pods);
    let keyed = constraint(
        1,
        "zone",
        "DoNotSchedule",
        json!({"matchLabelKeys": ["version"]}),
    );
    let mut p = (*incoming(vec![keyed], json!({})).pod).clone();
    p.metadata.labels = Some(
        [("foo", ""), ("version", "v1")]
            .map(|(k, v)| (k.into(), v.into()))
            .into(),
    );
    let p = PodInfo::new(Arc::new(p));
    // v1 only: zone1 1, zone2 1 — every node fits; all versions: 3 and 1.
    assert_eq!(filter_all(plugin().as_ref(), &p, &snapshot), vec![FIT; 4]);
    let plain = incoming(
        vec![constraint(1, "zone", "DoNotSchedule", json!({}))],
        json!({}),
    );
    assert_eq!(
        filter_all(plugin().as_ref(), &plain, &snapshot),
        vec![SKEWED, SKEWED, FIT, FIT]
    );
}

#[test]
fn add_and_remove_pod_keep_the_counts_and_critical_paths() {
    let plugin = plugin();
    let snapshot = snapshot(&four_nodes(), &spread(&NODES, &[1, 0, 1, 0]));
    let p = incoming(
        vec![constraint(1, "zone", "DoNotSchedule", json!({}))],
        json!({}),
    );
    let mut state = CycleState::new();
    let pre = plugin.as_pre_filter().expect("PreFilter");
    let (_, status) = pre.pre_filter(&mut state, &p, &snapshot, &Listers::default());
    assert!(status.is_success());
    let filter = plugin.as_filter().expect("Filter");
    let codes = |state: &CycleState| -> Vec<Code> {
        snapshot
            .nodes()
            .iter()
            .map(|n| filter.filter(state, &p, n).code())
            .collect()
    };
    assert_eq!(codes(&state), vec![FIT; 4]);
    let added = pod("n1", json!({"foo": ""}), "node-a", json!({}));
    let node_a = &snapshot.nodes()[0];
    assert!(pre.add_pod(&mut state, &p, &added, node_a).is_success());
    assert_eq!(codes(&state), vec![SKEWED, SKEWED, FIT, FIT]);
    let existing = snapshot.nodes()[2].pods[0].clone();
    let before = state.clone();
    assert!(
        pre.remove_pod(&mut state, &p, &existing, &snapshot.nodes()[2])
            .is_success()
    );
    assert_eq!(codes(&state), vec![SKEWED, SKEWED, FIT, FIT]);
    // zone1 1, zone2 0: zone1 is one over.
    assert!(pre.remove_pod(&mut state, &p, &added, node_a).is_success());
    assert_eq!(codes(&state), vec![SKEWED, SKEWED, FIT, FIT]);
    assert!(
        pre.add_pod(&mut state, &p, &existing, &snapshot.nodes()[3])
            .is_success()
    );
    assert_eq!(codes(&state), vec![FIT; 4]);
    // The clone taken before changes apart from it.
    assert_eq!(codes(&before), vec![SKEWED, SKEWED, FIT, FIT]);
}

/// PreScore, Score and Normalize over `filtered` nodes of `snapshot`.
fn score_all(
    plugin: &dyn Plugin,
    pod: &PodInfo,
    snapshot: &Snapshot,
    filtered: usize,
) -> Option<Vec<i64>> {
    let nodes = &snapshot.nodes()[..filtered];
    let mut state = CycleState::new();
    let pre = plugin.as_pre_score().expect("PreScore");
    let status = pre.pre_score(&mut state, pod, nodes, snapshot, &Listers::default());
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

#[test]
fn score_follows_upstream_cases() {
    let soft = |key: &str| constraint(1, key, "ScheduleAnyway", json!({}));
    let hostname_nodes: Vec<_> = four_nodes()
        .into_iter()
        .map(|(n, mut labels, taints)| {
            labels["kubernetes.io/hostname"] = json!(n);
            (n, labels, taints)
        })
        .collect();
    let cases: Vec<ScoreCase> = vec![
        ("no constraints: skipped", vec![], vec![1, 0, 0, 0], 4, None),
        (
            "no existing pods",
            vec![soft("node")],
            vec![0, 0, 0, 0],
            4,
            Some(vec![100; 4]),
        ),
        (
            "the same number everywhere",
            vec![soft("node")],
            vec![1, 1, 1, 1],
            4,
            Some(vec![100; 4]),
        ),
        (
            "hosts 2/1/0/3",
            vec![soft("node")],
            vec![2, 1, 0, 3],
            4,
            Some(vec![20, 60, 100, 0]),
        ),
        (
            "hosts 2/1/0/3, two candidates",
            vec![soft("node")],
            vec![2, 1, 0, 3],
            2,
            Some(vec![33, 100]),
        ),
        (
            "zones and hostnames, 1/1/0/2",
            vec![soft("zone"), soft("kubernetes.io/hostname")],
            vec![1, 1, 0, 2],
            4,
            Some(vec![66, 66, 100, 50]),
        ),
    ];
    let plugin = plugin();
    for (name, constraints, counts, filtered, want) in cases {
        let snapshot = snapshot(&hostname_nodes, &spread(&NODES, &counts));
        let pod = incoming(constraints, json!({}));
        assert_eq!(
            score_all(plugin.as_ref(), &pod, &snapshot, filtered),
            want,
            "{name}"
        );
    }
}

#[test]
fn score_gives_nodes_missing_a_key_zero() {
    let nodes = [
        ("node-a", json!({"zone": "zone1"}), json!(null)),
        ("node-b", json!({"zone": "zone1"}), json!(null)),
        ("node-x", json!({"rack": "r1"}), json!(null)),
    ];
    let snapshot = snapshot(&nodes, &spread(&NODES, &[1, 0, 1]));
    let pod = incoming(
        vec![constraint(1, "zone", "ScheduleAnyway", json!({}))],
        json!({}),
    );
    assert_eq!(
        score_all(plugin().as_ref(), &pod, &snapshot, 3),
        Some(vec![100, 100, 0])
    );
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
fn system_defaults_spread_what_services_and_controllers_select() {
    let nodes = [
        ("n1", json!({"kubernetes.io/hostname": "n1"}), json!(null)),
        ("n2", json!({"kubernetes.io/hostname": "n2"}), json!(null)),
    ];
    let front = json!({"app": "web", "tier": "front"});
    let pods = vec![
        web_pod("a", "n1", front.clone()),
        web_pod("b", "n1", front.clone()),
        // Selected by the Service but not by the ReplicaSet: not counted.
        web_pod("c", "n2", json!({"app": "web"})),
    ];
    let snapshot = snapshot(&nodes, &pods);
    let plugin = plugin_with(None, web_listers());
    let p = web_pod("p", "", front);
    // n1: 2 × log(4) + (3 - 1) ≈ 4.77 → 5; n2: 2.
    let scores = score_all_with(plugin.as_ref(), &p, &snapshot, &web_listers());
    assert_eq!(scores, Some(vec![40, 100]));
    // The defaults are ScheduleAnyway: nothing to filter.
    let (_, status) = plugin.as_pre_filter().expect("PreFilter").pre_filter(
        &mut CycleState::new(),
        &p,
        &snapshot,
        &Listers::default(),
    );
    assert!(status.is_skip());
    // Nothing selects a pod without labels: no constraints.
    let lone = pod("lone", json!({}), "", json!({}));
    assert_eq!(
        score_all_with(plugin.as_ref(), &lone, &snapshot, &web_listers()),
        None
    );
}

fn score_all_with(
    plugin: &dyn Plugin,
    pod: &PodInfo,
    snapshot: &Snapshot,
    _l: &Listers,
) -> Option<Vec<i64>> {
    score_all(plugin, pod, snapshot, snapshot.len())
}

#[test]
fn list_defaults_are_applied_to_pods_without_constraints() {
    let args = json!({"defaultingType": "List", "defaultConstraints": [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}
    ]});
    let plugin = plugin_with(Some(args), web_listers());
    let front = json!({"app": "web", "tier": "front"});
    let pods = vec![
        web_pod("a", "node-a", front.clone()),
        web_pod("b", "node-b", front.clone()),
    ];
    let snapshot = snapshot(&four_nodes(), &pods);
    let p = web_pod("p", "", front);
    assert_eq!(
        filter_all(plugin.as_ref(), &p, &snapshot),
        vec![SKEWED, SKEWED, FIT, FIT]
    );
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
    let events = plugin.events_to_register().expect("events");
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

/// An upstream hostname score case: its name, the constraints (none:
/// the system defaults), the matching pods on each node, the nodes that
/// passed filtering (the first ones), and their scores.
type HostnameCase = (&'static str, Vec<Value>, Vec<usize>, usize, Vec<i64>);

#[test]
fn score_follows_upstream_hostname_cases() {
    let host = |skew| constraint(skew, LABEL_HOSTNAME, "ScheduleAnyway", json!({}));
    let cases: Vec<HostnameCase> = vec![
        (
            "no existing pods",
            vec![host(1)],
            vec![0, 0, 0, 0],
            2,
            vec![100, 100],
        ),
        (
            "only one candidate",
            vec![host(1)],
            vec![2, 1, 0, 0],
            1,
            vec![100],
        ),
        (
            "the same number everywhere",
            vec![host(1)],
            vec![1, 1, 0, 0],
            2,
            vec![100, 100],
        ),
        (
            "2/1/0/3",
            vec![host(1)],
            vec![2, 1, 0, 3],
            4,
            vec![20, 60, 100, 0],
        ),
        (
            "a null selector counts nothing",
            vec![constraint(
                1,
                LABEL_HOSTNAME,
                "ScheduleAnyway",
                json!({"labelSelector": null}),
            )],
            vec![2, 1, 0, 3],
            4,
            vec![100; 4],
        ),
        (
            "2/1/0/3, maxSkew 2",
            vec![host(2)],
            vec![2, 1, 0, 3],
            4,
            vec![33, 66, 100, 16],
        ),
        (
            "4/3/2/1, maxSkew 3",
            vec![host(3)],
            vec![4, 3, 2, 1],
            4,
            vec![44, 66, 77, 100],
        ),
        (
            "system defaults on nodes without zones, pods selected by a Service",
            vec![],
            vec![4, 3, 2, 1],
            4,
            vec![44, 66, 77, 100],
        ),
        (
            "4/2/1/~3~",
            vec![host(1)],
            vec![4, 2, 1, 3],
            3,
            vec![33, 83, 100],
        ),
    ];
    let listers = || {
        let listers = Listers::default();
        let service: Service = serde_json::from_value(json!({
            "metadata": {"name": "foo", "namespace": "default"},
            "spec": {"selector": {"foo": ""}},
        }))
        .expect("a service");
        listers.services.insert(service);
        listers
    };
    let names = ["node-a", "node-b", "node-x", "node-y"];
    let nodes: Vec<_> = names
        .iter()
        .map(|n| (*n, json!({LABEL_HOSTNAME: n}), json!(null)))
        .collect();
    let plugin = plugin_with(None, listers());
    for (name, constraints, counts, filtered, want) in cases {
        let snapshot = snapshot(&nodes, &spread(&names, &counts));
        let pod = if constraints.is_empty() {
            pod("p", json!({"foo": ""}), "", json!({}))
        } else {
            incoming(constraints, json!({}))
        };
        let got = score_all(plugin.as_ref(), &pod, &snapshot, filtered);
        assert_eq!(got, Some(want), "{name}");
    }
}

#[test]
fn a_candidate_missing_the_hostname_scores_zero() {
    // 4/?2?/1/~3~: node-b lacks the key, node-y did not pass filtering.
    let nodes = [
        ("node-a", json!({LABEL_HOSTNAME: "node-a"}), json!(null)),
        ("node-b", json!({"n": "node-b"}), json!(null)),
        ("node-x", json!({LABEL_HOSTNAME: "node-x"}), json!(null)),
        ("node-y", json!({LABEL_HOSTNAME: "node-y"}), json!(null)),
    ];
    let snapshot = snapshot(&nodes, &spread(&NODES, &[4, 2, 1, 3]));
    let pod = incoming(
        vec![constraint(1, LABEL_HOSTNAME, "ScheduleAnyway", json!({}))],
        json!({}),
    );
    assert_eq!(
        score_all(plugin().as_ref(), &pod, &snapshot, 3),
        Some(vec![16, 0, 100])
    );
}
