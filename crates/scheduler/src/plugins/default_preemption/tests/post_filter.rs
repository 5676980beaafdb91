//! PostFilter end to end: the node nominated, the victims, and the
//! message when preemption cannot help (upstream's `TestPostFilter`).

use serde_json::{Value, json};

use super::*;
use crate::framework::Code::{Error, Unschedulable, UnschedulableAndUnresolvable};

const ONE_POD: i64 = 1;

fn one_pod_node(name: &str) -> Value {
    node(name, ONE_POD, "10", json!({}))
}

/// What a case expects: the nomination (`Some("")` clears it), the
/// victims, and the status code and message.
struct Want {
    nominated: Option<&'static str>,
    victims: &'static [&'static str],
    code: Code,
    message: &'static str,
}

const NODE1: Want = Want {
    nominated: Some("node1"),
    victims: &["p1"],
    code: Code::Success,
    message: "",
};

fn check(name: &str, cluster: &Cluster, preemptor: Value, statuses: NodeToStatus, want: Want) {
    let (result, status) = cluster.preempt(&preemptor, &statuses);
    assert_eq!(status.code(), want.code, "{name}: {status}");
    assert_eq!(status.message(), want.message, "{name}");
    let nominated = result
        .as_ref()
        .and_then(|r| r.nominated_node_name.as_deref());
    assert_eq!(nominated, want.nominated, "{name}");
    let victims = result
        .as_ref()
        .map(|r| names(&r.victims))
        .unwrap_or_default();
    assert_eq!(victims, want.victims, "{name}");
}

#[test]
fn a_higher_priority_pod_preempts_and_a_tied_one_does_not() {
    let cluster = Cluster {
        nodes: vec![(one_pod_node("node1"), vec![pod("p1", LOW, "")])],
        ..Cluster::default()
    };
    let node1 = statuses(&[("node1", Unschedulable)]);
    check("higher", &cluster, pod("p", HIGH, ""), node1.clone(), NODE1);
    let none = Want {
        nominated: Some(""),
        victims: &[],
        code: Unschedulable,
        message: "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    };
    check("tied", &cluster, pod("p", LOW, ""), node1, none);
}

#[test]
fn nodes_rejected_for_good_are_not_tried() {
    let cluster = Cluster {
        nodes: vec![(one_pod_node("node1"), vec![pod("p1", LOW, "")])],
        ..Cluster::default()
    };
    let want = || Want {
        nominated: Some(""),
        victims: &[],
        code: Unschedulable,
        message: "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    };
    let unresolvable = statuses(&[("node1", UnschedulableAndUnresolvable)]);
    check(
        "unresolvable",
        &cluster,
        pod("p", HIGH, ""),
        unresolvable,
        want(),
    );
    check(
        "absent",
        &cluster,
        pod("p", HIGH, ""),
        statuses(&[]),
        want(),
    );
}

#[test]
fn the_node_whose_victims_matter_least_is_nominated() {
    let cluster = Cluster {
        nodes: vec![
            (one_pod_node("node1"), vec![pod("p1", HIGH, "")]),
            (one_pod_node("node2"), vec![pod("p2", LOW, "")]),
        ],
        ..Cluster::default()
    };
    let both = statuses(&[("node1", Unschedulable), ("node2", Unschedulable)]);
    let want = Want {
        nominated: Some("node2"),
        victims: &["p2"],
        code: Code::Success,
        message: "",
    };
    check("one node", &cluster, pod("p", MID, ""), both, want);
}

#[test]
fn with_budgets_violated_on_both_nodes_the_lower_highest_priority_wins() {
    let key = "test.kubernetes.io/is-violating-pdb";
    let cluster = Cluster {
        nodes: vec![
            (
                one_pod_node("node1"),
                vec![
                    labelled(pod("p1", HIGH, ""), key, "non-violating"),
                    labelled(pod("p2", LOW, ""), key, "violating"),
                ],
            ),
            (
                one_pod_node("node2"),
                vec![labelled(pod("p3", MID, ""), key, "violating")],
            ),
        ],
        budgets: vec![
            budget("violating-pdb", key, "violating", 0, &[]),
            budget("non-violating-pdb", key, "non-violating", i32::MAX, &[]),
        ],
        ..Cluster::default()
    };
    let both = statuses(&[("node1", Unschedulable), ("node2", Unschedulable)]);
    let want = Want {
        nominated: Some("node2"),
        victims: &["p3"],
        code: Code::Success,
        message: "",
    };
    check("min highest", &cluster, pod("p", VERY_HIGH, ""), both, want);
}

#[test]
fn the_message_counts_each_nodes_reason() {
    let small = |name| node(name, 10, "200m", json!({}));
    let cluster = Cluster {
        nodes: vec![
            (one_pod_node("node1"), vec![pod("p1", HIGH, "")]),
            (small("node2"), vec![pod("p2", LOW, "")]),
            (one_pod_node("node3"), vec![pod("p3", HIGH, "")]),
        ],
        ..Cluster::default()
    };
    let all = statuses(&[
        ("node1", Unschedulable),
        ("node2", Unschedulable),
        ("node3", Unschedulable),
    ]);
    let want = Want {
        nominated: Some(""),
        victims: &[],
        code: Unschedulable,
        message: "preemption: 0/3 nodes are available: 1 Insufficient cpu, 2 No preemption victims found for incoming pod.",
    };
    check("mixed", &cluster, pod("p", HIGH, "300m"), all, want);

    let cluster = Cluster {
        nodes: vec![
            (small("node1"), vec![pod("p1", LOW, "")]),
            (small("node2"), vec![pod("p2", LOW, "")]),
            (small("node3"), vec![]),
            (small("node4"), vec![]),
        ],
        ..Cluster::default()
    };
    let some = statuses(&[
        ("node1", Unschedulable),
        ("node2", Unschedulable),
        ("node4", UnschedulableAndUnresolvable),
    ]);
    let want = Want {
        nominated: Some(""),
        victims: &[],
        code: Unschedulable,
        message: "preemption: 0/4 nodes are available: 2 Insufficient cpu, 2 Preemption is not helpful for scheduling.",
    };
    check("not helpful", &cluster, pod("p", HIGH, "300m"), some, want);
}

#[test]
fn a_failing_dry_run_is_an_error_unless_another_node_is_a_candidate() {
    let failing = node("node1", 10, "300m", json!({"error": "true"}));
    let cluster = Cluster {
        nodes: vec![(failing.clone(), vec![pod("p1", LOW, "")])],
        ..Cluster::default()
    };
    let want = Want {
        nominated: None,
        victims: &[],
        code: Error,
        message: "preemption: running AddPod/RemovePod on PreFilter plugin \"test-plugin\": failed to remove pod: p",
    };
    let node1 = statuses(&[("node1", Unschedulable)]);
    check(
        "only node fails",
        &cluster,
        pod("p", HIGH, "300m"),
        node1,
        want,
    );

    let cluster = Cluster {
        nodes: vec![
            (failing, vec![pod("p1", LOW, "")]),
            (
                node("node2", 10, "300m", json!({})),
                vec![pod("p2", LOW, "200m")],
            ),
        ],
        ..Cluster::default()
    };
    let both = statuses(&[("node1", Unschedulable), ("node2", Unschedulable)]);
    let want = Want {
        nominated: Some("node2"),
        victims: &["p2"],
        code: Code::Success,
        message: "",
    };
    check("other passes", &cluster, pod("p", HIGH, "300m"), both, want);
}

#[test]
fn a_pod_that_never_preempts_is_not_eligible() {
    let cluster = Cluster {
        nodes: vec![(one_pod_node("node1"), vec![pod("p1", LOW, "")])],
        ..Cluster::default()
    };
    let mut preemptor = pod("p", HIGH, "");
    preemptor["spec"]["preemptionPolicy"] = json!("Never");
    let want = Want {
        nominated: None,
        victims: &[],
        code: Unschedulable,
        message: "preemption: not eligible due to preemptionPolicy=Never.",
    };
    check(
        "never",
        &cluster,
        preemptor,
        statuses(&[("node1", Unschedulable)]),
        want,
    );
}

/// A pod deleted by an earlier preemption, not gone yet.
fn terminating(name: &str, priority: i32) -> Value {
    let mut victim = pod(name, priority, "");
    victim["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    victim["status"]["conditions"] = json!([{
        "type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
    }]);
    victim
}

#[test]
fn a_pod_waits_for_the_victims_terminating_on_its_nominated_node() {
    let cluster = Cluster {
        nodes: vec![
            (one_pod_node("node1"), vec![terminating("p1", LOW)]),
            (one_pod_node("node2"), vec![pod("p2", LOW, "")]),
        ],
        ..Cluster::default()
    };
    let mut preemptor = pod("p", HIGH, "");
    preemptor["status"]["nominatedNodeName"] = json!("node1");
    let both = statuses(&[("node1", Unschedulable), ("node2", Unschedulable)]);
    let want = Want {
        nominated: None,
        victims: &[],
        code: Unschedulable,
        message: "preemption: not eligible due to a terminating pod on the nominated node.",
    };
    check("waits", &cluster, preemptor.clone(), both, want);

    // Once the nominated node cannot fit it at all, it preempts elsewhere.
    let gone = statuses(&[
        ("node1", UnschedulableAndUnresolvable),
        ("node2", Unschedulable),
    ]);
    let want = Want {
        nominated: Some("node2"),
        victims: &["p2"],
        code: Code::Success,
        message: "",
    };
    check("node lost", &cluster, preemptor, gone, want);
}

#[test]
fn a_terminating_pod_not_preempted_by_the_scheduler_does_not_hold_the_pod_back() {
    let mut deleted = pod("p1", LOW, "");
    deleted["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    let cluster = Cluster {
        nodes: vec![(one_pod_node("node1"), vec![deleted])],
        ..Cluster::default()
    };
    let mut preemptor = pod("p", HIGH, "");
    preemptor["status"]["nominatedNodeName"] = json!("node1");
    let node1 = statuses(&[("node1", Unschedulable)]);
    check("deleted by a user", &cluster, preemptor, node1, NODE1);
}

#[test]
fn lower_priority_pods_nominated_to_the_node_lose_their_nomination() {
    let cluster = Cluster {
        nodes: vec![
            (
                node("node1", 10, "10", json!({})),
                vec![pod("p1", LOW, "4"), pod("p2", LOW, "4")],
            ),
            (node("node2", 10, "10", json!({})), vec![]),
        ],
        nominated: vec![
            (pod("n1", LOW, "1"), "node1"),
            (pod("n2", MID, "1"), "node2"),
        ],
        ..Cluster::default()
    };
    let node1 = statuses(&[("node1", Unschedulable)]);
    let (result, status) = cluster.preempt(&pod("p", HIGH, "10"), &node1);
    assert!(status.is_success(), "{status}");
    let result = result.expect("a result");
    assert_eq!(result.nominated_node_name.as_deref(), Some("node1"));
    assert_eq!(names(&result.victims), ["p1", "p2"]);
    assert_eq!(names(&result.clear_nominations), ["n1"]);
}

#[test]
fn fewer_lower_priority_victims_beat_more_of_any_priority() {
    // Upstream's `TestPreempt`: nodes of 500m, a preemptor asking for all.
    let full = |name| node(name, 10, "500m", json!({}));
    let all = || {
        statuses(&[
            ("node1", Unschedulable),
            ("node2", Unschedulable),
            ("node3", Unschedulable),
        ])
    };
    let cluster = Cluster {
        nodes: vec![
            (
                full("node1"),
                vec![pod("p1.1", LOW, "100m"), pod("p1.2", LOW, "100m")],
            ),
            (full("node2"), vec![pod("p2.1", HIGH, "300m")]),
            (full("node3"), vec![pod("p3.1", MID, "200m")]),
        ],
        ..Cluster::default()
    };
    let want = Want {
        nominated: Some("node1"),
        victims: &["p1.1", "p1.2"],
        code: Code::Success,
        message: "",
    };
    check(
        "lowest highest priority",
        &cluster,
        pod("p", HIGH, "500m"),
        all(),
        want,
    );

    // With a victim of equal highest priority on each, the smaller sum wins.
    let cluster = Cluster {
        nodes: vec![
            (
                full("node1"),
                vec![pod("p1.1", MID, "100m"), pod("p1.2", LOW, "100m")],
            ),
            (full("node2"), vec![]),
            (full("node3"), vec![pod("p2.1", MID, "300m")]),
        ],
        ..Cluster::default()
    };
    let want = Want {
        nominated: Some("node3"),
        victims: &["p2.1"],
        code: Code::Success,
        message: "",
    };
    check(
        "smallest sum",
        &cluster,
        pod("p", HIGH, "500m"),
        all(),
        want,
    );
}
