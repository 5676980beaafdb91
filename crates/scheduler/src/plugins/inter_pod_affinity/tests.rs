//! Upstream's table cases for InterPodAffinity (`filtering_test.go`,
//! `scoring_test.go`), on nodes and pods built from JSON.

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
fn filter_follows_upstream_single_node_cases() {
    let region = json!({"region": "r1", "zone": "z11", "kubernetes.io/hostname": "n1"});
    let s1 = json!({"service": "securityscan"});
    let affinity_in = required(
        "podAffinity",
        vec![term("service", "In", &["securityscan", "value2"], "region")],
    );
    let anti_in = |values: &[&str]| {
        required(
            "podAntiAffinity",
            vec![term("service", "In", values, "zone")],
        )
    };
    let both = |anti: &[&str]| {
        let mut a = affinity_in.clone();
        a["podAntiAffinity"] = anti_in(anti)["podAntiAffinity"].clone();
        a
    };
    let cases: Vec<FilterCase> = vec![
        (
            "no affinity onto an empty node",
            pod("p", "default", json!({}), "", json!(null)),
            vec![],
            ok(),
        ),
        (
            "affinity In matching the existing pod",
            pod("p", "default", s1.clone(), "", affinity_in.clone()),
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            ok(),
        ),
        (
            "affinity NotIn satisfied by the existing pod",
            pod(
                "p",
                "default",
                json!({}),
                "",
                required(
                    "podAffinity",
                    vec![term(
                        "service",
                        "NotIn",
                        &["securityscan3", "value3"],
                        "region",
                    )],
                ),
            ),
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            ok(),
        ),
        (
            "affinity not met across namespaces",
            pod("p", "default", json!({}), "", affinity_in.clone()),
            vec![pod("e", "other", s1.clone(), "n1", json!(null))],
            affinity_failed(),
        ),
        (
            "affinity not met by an unmatching existing pod",
            pod(
                "p",
                "default",
                json!({}),
                "",
                required(
                    "podAffinity",
                    vec![term("service", "In", &["antivirusscan"], "region")],
                ),
            ),
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            affinity_failed(),
        ),
        (
            "affinity met but anti-affinity refuses the existing pod",
            pod("p", "default", json!({}), "", both(&["securityscan"])),
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            anti_affinity_failed(),
        ),
        (
            "affinity and anti-affinity both met",
            pod("p", "default", json!({}), "", both(&["antivirusscan"])),
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            ok(),
        ),
        (
            "the existing pod's anti-affinity refuses the pod",
            pod("p", "default", s1.clone(), "", json!(null)),
            vec![pod(
                "e",
                "default",
                json!({}),
                "n1",
                anti_in(&["securityscan"]),
            )],
            existing_failed(),
        ),
        (
            "the existing pod's anti-affinity selects others",
            pod("p", "default", s1.clone(), "", json!(null)),
            vec![pod(
                "e",
                "default",
                json!({}),
                "n1",
                anti_in(&["antivirusscan"]),
            )],
            ok(),
        ),
        (
            "affinity to itself with no pod matching anywhere",
            pod("p", "default", s1.clone(), "", affinity_in.clone()),
            vec![],
            ok(),
        ),
        (
            "affinity to itself, but the node lacks the topology key",
            pod(
                "p",
                "default",
                s1.clone(),
                "",
                required(
                    "podAffinity",
                    vec![term("service", "In", &["securityscan"], "rack")],
                ),
            ),
            vec![],
            affinity_failed(),
        ),
        (
            "affinity to other labels with no pod matching anywhere",
            pod("p", "default", json!({}), "", affinity_in.clone()),
            vec![],
            affinity_failed(),
        ),
    ];
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    for (name, incoming, existing, want) in cases {
        let snapshot = snapshot(&[("n1", region.clone())], &existing);
        let got = filter_all(plugin.as_ref(), &incoming, &snapshot, &l);
        assert_eq!(got, vec![want], "{name}");
    }
}

#[test]
fn filter_spreads_anti_affinity_over_zones_and_affinity_over_regions() {
    let nodes = [
        ("n1", json!({"region": "r1", "zone": "z1"})),
        ("n2", json!({"region": "r1", "zone": "z2"})),
        ("n3", json!({"region": "r2", "zone": "z3"})),
        ("n4", json!({})),
    ];
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    let app = json!({"app": "web"});
    let existing = vec![pod("e", "default", app.clone(), "n1", json!(null))];
    let snapshot = snapshot(&nodes, &existing);

    let anti = pod(
        "p",
        "default",
        json!({}),
        "",
        required("podAntiAffinity", vec![term("app", "In", &["web"], "zone")]),
    );
    let got = filter_all(plugin.as_ref(), &anti, &snapshot, &l);
    assert_eq!(got, vec![anti_affinity_failed(), ok(), ok(), ok()]);

    let affinity = pod(
        "p",
        "default",
        json!({}),
        "",
        required("podAffinity", vec![term("app", "In", &["web"], "region")]),
    );
    let got = filter_all(plugin.as_ref(), &affinity, &snapshot, &l);
    assert_eq!(got, vec![ok(), ok(), affinity_failed(), affinity_failed()]);

    let refusing = vec![pod(
        "e",
        "default",
        json!({}),
        "n2",
        required(
            "podAntiAffinity",
            vec![term("app", "In", &["web"], "region")],
        ),
    )];
    let snapshot = super::tests::snapshot(&nodes, &refusing);
    let incoming = pod("p", "default", app, "", json!(null));
    let got = filter_all(plugin.as_ref(), &incoming, &snapshot, &l);
    assert_eq!(got, vec![existing_failed(), existing_failed(), ok(), ok()]);
}

#[test]
fn namespace_selectors_match_namespaces_by_their_labels() {
    let l = listers(&[
        ("team-a", json!({"team": "a"})),
        ("team-b", json!({"team": "b"})),
    ]);
    let plugin = plugin(None, &l);
    let nodes = [("n1", json!({"zone": "z1"})), ("n2", json!({"zone": "z2"}))];
    let existing = vec![
        pod("a", "team-a", json!({"app": "db"}), "n1", json!(null)),
        pod("b", "team-b", json!({"app": "db"}), "n2", json!(null)),
    ];
    let snapshot = snapshot(&nodes, &existing);
    let with_selector = |selector: Value| {
        let mut t = term("app", "In", &["db"], "zone");
        t["namespaceSelector"] = selector;
        pod(
            "p",
            "default",
            json!({}),
            "",
            required("podAffinity", vec![t]),
        )
    };
    let team_a = with_selector(json!({"matchLabels": {"team": "a"}}));
    assert_eq!(
        filter_all(plugin.as_ref(), &team_a, &snapshot, &l),
        vec![ok(), affinity_failed()]
    );
    let every = with_selector(json!({}));
    assert_eq!(
        filter_all(plugin.as_ref(), &every, &snapshot, &l),
        vec![ok(), ok()]
    );

    // An existing pod's anti-affinity selecting namespaces by label
    // refuses a pod of a namespace so labelled.
    let mut t = term("app", "In", &["web"], "zone");
    t["namespaceSelector"] = json!({"matchLabels": {"team": "a"}});
    let refusing = vec![pod(
        "r",
        "default",
        json!({}),
        "n1",
        required("podAntiAffinity", vec![t]),
    )];
    let snapshot = super::tests::snapshot(&nodes, &refusing);
    let in_a = pod("p", "team-a", json!({"app": "web"}), "", json!(null));
    let in_b = pod("p", "team-b", json!({"app": "web"}), "", json!(null));
    assert_eq!(
        filter_all(plugin.as_ref(), &in_a, &snapshot, &l),
        vec![existing_failed(), ok()]
    );
    assert_eq!(
        filter_all(plugin.as_ref(), &in_b, &snapshot, &l),
        vec![ok(), ok()]
    );
}

#[test]
fn add_and_remove_pod_keep_the_counts() {
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    let nodes = [("n1", json!({"zone": "z1"})), ("n2", json!({"zone": "z1"}))];
    let snapshot = snapshot(&nodes, &[]);
    let incoming = pod(
        "p",
        "default",
        json!({"app": "web"}),
        "",
        required("podAntiAffinity", vec![term("app", "In", &["web"], "zone")]),
    );
    let mut state = CycleState::new();
    let pre = plugin.as_pre_filter().expect("PreFilter");
    let (_, status) = pre.pre_filter(&mut state, &incoming, &snapshot, &l);
    assert!(status.is_success(), "{status}");
    let filter = plugin.as_filter().expect("Filter");
    let n2 = &snapshot.nodes()[1];
    assert_eq!(filter.filter(&state, &incoming, n2), ok());

    // A nominated pod on n1 of the same app shares the zone with n2.
    let nominated = pod("q", "default", json!({"app": "web"}), "n1", json!(null));
    let n1 = &snapshot.nodes()[0];
    assert!(
        pre.add_pod(&mut state, &incoming, &nominated, n1)
            .is_success()
    );
    assert_eq!(filter.filter(&state, &incoming, n2), anti_affinity_failed());
    assert!(
        pre.remove_pod(&mut state, &incoming, &nominated, n1)
            .is_success()
    );
    assert_eq!(filter.filter(&state, &incoming, n2), ok());

    // A pod whose anti-affinity refuses the incoming pod, added and removed.
    let refusing = pod(
        "r",
        "default",
        json!({}),
        "n1",
        required("podAntiAffinity", vec![term("app", "In", &["web"], "zone")]),
    );
    assert!(
        pre.add_pod(&mut state, &incoming, &refusing, n1)
            .is_success()
    );
    assert_eq!(filter.filter(&state, &incoming, n2), existing_failed());
    assert!(
        pre.remove_pod(&mut state, &incoming, &refusing, n1)
            .is_success()
    );
    assert_eq!(filter.filter(&state, &incoming, n2), ok());
}

#[test]
fn a_pod_without_terms_facing_none_skips_and_a_malformed_one_is_rejected() {
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    let snapshot = snapshot(&[("n1", json!({}))], &[]);
    let pre = plugin.as_pre_filter().expect("PreFilter");
    let plain = pod("p", "default", json!({}), "", json!(null));
    let (_, status) = pre.pre_filter(&mut CycleState::new(), &plain, &snapshot, &l);
    assert!(status.is_skip());

    let bad = pod(
        "p",
        "default",
        json!({}),
        "",
        required("podAffinity", vec![term("app", "Near", &["x"], "zone")]),
    );
    let (_, status) = pre.pre_filter(&mut CycleState::new(), &bad, &snapshot, &l);
    assert_eq!(status.code(), Code::UnschedulableAndUnresolvable);
    assert!(status.message().starts_with("parsing pod: "), "{status}");
    let score = plugin.as_pre_score().expect("PreScore");
    let status = score.pre_score(
        &mut CycleState::new(),
        &bad,
        snapshot.nodes(),
        &snapshot,
        &l,
    );
    assert_eq!(status.code(), Code::Error);
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
fn score_follows_upstream_preferred_cases() {
    let l = listers(&[]);
    let plugin = plugin(None, &l);
    let s1 = json!({"security": "S1"});
    let s2 = json!({"security": "S2"});
    let stay_with_s1 = preferred("podAffinity", 5, term("security", "In", &["S1"], "region"));
    let away_from_s1 = preferred("podAntiAffinity", 5, term("security", "In", &["S1"], "az"));
    let cases: Vec<ScoreCase> = vec![
        (
            "no affinity anywhere: skipped",
            pod("p", "default", s1.clone(), "", json!(null)),
            vec![
                ("n1", json!({"region": "China"})),
                ("n2", json!({"region": "India"})),
            ],
            vec![pod("e", "default", s1.clone(), "n1", json!(null))],
            None,
        ),
        (
            "the region of a matching pod scores highest",
            pod("p", "default", json!({}), "", stay_with_s1.clone()),
            vec![
                ("n1", json!({"region": "China"})),
                ("n2", json!({"region": "India"})),
                ("n3", json!({"az": "az1"})),
            ],
            vec![
                pod("a", "default", s1.clone(), "n1", json!(null)),
                pod("b", "default", s2.clone(), "n2", json!(null)),
                pod("c", "default", json!({}), "n3", json!(null)),
            ],
            Some(vec![100, 0, 0]),
        ),
        (
            "every node of that region scores the same",
            pod("p", "default", json!({}), "", stay_with_s1.clone()),
            vec![
                ("n1", json!({"region": "China"})),
                ("n2", json!({"region": "China"})),
                ("n3", json!({"region": "India"})),
            ],
            vec![pod("a", "default", s1.clone(), "n1", json!(null))],
            Some(vec![100, 100, 0]),
        ),
        (
            "anti-affinity: the zone of a matching pod scores lowest",
            pod("p", "default", json!({}), "", away_from_s1.clone()),
            vec![
                ("n1", json!({"az": "az1"})),
                ("n2", json!({"region": "China"})),
            ],
            vec![
                pod("a", "default", s1.clone(), "n1", json!(null)),
                pod("b", "default", s2.clone(), "n2", json!(null)),
            ],
            Some(vec![0, 100]),
        ),
        (
            "an existing pod's preferred anti-affinity weighs against its zone",
            pod("p", "default", s1.clone(), "", json!(null)),
            vec![
                ("n1", json!({"az": "az1"})),
                ("n2", json!({"az": "az2"})),
                ("n3", json!({"az": "az3"})),
            ],
            vec![
                pod("a", "default", json!({}), "n1", away_from_s1.clone()),
                pod(
                    "b",
                    "default",
                    json!({}),
                    "n2",
                    preferred("podAntiAffinity", 2, term("security", "In", &["S1"], "az")),
                ),
            ],
            Some(vec![0, 60, 100]),
        ),
    ];
    for (name, incoming, nodes, existing, want) in cases {
        let snapshot = snapshot(&nodes, &existing);
        assert_eq!(
            score_all(plugin.as_ref(), &incoming, &snapshot, &l),
            want,
            "{name}"
        );
    }
}

#[test]
fn existing_pods_required_affinity_scores_by_the_hard_weight() {
    let l = listers(&[]);
    let nodes = [
        ("n1", json!({"region": "China"})),
        ("n2", json!({"region": "India"})),
        ("n3", json!({"az": "az1"})),
    ];
    let hard = required(
        "podAffinity",
        vec![term("security", "In", &["S1"], "region")],
    );
    let existing = vec![
        pod("a", "default", json!({}), "n1", hard.clone()),
        pod("b", "default", json!({}), "n2", hard),
    ];
    let snapshot = snapshot(&nodes, &existing);
    let incoming = pod("p", "default", json!({"security": "S1"}), "", json!(null));
    let weighted = plugin(None, &l);
    assert_eq!(
        score_all(weighted.as_ref(), &incoming, &snapshot, &l),
        Some(vec![100, 100, 0])
    );
    let unweighted = plugin(Some(json!({"hardPodAffinityWeight": 0})), &l);
    assert_eq!(
        score_all(unweighted.as_ref(), &incoming, &snapshot, &l),
        None
    );
}

#[test]
fn existing_pods_preferred_terms_can_be_ignored() {
    let l = listers(&[]);
    let nodes = [("n1", json!({"zone": "z1"})), ("n2", json!({"zone": "z2"}))];
    let soft = preferred("podAffinity", 10, term("app", "In", &["web"], "zone"));
    let existing = vec![pod("a", "default", json!({}), "n2", soft)];
    let snapshot = snapshot(&nodes, &existing);
    let incoming = pod("p", "default", json!({"app": "web"}), "", json!(null));
    let counted = plugin(None, &l);
    assert_eq!(
        score_all(counted.as_ref(), &incoming, &snapshot, &l),
        Some(vec![0, 100])
    );
    let ignoring = plugin(
        Some(json!({"ignorePreferredTermsOfExistingPods": true})),
        &l,
    );
    assert_eq!(score_all(ignoring.as_ref(), &incoming, &snapshot, &l), None);
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

#[test]
fn the_region_with_more_matching_pods_scores_higher_for_all_its_nodes() {
    let l = listers(&[]);
    let china = json!({"region": "China"});
    let india = json!({"region": "India"});
    let nodes = [
        ("n1", china.clone()),
        ("n2", india.clone()),
        ("n3", china.clone()),
        ("n4", china),
        ("n5", india),
    ];
    let s2 = json!({"security": "S2"});
    let on = |name: &str, node: &str| pod(name, "default", s2.clone(), node, json!(null));
    let existing = vec![
        on("a", "n1"),
        on("b", "n1"),
        on("c", "n2"),
        on("d", "n3"),
        on("e", "n4"),
        on("f", "n5"),
    ];
    let snapshot = snapshot(&nodes, &existing);
    let stay_with_s2 = preferred("podAffinity", 5, term("security", "In", &["S2"], "region"));
    let incoming = pod("p", "default", json!({}), "", stay_with_s2);
    assert_eq!(
        score_all(plugin(None, &l).as_ref(), &incoming, &snapshot, &l),
        Some(vec![100, 0, 100, 100, 0])
    );
}

#[test]
fn existing_pods_namespace_selectors_score_the_incoming_pods_namespace() {
    let l = listers(&[("subteam1.team1", json!({"team": "team1"}))]);
    let nodes = [
        ("n1", json!({"region": "China"})),
        ("n2", json!({"region": "India"})),
        ("n3", json!({"az": "az1"})),
    ];
    let mut selecting = term("security", "In", &["S1"], "region");
    selecting["namespaceSelector"] = json!({"matchLabels": {"team": "team1"}});
    let stay_with_s2 = preferred("podAffinity", 5, term("security", "In", &["S2"], "region"));
    let s1 = json!({"security": "S1"});
    let s2 = json!({"security": "S2"});
    let incoming = pod("p", "subteam1.team1", s1.clone(), "", json!(null));
    let plugin = plugin(None, &l);

    let existing = vec![
        pod(
            "a",
            "default",
            s1.clone(),
            "n1",
            preferred("podAffinity", 5, selecting.clone()),
        ),
        pod("b", "default", s2.clone(), "n2", stay_with_s2.clone()),
    ];
    let snapshot = snapshot(&nodes, &existing);
    assert_eq!(
        score_all(plugin.as_ref(), &incoming, &snapshot, &l),
        Some(vec![100, 0, 0])
    );

    let existing = vec![
        pod(
            "a",
            "default",
            s1,
            "n1",
            preferred("podAntiAffinity", 5, selecting),
        ),
        pod("b", "default", s2, "n2", stay_with_s2),
    ];
    let snapshot = super::tests::snapshot(&nodes, &existing);
    assert_eq!(
        score_all(plugin.as_ref(), &incoming, &snapshot, &l),
        Some(vec![0, 100, 100])
    );
}

#[test]
fn affinity_to_itself_needs_the_matching_pods_domain_once_one_exists() {
    let l = listers(&[]);
    let nodes = [
        ("n1", json!({"region": "r1"})),
        ("n2", json!({"region": "r2"})),
    ];
    let web = json!({"app": "web"});
    let existing = vec![pod("e", "default", web.clone(), "n1", json!(null))];
    let snapshot = snapshot(&nodes, &existing);
    let affinity = required("podAffinity", vec![term("app", "In", &["web"], "region")]);
    let incoming = pod("p", "default", web, "", affinity);
    assert_eq!(
        filter_all(plugin(None, &l).as_ref(), &incoming, &snapshot, &l),
        vec![ok(), affinity_failed()]
    );
}
