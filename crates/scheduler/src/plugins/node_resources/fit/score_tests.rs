//! Upstream's `fit_test.go`, `least_allocated_test.go` and
//! `most_allocated_test.go` scores: each strategy over cpu, memory and
//! extended resources, with and without PreScore.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::test_support::{containers, node, node_with, requesting};
use super::*;

fn plugin(args: Value) -> Arc<dyn Plugin> {
    let handle = Handle::offline(Default::default());
    new(Some(&args), &handle).expect("valid arguments")
}

fn spec(requests: &[Value]) -> Value {
    json!({"containers": containers(requests)})
}

/// Each node's score for `pod`, with or without PreScore first.
fn scores(args: Value, pod: &PodInfo, nodes: &[NodeInfo], pre_score: bool) -> Vec<i64> {
    let plugin = plugin(args);
    let mut state = CycleState::new();
    if pre_score {
        let pre = plugin.as_pre_score().expect("a PreScore plugin");
        let status = pre.pre_score(
            &mut state,
            pod,
            &[],
            &Snapshot::default(),
            &Listers::default(),
        );
        assert!(status.is_success(), "{status}");
    }
    let score = plugin.as_score().expect("a Score plugin");
    nodes
        .iter()
        .map(|node| score.score(&state, pod, node).expect("scored"))
        .collect()
}

fn cores(cpu: i64, memory: i64) -> Value {
    json!({"cpu": cpu.to_string(), "memory": memory.to_string(), "pods": "32"})
}

fn used(cpu: i64, memory: i64) -> Value {
    json!({"cpu": cpu.to_string(), "memory": memory.to_string()})
}

#[test]
fn each_strategy_scores_as_upstream() {
    let nodes = || {
        [
            node_with(
                node("node1", cores(4000, 10000)),
                &[spec(&[used(2000, 4000)])],
            ),
            node_with(
                node("node2", cores(6000, 10000)),
                &[spec(&[used(1000, 2000)])],
            ),
        ]
    };
    let small = requesting(&[json!({"cpu": "1000", "memory": "2000"})]);
    let large = requesting(&[json!({"cpu": "3000", "memory": "5000"})]);
    let shape = |points: Value| {
        json!({"scoringStrategy": {"type": "RequestedToCapacityRatio",
            "requestedToCapacityRatio": {"shape": points}}})
    };
    let falling = shape(json!([{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}]));
    let rising = shape(json!([{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]));
    let cases = [
        ("RequestedToCapacityRatio case1", falling, &large, [10, 32]),
        ("RequestedToCapacityRatio case2", rising, &large, [95, 68]),
        (
            "MostAllocated",
            json!({"scoringStrategy": {"type": "MostAllocated"}}),
            &small,
            [67, 36],
        ),
        (
            "LeastAllocated",
            json!({"scoringStrategy": {"type": "LeastAllocated"}}),
            &small,
            [32, 63],
        ),
        ("default", json!({}), &small, [32, 63]),
    ];
    for (name, args, pod, want) in cases {
        for pre_score in [true, false] {
            let got = scores(args.clone(), pod, &nodes(), pre_score);
            assert_eq!(got, want, "{name}, PreScore run: {pre_score}");
        }
    }
}

#[test]
fn least_allocated_counts_missing_requests_as_the_defaults() {
    // A container without requests counts as 100m and 200Mi, so the empty
    // node of 1 CPU scores (900*100/1000 + 0) / 2 on cpu and a 200Mi node
    // is full on memory.
    let node = NodeInfo::new(node(
        "n",
        json!({"cpu": "1", "memory": "400Mi", "pods": "32"}),
    ));
    let pod = requesting(&[json!({})]);
    assert_eq!(scores(json!({}), &pod, &[node], true), vec![(90 + 50) / 2]);
}

#[test]
fn weights_and_extended_resources_shape_the_mean() {
    let node = NodeInfo::new(node(
        "n",
        json!({"cpu": "4", "memory": "10", "pods": "32", "example.com/gpu": "4"}),
    ));
    let args = json!({"scoringStrategy": {"type": "MostAllocated", "resources": [
        {"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1},
        {"name": "example.com/gpu", "weight": 2}]}});
    let gpu = requesting(&[json!({"cpu": "1", "memory": "5", "example.com/gpu": "3"})]);
    // cpu 25, memory 50, gpu 75 (weight 2): (25 + 50 + 150) / 4.
    assert_eq!(
        scores(args.clone(), &gpu, std::slice::from_ref(&node), true),
        vec![56]
    );
    // A pod without GPUs is scored on cpu and memory alone.
    let plain = requesting(&[json!({"cpu": "1", "memory": "5"})]);
    assert_eq!(scores(args, &plain, &[node], true), vec![37]);
}

/// A strategy's scores of two nodes, `(allocatable, existing pods'
/// requests)` each, for a pod of `pod` requests.
type Case<'a> = (
    &'a str,
    Value,
    Vec<Value>,
    [(Value, Vec<Value>); 2],
    [i64; 2],
);

fn run(cases: Vec<Case<'_>>) {
    for (name, args, pod, nodes, want) in cases {
        let nodes: Vec<NodeInfo> = nodes
            .into_iter()
            .map(|(allocatable, pods)| {
                let pods: Vec<Value> = pods.iter().map(|r| spec(std::slice::from_ref(r))).collect();
                node_with(node("n", allocatable), &pods)
            })
            .collect();
        let got = scores(args, &requesting(&pod), &nodes, true);
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn least_allocated_favours_the_emptier_node() {
    let args = || json!({"scoringStrategy": {"type": "LeastAllocated"}});
    let pod = || vec![used(1000, 2000), used(2000, 3000)];
    let small = || cores(4000, 10000);
    let big = || cores(10000, 20000);
    let gpu_node = json!({"cpu": "6000", "memory": "10000", "pods": "32", "example.com/gpu": "4"});
    let with_gpu = json!({"scoringStrategy": {"type": "LeastAllocated", "resources": [
        {"name": "cpu"}, {"name": "memory"}, {"name": "example.com/gpu"}]}});
    run(vec![
        (
            "nothing scheduled, nothing requested",
            args(),
            vec![],
            [(small(), vec![]), (small(), vec![])],
            [100, 100],
        ),
        (
            "nothing scheduled, resources requested, differently sized nodes",
            args(),
            pod(),
            [(small(), vec![]), (cores(6000, 10000), vec![])],
            [37, 50],
        ),
        (
            "no resources requested, pods scheduled with resources",
            args(),
            vec![],
            [
                (big(), vec![used(3000, 0), used(3000, 0)]),
                (big(), vec![used(3000, 0), used(3000, 5000)]),
            ],
            [70, 57],
        ),
        (
            "resources requested, pods scheduled with resources",
            args(),
            pod(),
            [
                (big(), vec![used(3000, 0)]),
                (big(), vec![used(3000, 5000)]),
            ],
            [57, 45],
        ),
        (
            "resources requested, pods scheduled with resources, differently sized nodes",
            args(),
            pod(),
            [
                (big(), vec![used(3000, 0)]),
                (cores(10000, 50000), vec![used(3000, 5000)]),
            ],
            [57, 60],
        ),
        (
            "requested resources exceed node capacity",
            args(),
            vec![used(3000, 0)],
            [
                (small(), vec![used(3000, 0)]),
                (small(), vec![used(3000, 5000)]),
            ],
            [50, 25],
        ),
        (
            "zero node resources, pods scheduled with resources",
            args(),
            vec![],
            [
                (json!({"pods": "32"}), vec![used(3000, 0)]),
                (json!({"pods": "32"}), vec![used(3000, 5000)]),
            ],
            [0, 0],
        ),
        (
            "different weight on CPU and memory",
            json!({"scoringStrategy": {"type": "LeastAllocated", "resources": [{"name": "memory", "weight": 2}, {"name": "cpu", "weight": 1}]}}),
            pod(),
            [(small(), vec![]), (cores(6000, 10000), vec![])],
            [41, 50],
        ),
        (
            "bypass extended resource if the pod does not request",
            with_gpu,
            pod(),
            [(cores(6000, 10000), vec![]), (gpu_node, vec![])],
            [50, 50],
        ),
    ]);
}

#[test]
fn most_allocated_favours_the_fuller_node() {
    let args = || json!({"scoringStrategy": {"type": "MostAllocated"}});
    let pod = || vec![used(1000, 2000), used(2000, 3000)];
    let small = || cores(4000, 10000);
    let big = || cores(10000, 20000);
    run(vec![
        (
            "nothing scheduled, nothing requested",
            args(),
            vec![],
            [(small(), vec![]), (small(), vec![])],
            [0, 0],
        ),
        (
            "nothing scheduled, resources requested, differently sized nodes",
            args(),
            pod(),
            [(small(), vec![]), (cores(6000, 10000), vec![])],
            [62, 50],
        ),
        (
            "resources requested, pods scheduled with resources",
            args(),
            pod(),
            [
                (big(), vec![used(3000, 0)]),
                (big(), vec![used(3000, 5000)]),
            ],
            [42, 55],
        ),
        (
            "requested resources exceed node capacity",
            args(),
            vec![used(5000, 0)],
            [
                (small(), vec![used(3000, 0)]),
                (small(), vec![used(3000, 5000)]),
            ],
            [50, 75],
        ),
        (
            "different weight on CPU and memory",
            json!({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "memory", "weight": 2}, {"name": "cpu", "weight": 1}]}}),
            pod(),
            [(small(), vec![]), (cores(6000, 10000), vec![])],
            [58, 50],
        ),
    ]);
}
