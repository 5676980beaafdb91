//! Upstream's `balanced_allocation_test.go` cases, with 1.33's scores:
//! `(1 - std) * 100` over requests as they are.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::test_support::{containers, node, node_with, requesting};
use super::*;

fn plugin(args: Option<Value>) -> Arc<dyn Plugin> {
    let handle = Handle::offline(Default::default());
    new(args.as_ref(), &handle).expect("valid arguments")
}

/// `cpu` milli-CPU and `memory` bytes.
fn res(cpu: i64, memory: i64) -> Value {
    json!({"cpu": format!("{cpu}m"), "memory": memory.to_string(), "pods": "32"})
}

fn spec(requests: &[Value]) -> Value {
    json!({"containers": containers(requests)})
}

/// Two containers of 1 and 2 CPUs, 2000 and 3000 bytes.
fn cpu_and_memory() -> Value {
    spec(&[
        json!({"cpu": "1000m", "memory": "2000"}),
        json!({"cpu": "2000m", "memory": "3000"}),
    ])
}

/// Two containers of 1 and 2 CPUs and no memory.
fn cpu_only() -> Value {
    spec(&[
        json!({"cpu": "1000m", "memory": "0"}),
        json!({"cpu": "2000m", "memory": "0"}),
    ])
}

fn pod_of(spec: Value) -> PodInfo {
    PodInfo::new(Arc::new(super::super::test_support::pod("p", spec)))
}

/// PreScore's status, and each node's score after it.
fn scores(plugin: &dyn Plugin, pod: &PodInfo, nodes: &[NodeInfo]) -> (Status, Vec<i64>) {
    let mut state = CycleState::new();
    let pre = plugin.as_pre_score().expect("a PreScore plugin");
    let status = pre.pre_score(
        &mut state,
        pod,
        &[],
        &Snapshot::default(),
        &Listers::default(),
    );
    let score = plugin.as_score().expect("a Score plugin");
    let scores = nodes
        .iter()
        .map(|node| score.score(&state, pod, node).expect("scored"))
        .collect();
    (status, scores)
}

#[test]
fn nodes_used_evenly_score_highest() {
    let cases = [
        (
            "nothing scheduled, resources requested, differently sized machines",
            cpu_and_memory(),
            [(res(4000, 10000), None), (res(6000, 10000), None)],
            [87, 100],
        ),
        (
            "resources requested, pods scheduled with resources",
            cpu_and_memory(),
            [
                (res(10000, 20000), Some(cpu_only())),
                (res(10000, 20000), Some(cpu_and_memory())),
            ],
            [82, 95],
        ),
        (
            "resources requested, pods scheduled with resources, differently sized machines",
            cpu_and_memory(),
            [
                (res(10000, 20000), Some(cpu_only())),
                (res(10000, 50000), Some(cpu_and_memory())),
            ],
            [82, 80],
        ),
        (
            "requested resources exceed node capacity",
            cpu_only(),
            [
                (res(4000, 10000), Some(cpu_only())),
                (res(4000, 10000), Some(cpu_and_memory())),
            ],
            [50, 75],
        ),
        (
            "zero node resources",
            cpu_and_memory(),
            [
                (res(0, 0), Some(cpu_only())),
                (res(0, 0), Some(cpu_and_memory())),
            ],
            [100, 100],
        ),
    ];
    let plugin = plugin(None);
    for (name, pod, nodes, want) in cases {
        let nodes: Vec<NodeInfo> = nodes
            .into_iter()
            .map(|(allocatable, existing)| {
                let pods: Vec<Value> = existing.into_iter().collect();
                node_with(node("n", allocatable), &pods)
            })
            .collect();
        let (status, got) = scores(&*plugin, &pod_of(pod), &nodes);
        assert!(status.is_success(), "{name}: {status}");
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn a_pod_requesting_nothing_is_not_scored() {
    let plugin = plugin(None);
    let nodes = [NodeInfo::new(node("n", res(4000, 10000)))];
    let best_effort = requesting(&[json!({})]);
    let (status, _) = scores(&*plugin, &best_effort, &nodes);
    assert!(status.is_skip(), "{status}");
    // Scored anyway (no PreScore), it gets nothing.
    let score = plugin.as_score().expect("a Score plugin");
    let got = score.score(&CycleState::new(), &best_effort, &nodes[0]);
    assert_eq!(got, Ok(0));
}

#[test]
fn missing_requests_count_as_nothing_not_as_the_defaults() {
    // 1 CPU of 4 and no memory of 1Gi: std 0.125. Were memory counted as
    // the 200Mi default, the node would look far more even (97).
    let nodes = [NodeInfo::new(node(
        "n",
        json!({"cpu": "4", "memory": "1Gi", "pods": "32"}),
    ))];
    let pod = requesting(&[json!({"cpu": "1"})]);
    assert_eq!(scores(&*plugin(None), &pod, &nodes).1, vec![87]);
}

#[test]
fn three_resources_take_the_standard_deviation() {
    let args =
        json!({"resources": [{"name": "cpu"}, {"name": "memory"}, {"name": "example.com/gpu"}]});
    let plugin = plugin(Some(args));
    let allocatable = json!({"cpu": "4", "memory": "10000", "pods": "32", "example.com/gpu": "4"});
    let nodes = [NodeInfo::new(node("n", allocatable))];
    let gpu = requesting(&[json!({"cpu": "1", "memory": "5000", "example.com/gpu": "3"})]);
    // 0.25, 0.5, 0.75: std sqrt(0.125 / 3).
    assert_eq!(scores(&*plugin, &gpu, &nodes).1, vec![79]);
    // Without GPUs requested, the GPU is left out: 0.25 and 0.5.
    let plain = requesting(&[json!({"cpu": "1", "memory": "5000"})]);
    assert_eq!(scores(&*plugin, &plain, &nodes).1, vec![87]);
}

#[test]
fn bad_arguments_are_refused() {
    let handle = Handle::offline(Default::default());
    let args = json!({"resources": [{"name": "cpu", "weight": 2}]});
    let err = new(Some(&args), &handle).err().expect("refused");
    assert_eq!(
        err,
        "NodeResourcesBalancedAllocationArgs.resources[0].weight: Invalid value: 2: must be 1"
    );
}
