//! Upstream's `fit_test.go` tables: the reasons Filter gives, the scores
//! of each strategy, and the events registered.

use std::sync::Arc;

use serde_json::{Value, json};

use super::super::test_support::{containers, node, node_with, requesting};
use super::*;
use crate::framework::{ClusterEvent, Code};

fn plugin(args: Value) -> Arc<dyn Plugin> {
    let handle = Handle::offline(Default::default());
    new(Some(&args), &handle).expect("valid arguments")
}

/// Requests of `cpu` milli-CPU and `memory` bytes, and `more`.
fn req(cpu: i64, memory: i64, more: Value) -> Value {
    let mut list = json!({"cpu": format!("{cpu}m"), "memory": memory.to_string()});
    if let (Some(list), Some(more)) = (list.as_object_mut(), more.as_object()) {
        list.extend(more.clone());
    }
    list
}

fn spec(requests: &[Value]) -> Value {
    json!({"containers": containers(requests)})
}

fn with_init(requests: &[Value], init: &[Value]) -> Value {
    json!({"containers": containers(requests), "initContainers": containers(init)})
}

/// PreFilter then Filter of `pod` on `node`.
fn filter(plugin: &dyn Plugin, pod: &Value, node: &NodeInfo) -> Status {
    let pod = PodInfo::new(Arc::new(super::super::test_support::pod("p", pod.clone())));
    let mut state = CycleState::new();
    let pre_filter = plugin.as_pre_filter().expect("a PreFilter plugin");
    let (_, status) =
        pre_filter.pre_filter(&mut state, &pod, &Snapshot::default(), &Listers::default());
    assert!(status.is_success(), "{status}");
    plugin
        .as_filter()
        .expect("a Filter plugin")
        .filter(&state, &pod, node)
}

fn unschedulable(reasons: &[&str]) -> Status {
    Status::new(Code::Unschedulable, reasons.iter().copied())
}

#[test]
fn filter_names_every_resource_short_on_the_node() {
    let no = json!({});
    let aaa = |n: i64| json!({"example.com/aaa": n.to_string()});
    let ignored_bbb = json!({"ignoredResources": ["example.com/bbb"]});
    let ignored_group = json!({"ignoredResourceGroups": ["example.com"]});
    let overhead = |cpu: &str, memory: &str| {
        let mut spec = spec(&[req(1, 1, json!({}))]);
        spec["overhead"] = json!({"cpu": cpu, "memory": memory});
        spec
    };
    let cases: Vec<(&str, Value, Value, Value, Vec<&str>)> = vec![
        (
            "no resources requested always fits",
            json!({"containers": []}),
            req(10, 20, json!({})),
            no.clone(),
            vec![],
        ),
        (
            "too many resources fails",
            spec(&[req(1, 1, json!({}))]),
            req(10, 20, json!({})),
            no.clone(),
            vec!["Insufficient cpu", "Insufficient memory"],
        ),
        (
            "too many resources fails due to init container cpu",
            with_init(&[req(1, 1, json!({}))], &[req(3, 1, json!({}))]),
            req(8, 19, json!({})),
            no.clone(),
            vec!["Insufficient cpu"],
        ),
        (
            "too many resources fails due to highest init container cpu",
            with_init(
                &[req(1, 1, json!({}))],
                &[req(3, 1, json!({})), req(2, 1, json!({}))],
            ),
            req(8, 19, json!({})),
            no.clone(),
            vec!["Insufficient cpu"],
        ),
        (
            "too many resources fails due to init container memory",
            with_init(&[req(1, 1, json!({}))], &[req(1, 3, json!({}))]),
            req(9, 19, json!({})),
            no.clone(),
            vec!["Insufficient memory"],
        ),
        (
            "init container fits because it's the max, not sum",
            with_init(
                &[req(1, 1, json!({}))],
                &[req(1, 1, json!({})), req(1, 1, json!({}))],
            ),
            req(9, 19, json!({})),
            no.clone(),
            vec![],
        ),
        (
            "both resources fit",
            spec(&[req(1, 1, json!({}))]),
            req(5, 5, json!({})),
            no.clone(),
            vec![],
        ),
        (
            "one resource memory fits",
            spec(&[req(2, 1, json!({}))]),
            req(9, 5, json!({})),
            no.clone(),
            vec!["Insufficient cpu"],
        ),
        (
            "one resource cpu fits",
            spec(&[req(1, 2, json!({}))]),
            req(5, 19, json!({})),
            no.clone(),
            vec!["Insufficient memory"],
        ),
        (
            "equal edge case",
            spec(&[req(5, 1, json!({}))]),
            req(5, 19, json!({})),
            no.clone(),
            vec![],
        ),
        (
            "equal edge case for init container",
            with_init(&[req(4, 1, json!({}))], &[req(5, 1, json!({}))]),
            req(5, 19, json!({})),
            no.clone(),
            vec![],
        ),
        (
            "extended resource fits",
            spec(&[aaa(1)]),
            json!({}),
            no.clone(),
            vec![],
        ),
        (
            "extended resource capacity enforced",
            spec(&[req(1, 1, aaa(10))]),
            req(0, 0, aaa(0)),
            no.clone(),
            vec!["Insufficient example.com/aaa"],
        ),
        (
            "extended resource capacity enforced for init container",
            with_init(&[], &[req(1, 1, aaa(10))]),
            req(0, 0, aaa(0)),
            no.clone(),
            vec!["Insufficient example.com/aaa"],
        ),
        (
            "extended resource allocatable enforced",
            spec(&[req(1, 1, aaa(1))]),
            req(0, 0, aaa(5)),
            no.clone(),
            vec!["Insufficient example.com/aaa"],
        ),
        (
            "extended resource allocatable enforced for multiple containers",
            spec(&[req(1, 1, aaa(3)), req(1, 1, aaa(3))]),
            req(0, 0, aaa(2)),
            no.clone(),
            vec!["Insufficient example.com/aaa"],
        ),
        (
            "extended resource allocatable admits multiple init containers",
            with_init(&[], &[req(1, 1, aaa(3)), req(1, 1, aaa(3))]),
            req(0, 0, aaa(2)),
            no.clone(),
            vec![],
        ),
        (
            "extended resource allocatable enforced for multiple init containers",
            with_init(&[], &[req(1, 1, aaa(6)), req(1, 1, aaa(3))]),
            req(0, 0, aaa(2)),
            no.clone(),
            vec!["Insufficient example.com/aaa"],
        ),
        (
            "extended resource allocatable enforced for unknown resource",
            spec(&[req(1, 1, json!({"example.com/bbb": "1"}))]),
            req(0, 0, json!({})),
            no.clone(),
            vec!["Insufficient example.com/bbb"],
        ),
        (
            "kubernetes.io resource capacity enforced",
            spec(&[req(1, 1, json!({"kubernetes.io/something": "10"}))]),
            req(0, 0, json!({})),
            no.clone(),
            vec!["Insufficient kubernetes.io/something"],
        ),
        (
            "hugepages resource capacity enforced",
            spec(&[req(1, 1, json!({"hugepages-2Mi": "10"}))]),
            req(0, 0, json!({"hugepages-2Mi": "0"})),
            no.clone(),
            vec!["Insufficient hugepages-2Mi"],
        ),
        (
            "hugepages resource allocatable enforced for multiple containers",
            spec(&[
                req(1, 1, json!({"hugepages-2Mi": "3"})),
                req(1, 1, json!({"hugepages-2Mi": "3"})),
            ]),
            req(0, 0, json!({"hugepages-2Mi": "2"})),
            no.clone(),
            vec!["Insufficient hugepages-2Mi"],
        ),
        (
            "skip checking ignored extended resource",
            spec(&[req(1, 1, json!({"example.com/bbb": "1"}))]),
            req(0, 0, json!({})),
            ignored_bbb.clone(),
            vec![],
        ),
        (
            "resources + pod overhead fits",
            overhead("3m", "13"),
            req(5, 5, json!({})),
            no.clone(),
            vec![],
        ),
        (
            "requests + overhead does not fit for memory",
            overhead("1m", "15"),
            req(5, 5, json!({})),
            no.clone(),
            vec!["Insufficient memory"],
        ),
        (
            "skip checking ignored extended resource via resource groups",
            spec(&[req(
                1,
                1,
                json!({"example.com/bbb": "1", "kubernetes.io/something": "1"}),
            )]),
            req(0, 0, json!({})),
            ignored_group.clone(),
            vec!["Insufficient kubernetes.io/something"],
        ),
        (
            "skip checking extended resource request with quantity zero",
            spec(&[req(1, 1, aaa(0))]),
            req(0, 0, aaa(6)),
            no.clone(),
            vec![],
        ),
        (
            "skip checking resource request with quantity zero",
            spec(&[req(0, 0, aaa(1))]),
            req(20, 30, aaa(1)),
            no.clone(),
            vec![],
        ),
        (
            "ignored groups leave kubernetes.io resources checked",
            spec(&[req(0, 0, json!({"kubernetes.io/something": "1"}))]),
            json!({}),
            json!({"ignoredResourceGroups": ["kubernetes.io"]}),
            vec!["Insufficient kubernetes.io/something"],
        ),
    ];
    let allocatable = json!({
        "cpu": "10m", "memory": "20", "pods": "32", "example.com/aaa": "5",
        "ephemeral-storage": "20", "hugepages-2Mi": "5",
    });
    for (name, pod, existing, args, want) in cases {
        let node = node_with(node("n", allocatable.clone()), &[spec(&[existing])]);
        let want = if want.is_empty() {
            Status::success()
        } else {
            unschedulable(&want)
        };
        assert_eq!(filter(&*plugin(args), &pod, &node), want, "{name}");
    }
}

#[test]
fn a_full_node_has_too_many_pods_whatever_is_requested() {
    let allocatable = json!({"cpu": "10m", "memory": "20", "pods": "1"});
    let cases = [
        (
            json!({"containers": []}),
            req(10, 20, json!({})),
            vec!["Too many pods"],
        ),
        (
            spec(&[req(1, 1, json!({}))]),
            req(5, 5, json!({})),
            vec!["Too many pods"],
        ),
        (
            with_init(&[req(5, 1, json!({}))], &[req(5, 1, json!({}))]),
            req(5, 19, json!({})),
            vec!["Too many pods"],
        ),
        (
            spec(&[req(6, 2, json!({}))]),
            req(5, 19, json!({})),
            vec!["Too many pods", "Insufficient cpu", "Insufficient memory"],
        ),
    ];
    for (pod, existing, want) in cases {
        let node = node_with(node("n", allocatable.clone()), &[spec(&[existing])]);
        assert_eq!(
            filter(&*plugin(json!({})), &pod, &node),
            unschedulable(&want),
            "{pod}"
        );
    }
}

#[test]
fn ephemeral_storage_is_checked_like_cpu_and_memory() {
    let allocatable =
        json!({"cpu": "10m", "memory": "20", "pods": "32", "ephemeral-storage": "20"});
    let storage = |n: i64| json!({"ephemeral-storage": n.to_string()});
    let cases = [
        (
            spec(&[req(1, 1, json!({}))]),
            req(2, 10, json!({})),
            Status::success(),
        ),
        (
            spec(&[storage(25)]),
            req(2, 2, json!({})),
            unschedulable(&["Insufficient ephemeral-storage"]),
        ),
        (
            spec(&[storage(5)]),
            req(2, 2, storage(10)),
            Status::success(),
        ),
        (
            spec(&[storage(10)]),
            req(2, 2, storage(11)),
            unschedulable(&["Insufficient ephemeral-storage"]),
        ),
    ];
    for (pod, existing, want) in cases {
        let node = node_with(node("n", allocatable.clone()), &[spec(&[existing])]);
        assert_eq!(filter(&*plugin(json!({})), &pod, &node), want, "{pod}");
    }
}

#[test]
fn a_sidecar_counts_beside_the_containers() {
    let allocatable = json!({"cpu": "10m", "memory": "20", "pods": "32"});
    let node = node_with(node("n", allocatable), &[spec(&[req(8, 18, json!({}))])]);
    let mut pod = with_init(&[req(1, 1, json!({}))], &[req(2, 1, json!({}))]);
    // As a plain init container it runs alone: 2m and 1 byte fit.
    assert_eq!(filter(&*plugin(json!({})), &pod, &node), Status::success());
    pod["initContainers"][0]["restartPolicy"] = json!("Always");
    let want = unschedulable(&["Insufficient cpu"]);
    assert_eq!(filter(&*plugin(json!({})), &pod, &node), want);
}

#[test]
fn filter_without_pre_filter_is_an_error() {
    let plugin = plugin(json!({}));
    let pod = requesting(&[req(1, 1, json!({}))]);
    let node = NodeInfo::new(node("n", json!({"pods": "1"})));
    let status = plugin
        .as_filter()
        .expect("a Filter")
        .filter(&CycleState::new(), &pod, &node);
    assert_eq!(status.code(), Code::Error);
    assert!(status.message().contains("PreFilterNodeResourcesFit"));
}

#[test]
fn registers_pod_and_node_events() {
    let events = plugin(json!({})).events_to_register().expect("registered");
    let covered = |resource, action| {
        let event = ClusterEvent::new(resource, action);
        events.iter().any(|e| e.event.covers(&event))
    };
    assert!(covered(EventResource::AssignedPod, ActionType::DELETE));
    assert!(covered(
        EventResource::AssignedPod,
        ActionType::UPDATE_POD_SCALE_DOWN
    ));
    assert!(covered(EventResource::Node, ActionType::ADD));
    assert!(covered(
        EventResource::Node,
        ActionType::UPDATE_NODE_ALLOCATABLE
    ));
    assert!(!covered(EventResource::AssignedPod, ActionType::ADD));
    assert!(!covered(EventResource::Node, ActionType::UPDATE_NODE_LABEL));
}
