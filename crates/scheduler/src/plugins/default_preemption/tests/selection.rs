//! The parts of preemption on their own: victims on one node, the dry
//! run's offset and count, the node picked, the arguments (upstream's
//! `TestSelectNodesForPreemption`, `TestDryRunPreemption`,
//! `TestSelectBestCandidate`, `TestCalculateNumCandidates` and the
//! validation tests of `DefaultPreemptionArgs`).

use serde_json::json;

use super::*;
use crate::framework::Code::Unschedulable;
use crate::framework::Handle;
use crate::framework::events::{ActionType, ClusterEvent, EventResource, QueueingHint};
use crate::plugins::default_preemption::candidates::{self, Candidate, Input};
use crate::plugins::default_preemption::pick::pick_one_node;
use crate::plugins::default_preemption::victims::{Budget, OnNode};

/// The victims chosen on the only node of `cluster` for `preemptor`.
fn victims_on(cluster: &Cluster, preemptor: &Value) -> Result<(Vec<String>, usize), Status> {
    let framework = cluster.framework(Arc::new(Nominator::default()));
    let pod = info(preemptor);
    let budgets = Budget::list(&cluster.listers().pod_disruption_budgets);
    let on_node = OnNode {
        framework: &framework,
        pod: &pod,
        budgets: &budgets,
    };
    let snapshot = cluster.snapshot();
    let mut node = NodeInfo::clone(&snapshot.nodes()[0]);
    let victims = on_node.select(&mut CycleState::new(), &mut node)?;
    let names = victims.pods.iter().map(|p| p.name().to_string()).collect();
    Ok((names, victims.pdb_violations))
}

fn one_node(pods: Vec<Value>, budgets: Vec<Value>) -> Cluster {
    Cluster {
        nodes: vec![(node("node1", 10, "600m", json!({})), pods)],
        budgets,
        ..Cluster::default()
    }
}

#[test]
fn the_least_important_pods_are_the_victims() {
    let cluster = one_node(
        vec![
            pod("a", LOW, "200m"),
            pod("b", MID, "200m"),
            pod("c", HIGH - 1, "200m"),
        ],
        vec![],
    );
    let got = victims_on(&cluster, &pod("p", HIGH, "200m")).expect("victims");
    assert_eq!(got, (vec!["a".to_string()], 0));
    let got = victims_on(&cluster, &pod("p", HIGH, "400m")).expect("victims");
    assert_eq!(got, (vec!["b".to_string(), "a".to_string()], 0));
}

#[test]
fn of_equal_priority_the_pod_started_last_is_the_victim() {
    let cluster = one_node(
        vec![
            started(pod("old", LOW, "300m"), 10),
            started(pod("new", LOW, "300m"), 20),
        ],
        vec![],
    );
    let got = victims_on(&cluster, &pod("p", HIGH, "300m")).expect("victims");
    assert_eq!(got, (vec!["new".to_string()], 0));
}

#[test]
fn pods_a_budget_protects_are_spared_first() {
    let pods = || {
        vec![
            labelled(pod("protected", LOW, "300m"), "app", "db"),
            pod("free", LOW, "300m"),
        ]
    };
    let exhausted = budget("db", "app", "db", 0, &[]);
    let cluster = one_node(pods(), vec![exhausted]);
    let got = victims_on(&cluster, &pod("p", HIGH, "300m")).expect("victims");
    assert_eq!(got, (vec!["free".to_string()], 0));

    // When both must go, the protected one counts as a violation.
    let got = victims_on(&cluster, &pod("p", HIGH, "600m")).expect("victims");
    assert_eq!(got.1, 1);
    assert_eq!(got.0.len(), 2);

    // A pod the budget already counts as disrupted costs it nothing.
    let counted = budget("db", "app", "db", 0, &["protected"]);
    let cluster = one_node(pods(), vec![counted]);
    let got = victims_on(&cluster, &pod("p", HIGH, "600m")).expect("victims");
    assert_eq!(got.1, 0);
}

#[test]
fn no_victims_or_no_fit_is_a_rejection() {
    let cluster = one_node(vec![pod("a", HIGH, "600m")], vec![]);
    let status = victims_on(&cluster, &pod("p", HIGH, "100m")).expect_err("none");
    assert_eq!(status.code(), Code::UnschedulableAndUnresolvable);
    assert_eq!(
        status.message(),
        "No preemption victims found for incoming pod"
    );
    let cluster = one_node(vec![pod("a", LOW, "100m")], vec![]);
    let status = victims_on(&cluster, &pod("p", HIGH, "700m")).expect_err("too big");
    assert_eq!(status.code(), Unschedulable);
    assert_eq!(status.message(), "Insufficient cpu");
}

/// Nodes `node1..=node{n}`, each with one low pod filling it; the first
/// `protected` of them protected by an exhausted budget.
fn full_nodes(n: usize, protected: usize) -> Cluster {
    let nodes = (1..=n).map(|i| {
        let mut victim = pod(&format!("p{i}"), LOW, "1");
        if i <= protected {
            victim = labelled(victim, "app", "db");
        }
        (node(&format!("node{i}"), 10, "1", json!({})), vec![victim])
    });
    Cluster {
        nodes: nodes.collect(),
        budgets: vec![budget("db", "app", "db", 0, &[])],
        ..Cluster::default()
    }
}

fn dry_run_nodes(cluster: &Cluster, offset: usize, wanted: usize) -> Vec<String> {
    let framework = cluster.framework(Arc::new(Nominator::default()));
    let pod = info(&pod("p", HIGH, "1"));
    let budgets = Budget::list(&cluster.listers().pod_disruption_budgets);
    let snapshot = cluster.snapshot();
    let nodes: Vec<_> = snapshot.nodes().iter().collect();
    let state = CycleState::new();
    let input = Input {
        framework: &framework,
        state: &state,
        pod: &pod,
        budgets: &budgets,
    };
    let run = candidates::dry_run(&input, &nodes, offset, wanted);
    run.candidates.into_iter().map(|c| c.node).collect()
}

#[test]
fn the_dry_run_starts_at_the_offset_and_stops_at_enough_candidates() {
    let cluster = full_nodes(4, 0);
    assert_eq!(dry_run_nodes(&cluster, 2, 2), ["node3", "node4"]);
    assert_eq!(dry_run_nodes(&cluster, 3, 2), ["node4", "node1"]);
    assert_eq!(dry_run_nodes(&cluster, 0, 4).len(), 4);
}

#[test]
fn the_dry_run_goes_on_until_a_candidate_violates_no_budget() {
    // node1 and node2 violate; at most one of them is kept, and node3,
    // violating nothing, comes first.
    let cluster = full_nodes(3, 2);
    assert_eq!(dry_run_nodes(&cluster, 0, 1), ["node3", "node1"]);
}

#[test]
fn the_number_of_candidates_follows_the_arguments() {
    let cases = [
        (10, 100, 0, 0),
        (10, 100, 1000, 100),
        (50, 50, 100, 50),
        (70, 50, 100, 70),
        (50, 0, 100, 50),
        (0, 10, 5, 5),
    ];
    for (percentage, absolute, nodes, want) in cases {
        let args = DefaultPreemptionArgs {
            min_candidate_nodes_percentage: percentage,
            min_candidate_nodes_absolute: absolute,
        };
        assert_eq!(
            args.num_candidates(nodes),
            want,
            "{percentage}% {absolute} of {nodes}"
        );
    }
    let plugin = DefaultPreemption::new(DefaultPreemptionArgs::default());
    for _ in 0..20 {
        let (offset, wanted) = plugin.offset_and_num_candidates(7);
        assert!(offset < 7);
        assert_eq!(wanted, 7);
    }
}

fn candidate(node: &str, victims: &[Value], pdb_violations: usize) -> Candidate {
    Candidate {
        node: node.to_string(),
        victims: victims.iter().map(info).collect(),
        pdb_violations,
    }
}

fn picked(candidates: &[Candidate]) -> &str {
    &candidates[pick_one_node(candidates)].node
}

#[test]
fn the_node_picked_follows_each_criterion_in_turn() {
    let p = |name: &str, priority| pod(name, priority, "");
    let fewest_violations = [
        candidate("node1", &[p("a", LOW)], 1),
        candidate("node2", &[p("b", HIGH)], 0),
    ];
    assert_eq!(picked(&fewest_violations), "node2");
    let lowest_highest = [
        candidate("node1", &[p("a", MID), p("b", LOW)], 0),
        candidate("node2", &[p("c", LOW), p("d", LOW), p("e", LOW)], 0),
    ];
    assert_eq!(picked(&lowest_highest), "node2");
    let smallest_sum = [
        candidate("node1", &[p("a", MID), p("b", MID)], 0),
        candidate("node2", &[p("c", MID), p("d", LOW)], 0),
    ];
    assert_eq!(picked(&smallest_sum), "node2");
    // Negative priorities are shifted, so more victims sum larger.
    let negative = [
        candidate("node1", &[p("a", -100), p("b", -100)], 0),
        candidate("node2", &[p("c", -100)], 0),
    ];
    assert_eq!(picked(&negative), "node2");
    let latest_start = [
        candidate(
            "node1",
            &[started(p("a", MID), 5), started(p("b", LOW), 9)],
            0,
        ),
        candidate(
            "node2",
            &[started(p("c", MID), 6), started(p("d", LOW), 1)],
            0,
        ),
    ];
    assert_eq!(picked(&latest_start), "node2");
    let tie = [
        candidate("node1", &[p("a", MID)], 0),
        candidate("node2", &[p("b", MID)], 0),
    ];
    assert_eq!(picked(&tie), "node1");
}

#[test]
fn arguments_are_defaulted_and_validated_as_upstream() {
    let parse = |v: Value| DefaultPreemptionArgs::from_json(Some(&v));
    assert_eq!(
        parse(
            json!({"kind": "DefaultPreemptionArgs", "apiVersion": "kubescheduler.config.k8s.io/v1"})
        ),
        Ok(DefaultPreemptionArgs::default())
    );
    let absolute = parse(json!({"minCandidateNodesAbsolute": 5})).expect("valid");
    assert_eq!(absolute.min_candidate_nodes_absolute, 5);
    assert_eq!(absolute.min_candidate_nodes_percentage, 10);
    let cases = [
        (
            json!({"minCandidateNodesPercentage": 101}),
            "DefaultPreemptionArgs.minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]",
        ),
        (
            json!({"minCandidateNodesAbsolute": -1}),
            "DefaultPreemptionArgs.minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)",
        ),
        (
            json!({"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 0}),
            "[DefaultPreemptionArgs.minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same time as minCandidateNodesAbsolute, DefaultPreemptionArgs.minCandidateNodesAbsolute: Invalid value: 0: cannot be zero at the same time as minCandidateNodesPercentage]",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(parse(args).as_ref().map_err(String::as_str), Err(want));
    }
    let unknown = parse(json!({"minCandidates": 1})).expect_err("unknown field");
    assert!(unknown.contains("minCandidates"), "{unknown}");
    let handle = Handle::offline(Arc::new(Listers::default()));
    assert!(super::super::new(Some(&json!({"minCandidateNodesPercentage": -1})), &handle).is_err());
}

#[test]
fn only_the_deletion_of_assigned_pods_is_registered_and_it_never_requeues() {
    let plugin = DefaultPreemption::new(DefaultPreemptionArgs::default());
    let events = plugin.events_to_register().expect("events");
    assert_eq!(events.len(), 1);
    let deleted = ClusterEvent::new(EventResource::AssignedPod, ActionType::DELETE);
    assert_eq!(events[0].event, deleted);
    let hint = events[0].hint.as_ref().expect("a hint");
    let change = crate::framework::ClusterChange {
        event: deleted,
        old: None,
        new: None,
    };
    let preemptor: Pod = serde_json::from_value(pod("p", HIGH, "")).expect("a pod");
    assert_eq!(hint(&preemptor, &change), QueueingHint::Skip);
}
