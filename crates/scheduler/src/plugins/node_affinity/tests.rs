//! Upstream's NodeAffinity cases: PreFilter narrowing and Filter verdicts
//! for selectors and terms, scores after normalizing, the node-change
//! hint, and the checking of `addedAffinity`.

use keelson_api::k8s_openapi::api::core::v1::Node;
use serde_json::{Value, json};

use super::*;
use crate::framework::ClusterEvent;
use crate::framework::events::Changed;

fn plugin(args: Option<Value>) -> Arc<dyn Plugin> {
    let handle = Handle::offline(Default::default());
    new(args.as_ref(), &handle).expect("valid arguments")
}

fn pod(spec: Value) -> PodInfo {
    let mut spec = spec;
    spec["containers"] = json!([{"name": "c"}]);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "p", "namespace": "default", "uid": "p"}, "spec": spec,
    }))
    .expect("a pod");
    PodInfo::new(Arc::new(pod))
}

fn node_object(name: &str, labels: Value) -> Node {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}})).expect("a node")
}

fn node(name: &str, labels: Value) -> NodeInfo {
    NodeInfo::new(Arc::new(node_object(name, labels)))
}

fn expr(key: &str, operator: &str, values: &[&str]) -> Value {
    json!({"key": key, "operator": operator, "values": values})
}

fn exists(key: &str) -> Value {
    json!({"key": key, "operator": "Exists"})
}

fn name_in(names: &[&str]) -> Value {
    expr("metadata.name", "In", names)
}

/// A pod spec whose required node affinity has `terms`.
fn required(terms: Value) -> Value {
    json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": terms,
    }}}})
}

/// PreFilter (when asked) then Filter, as upstream's TestNodeAffinity runs them.
fn run(
    plugin: &dyn Plugin,
    pod: &PodInfo,
    node: &NodeInfo,
    pre_filter: bool,
) -> (Option<PreFilterResult>, Status, Status) {
    let mut state = CycleState::new();
    let (result, pre_status) = if pre_filter {
        let pre = plugin.as_pre_filter().expect("a PreFilter plugin");
        pre.pre_filter(&mut state, pod, &Snapshot::default(), &Listers::default())
    } else {
        (None, Status::success())
    };
    let filter = plugin.as_filter().expect("a Filter plugin");
    (result, pre_status, filter.filter(&state, pod, node))
}

struct Case {
    name: &'static str,
    pod: Value,
    node: (&'static str, Value),
    args: Option<Value>,
    pre_filter: Code,
    narrowed_to: Option<&'static [&'static str]>,
    filter: Option<&'static str>,
}

fn case(name: &'static str, pod: Value, labels: Value) -> Case {
    Case {
        name,
        pod,
        node: ("", labels),
        args: None,
        pre_filter: Code::Success,
        narrowed_to: None,
        filter: None,
    }
}

impl Case {
    fn rejected(mut self, reason: &'static str) -> Case {
        self.filter = Some(reason);
        self
    }
    fn on(mut self, name: &'static str) -> Case {
        self.node.0 = name;
        self
    }
    fn narrowed(mut self, names: &'static [&'static str]) -> Case {
        self.narrowed_to = Some(names);
        self
    }
    fn pre(mut self, code: Code) -> Case {
        self.pre_filter = code;
        self
    }
    fn args(mut self, args: Value) -> Case {
        self.args = Some(args);
        self
    }
}

fn added_required(terms: Value) -> Value {
    json!({"addedAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}})
}

fn filter_cases() -> Vec<Case> {
    let foo_bar = json!({"foo": "bar"});
    let selector = json!({"nodeSelector": {"foo": "bar"}});
    let gpu = json!({"GPU": "NVIDIA-GRID-K1"});
    vec![
        case("missing labels", selector.clone(), json!({})).rejected(ERR_REASON_POD),
        case("same labels", selector.clone(), foo_bar.clone()),
        case("node labels are superset", selector, json!({"foo": "bar", "baz": "blah"})),
        case("node labels are subset", json!({"nodeSelector": {"foo": "bar", "baz": "blah"}}), foo_bar.clone())
            .rejected(ERR_REASON_POD),
        case("In matches", required(json!([{"matchExpressions": [expr("foo", "In", &["bar", "value2"])]}])), foo_bar.clone()),
        case("Gt matches", required(json!([{"matchExpressions": [expr("kernel-version", "Gt", &["0204"])]}])), json!({"kernel-version": "0206"})),
        case("NotIn matches", required(json!([{"matchExpressions": [expr("mem-type", "NotIn", &["DDR", "DDR2"])]}])), json!({"mem-type": "DDR3"})),
        case("Exists matches", required(json!([{"matchExpressions": [exists("GPU")]}])), gpu.clone()),
        case("In does not match", required(json!([{"matchExpressions": [expr("foo", "In", &["value1", "value2"])]}])), foo_bar.clone())
            .rejected(ERR_REASON_POD),
        case("an empty term matches nothing", required(json!([{"matchExpressions": []}])), foo_bar.clone())
            .rejected(ERR_REASON_POD),
        case("no affinity", json!({}), foo_bar.clone()).pre(Code::Skip),
        case("affinity without required terms", json!({"affinity": {"nodeAffinity": {}}}), foo_bar.clone()).pre(Code::Skip),
        case("expressions ANDed match", required(json!([{"matchExpressions": [exists("GPU"), expr("GPU", "NotIn", &["AMD", "INTER"])]}])), gpu.clone()),
        case("expressions ANDed do not match", required(json!([{"matchExpressions": [exists("GPU"), expr("GPU", "In", &["AMD", "INTER"])]}])), gpu)
            .rejected(ERR_REASON_POD),
        case("terms ORed", required(json!([{"matchExpressions": [expr("foo", "In", &["bar", "value2"])]}, {"matchExpressions": [expr("diffkey", "In", &["wrong", "value2"])]}])), foo_bar.clone()),
        case("selector and affinity both satisfied", json!({"nodeSelector": {"foo": "bar"}, "affinity": required(json!([{"matchExpressions": [exists("foo")]}]))["affinity"]}), foo_bar.clone()),
        case("affinity satisfied but not the selector", json!({"nodeSelector": {"foo": "bar"}, "affinity": required(json!([{"matchExpressions": [exists("foo")]}]))["affinity"]}), json!({"foo": "barrrrrr"}))
            .rejected(ERR_REASON_POD),
        case("matchFields In matches", required(json!([{"matchFields": [name_in(&["node1"])]}])), json!({}))
            .on("node1").narrowed(&["node1"]),
        case("matchFields In does not match", required(json!([{"matchFields": [name_in(&["node1"])]}])), json!({}))
            .on("node2").narrowed(&["node1"]).rejected(ERR_REASON_POD),
        case("two terms: fields do not match, expressions do", required(json!([{"matchFields": [name_in(&["node1"]), name_in(&["node2"])]}, {"matchExpressions": [expr("foo", "In", &["bar"])]}])), foo_bar.clone())
            .on("node2"),
        case("one term: fields do not match, expressions do", required(json!([{"matchFields": [name_in(&["node1"])], "matchExpressions": [expr("foo", "In", &["bar"])]}])), foo_bar.clone())
            .on("node2").narrowed(&["node1"]).rejected(ERR_REASON_POD),
        case("one term: fields and expressions match", required(json!([{"matchFields": [name_in(&["node1"])], "matchExpressions": [expr("foo", "In", &["bar"])]}])), foo_bar.clone())
            .on("node1").narrowed(&["node1"]),
        case("two terms: neither matches", required(json!([{"matchFields": [name_in(&["node1"])]}, {"matchExpressions": [expr("foo", "In", &["not-match-to-bar"])]}])), foo_bar.clone())
            .on("node2").rejected(ERR_REASON_POD),
        case("two terms of node name", required(json!([{"matchFields": [name_in(&["node1"])]}, {"matchFields": [name_in(&["node2"])]}])), json!({}))
            .on("node2").narrowed(&["node1", "node2"]),
        case("conflicting name requirements", required(json!([{"matchFields": [name_in(&["node1"]), name_in(&["node2"])]}])), foo_bar.clone())
            .on("node2").pre(Code::UnschedulableAndUnresolvable).rejected(ERR_REASON_POD),
        case("matches added affinity and the pod's", required(json!([{"matchExpressions": [expr("zone", "In", &["foo"])]}])), json!({"zone": "foo"}))
            .on("node2").args(added_required(json!([{"matchFields": [name_in(&["node2"])]}]))),
        case("matches added affinity but not the pod's", required(json!([{"matchExpressions": [expr("zone", "In", &["bar"])]}])), json!({"zone": "foo"}))
            .on("node2").args(added_required(json!([{"matchFields": [name_in(&["node2"])]}]))).rejected(ERR_REASON_POD),
        case("does not match added affinity", json!({}), json!({"zone": "foo"}))
            .on("node2").args(added_required(json!([{"matchExpressions": [expr("zone", "In", &["bar"])]}]))).rejected(ERR_REASON_ENFORCED),
    ]
}

#[test]
fn pre_filter_narrows_and_filter_matches_as_upstream() {
    for case in filter_cases() {
        let plugin = plugin(case.args.clone());
        let pod = pod(case.pod.clone());
        let node = node(case.node.0, case.node.1.clone());
        let (result, pre, status) = run(plugin.as_ref(), &pod, &node, true);
        assert_eq!(
            pre.code(),
            case.pre_filter,
            "{}: PreFilter {pre}",
            case.name
        );
        if case.pre_filter == Code::UnschedulableAndUnresolvable {
            assert_eq!(pre.reasons(), [ERR_REASON_CONFLICT], "{}", case.name);
        }
        let narrowed = result.and_then(|r| r.node_names);
        let want = case
            .narrowed_to
            .map(|names| names.iter().map(|n| n.to_string()).collect());
        assert_eq!(narrowed, want, "{}: PreFilterResult", case.name);
        match case.filter {
            None => assert!(status.is_success(), "{}: {status}", case.name),
            Some(reason) => {
                assert_eq!(
                    status.code(),
                    Code::UnschedulableAndUnresolvable,
                    "{}",
                    case.name
                );
                assert_eq!(status.reasons(), [reason], "{}", case.name);
            }
        }
    }
}

#[test]
fn filter_parses_for_itself_when_pre_filter_did_not_run() {
    let plugin = plugin(None);
    let selected = pod(json!({"nodeSelector": {"foo": "bar"}}));
    let node = node("n", json!({"foo": "bar", "baz": "blah"}));
    assert!(run(plugin.as_ref(), &selected, &node, false).2.is_success());
    let anded = required(
        json!([{"matchExpressions": [exists("GPU"), expr("GPU", "NotIn", &["AMD", "INTER"])]}]),
    );
    let gpu = self::node("n", json!({"GPU": "NVIDIA-GRID-K1"}));
    assert!(
        run(plugin.as_ref(), &pod(anded), &gpu, false)
            .2
            .is_success()
    );
}

#[test]
fn an_invalid_term_rejects_the_node_with_its_error_and_never_panics() {
    let plugin = plugin(None);
    let foo = node("n", json!({"foo": "bar", "cores": "8"}));
    let cases = [
        (
            expr("foo", "NotIn", &["invalid value: ___@#$%^"]),
            "values[0]: Invalid value",
        ),
        (
            expr("foo", "Near", &["bar"]),
            "operator: Unsupported value: \"Near\"",
        ),
        (
            expr("cores", "Gt", &["eight"]),
            "the value must be an integer",
        ),
        (
            expr("cores", "Lt", &["1", "2"]),
            "exactly one value is required",
        ),
        (expr("foo", "In", &[]), "values set can't be empty"),
    ];
    for (requirement, message) in cases {
        let spec = required(json!([{"matchExpressions": [requirement]}]));
        let (_, _, status) = run(plugin.as_ref(), &pod(spec), &foo, true);
        assert_eq!(status.code(), Code::UnschedulableAndUnresolvable);
        assert_eq!(status.reasons()[0], ERR_REASON_POD);
        assert!(
            status.message().contains(message),
            "{status} lacks {message}"
        );
        assert!(
            status
                .message()
                .contains("nodeSelectorTerms[0].matchExpressions[0]")
        );
    }
    // An invalid term does not keep a valid one from matching.
    let spec = required(
        json!([{"matchExpressions": [expr("foo", "Near", &["bar"])]}, {"matchExpressions": [exists("foo")]}]),
    );
    assert!(run(plugin.as_ref(), &pod(spec), &foo, true).2.is_success());
}

fn preferred(terms: Value) -> Value {
    json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": terms}}})
}

fn term(weight: i32, requirements: Value) -> Value {
    json!({"weight": weight, "preference": {"matchExpressions": requirements}})
}

/// PreScore (when asked), Score on each node and Normalize.
fn scores(
    plugin: &dyn Plugin,
    pod: &PodInfo,
    nodes: &[NodeInfo],
    pre_score: bool,
) -> Result<Vec<i64>, Status> {
    let mut state = CycleState::new();
    if pre_score {
        let infos: Vec<Arc<NodeInfo>> = nodes.iter().cloned().map(Arc::new).collect();
        let pre = plugin.as_pre_score().expect("a PreScore plugin");
        let status = pre.pre_score(
            &mut state,
            pod,
            &infos,
            &Snapshot::default(),
            &Listers::default(),
        );
        if !status.is_success() {
            return Err(status);
        }
    }
    let score = plugin.as_score().expect("a Score plugin");
    let mut list = Vec::new();
    for node in nodes {
        let value = score.score(&state, pod, node)?;
        list.push(NodeScore {
            name: node.name().to_string(),
            score: value,
        });
    }
    assert!(score.normalize(&state, pod, &mut list).is_success());
    Ok(list.into_iter().map(|s| s.score).collect())
}

#[test]
fn preferred_terms_score_their_weights_normalized_to_the_best() {
    let label1 = json!({"foo": "bar"});
    let label2 = json!({"key": "value"});
    let label3 = json!({"az": "az1"});
    let label4 = json!({"abc": "az11", "def": "az22"});
    let label5 = json!({"foo": "bar", "key": "value", "az": "az1"});
    let affinity1 = json!([term(2, json!([expr("foo", "In", &["bar"])]))]);
    let affinity2 = json!([
        term(2, json!([expr("foo", "In", &["bar"])])),
        term(4, json!([expr("key", "In", &["value"])])),
        term(
            5,
            json!([
                expr("foo", "In", &["bar"]),
                expr("key", "In", &["value"]),
                expr("az", "In", &["az1"])
            ])
        ),
    ]);
    let added_key = json!({"addedAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [term(3, json!([expr("key", "In", &["value"])]))]}});
    let added1 = json!({"addedAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": affinity1.clone()}});
    // (pod spec, node labels, args, run PreScore, expected), as upstream's
    // TestNodeAffinityPriority.
    let cases = [
        (
            json!({}),
            vec![&label1, &label2, &label3],
            None,
            false,
            vec![0, 0, 0],
        ),
        (
            preferred(affinity1.clone()),
            vec![&label4, &label2, &label3],
            None,
            true,
            vec![0, 0, 0],
        ),
        (
            preferred(affinity1.clone()),
            vec![&label1, &label2, &label3],
            None,
            true,
            vec![100, 0, 0],
        ),
        (
            preferred(affinity2.clone()),
            vec![&label1, &label5, &label2],
            None,
            true,
            vec![18, 100, 36],
        ),
        (
            json!({}),
            vec![&label1, &label2],
            Some(added1),
            true,
            vec![100, 0],
        ),
        (
            preferred(affinity1),
            vec![&label1, &label2, &label5],
            Some(added_key),
            true,
            vec![40, 60, 100],
        ),
        (
            preferred(affinity2),
            vec![&label1, &label5, &label2],
            None,
            false,
            vec![18, 100, 36],
        ),
    ];
    for (spec, labels, args, pre_score, want) in cases {
        let nodes: Vec<NodeInfo> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| node(&format!("node{i}"), (*l).clone()))
            .collect();
        let got =
            scores(plugin(args).as_ref(), &pod(spec.clone()), &nodes, pre_score).expect("scored");
        assert_eq!(got, want, "{spec}");
    }
}

#[test]
fn pre_score_skips_a_pod_without_preferences_and_fails_on_a_broken_one() {
    let nodes = [node("node1", json!({"foo": "bar"}))];
    let skipped = scores(plugin(None).as_ref(), &pod(json!({})), &nodes, true);
    assert_eq!(skipped.map_err(|s| s.code()), Err(Code::Skip));
    let broken = preferred(json!([term(
        2,
        json!([expr("invalid key", "In", &["bar"])])
    )]));
    let status = scores(plugin(None).as_ref(), &pod(broken), &nodes, true).expect_err("an error");
    assert_eq!(status.code(), Code::Error);
    assert!(
        status.message().starts_with(
            "[0].matchExpressions[0].key: Invalid value: \"invalid key\": name part must consist of"
        ),
        "{status}"
    );
}

#[test]
fn normalizing_scales_to_the_highest_and_may_reverse() {
    let list = |values: &[i64]| -> Vec<NodeScore> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| NodeScore {
                name: format!("n{i}"),
                score: *v,
            })
            .collect()
    };
    // (scores, reverse, expected), as upstream's TestDefaultNormalizeScore.
    let cases: [(&[i64], bool, &[i64]); 6] = [
        (&[10, 20, 30, 40, 50], false, &[20, 40, 60, 80, 100]),
        (&[10, 20, 30, 40, 50], true, &[80, 60, 40, 20, 0]),
        (&[1000, 10, 20, 30, 40, 50], false, &[100, 1, 2, 3, 4, 5]),
        (&[1000, 10, 20, 30, 40, 50], true, &[0, 99, 98, 97, 96, 95]),
        (&[0, 0, 0], false, &[0, 0, 0]),
        (&[0, 0, 0], true, &[100, 100, 100]),
    ];
    for (scores, reverse, want) in cases {
        let mut got = list(scores);
        assert!(default_normalize_score(MAX_NODE_SCORE, reverse, &mut got).is_success());
        let got: Vec<i64> = got.iter().map(|s| s.score).collect();
        assert_eq!(got, want, "{scores:?} reversed: {reverse}");
    }
}

fn node_change(old: Option<Value>, new: Value) -> ClusterChange {
    ClusterChange {
        event: ClusterEvent::new(EventResource::Node, ActionType::ADD),
        old: old.map(|labels| Changed::Node(Arc::new(node_object("n", labels)))),
        new: Some(Changed::Node(Arc::new(node_object("n", new)))),
    }
}

#[test]
fn only_a_node_coming_to_match_requeues() {
    let wants_foo = pod(required(
        json!([{"matchExpressions": [expr("foo", "In", &["bar"])]}]),
    ));
    let enforced = added_required(json!([{"matchExpressions": [expr("foo", "In", &["bar"])]}]));
    let foo = json!({"foo": "bar"});
    // (args, old labels, new labels, hint), as upstream's
    // Test_isSchedulableAfterNodeChange.
    let cases = [
        (None, None, json!({}), QueueingHint::Skip),
        (None, None, foo.clone(), QueueingHint::Queue),
        (None, Some(json!({})), json!({}), QueueingHint::Skip),
        (None, Some(json!({})), json!({"k": "v"}), QueueingHint::Skip),
        (
            None,
            Some(foo.clone()),
            json!({"k": "v"}),
            QueueingHint::Skip,
        ),
        (None, Some(json!({})), foo.clone(), QueueingHint::Queue),
        (Some(enforced.clone()), None, json!({}), QueueingHint::Skip),
        (Some(enforced), None, foo, QueueingHint::Queue),
    ];
    for (args, old, new, hint) in cases {
        let events = plugin(args.clone()).events_to_register().expect("events");
        let hinted = events[0].hint.as_ref().expect("a hint");
        let change = node_change(old.clone(), new.clone());
        assert_eq!(
            hinted(&wants_foo.pod, &change),
            hint,
            "{args:?}: {old:?} -> {new}"
        );
    }
}

#[test]
fn added_affinity_is_checked_when_the_profile_is_built() {
    let handle = Handle::offline(Default::default());
    let bad_operator =
        added_required(json!([{"matchExpressions": [expr("zone", "Near", &["a"])]}]));
    let error = new(Some(&bad_operator), &handle).err().expect("rejected");
    assert!(error.starts_with("NodeAffinityArgs.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: \"Near\""), "{error}");
    let bad_preferred = json!({"addedAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [term(1, json!([expr("n", "Gt", &["x"])]))]}});
    let error = new(Some(&bad_preferred), &handle).err().expect("rejected");
    assert!(error.contains("addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].matchExpressions[0].values[0]"), "{error}");
    let typed = json!({"kind": "NodeAffinityArgs", "apiVersion": "kubescheduler.config.k8s.io/v1"});
    assert!(new(Some(&typed), &handle).is_ok());
    let unknown = json!({"addedAfinity": {}});
    let error = new(Some(&unknown), &handle).err().expect("rejected");
    assert!(error.contains("addedAfinity"), "{error}");
}
