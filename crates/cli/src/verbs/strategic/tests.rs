//! Table tests of the three-way patch. The expected patches are what
//! kubectl 1.33 sent for the same (last applied, file, live) against
//! `keelson up` (see `tests/keelson_apply.rs`, which compares them live),
//! without the last-applied annotation.

use serde_json::json;

use super::*;
use keelson_api::strategic_merge::dedupe_scalars;

fn deployment() -> Shape {
    Shape::of("io.k8s.api.apps.v1.Deployment").expect("a served kind")
}

/// A Deployment with this pod spec and (deployment) spec fields.
fn with_pod(pod: Value, spec: Value) -> Value {
    let mut spec = spec;
    spec["template"] = json!({"metadata": {"labels": {"app": "web"}}, "spec": pod});
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}}, "spec": spec})
}

fn container(name: &str, image: &str) -> Value {
    json!({"name": name, "image": image})
}

/// What the server adds to a container.
fn live_container(name: &str, image: &str) -> Value {
    json!({"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log", "resources": {}})
}

#[test]
fn changes_go_alone_and_others_fields_survive() {
    let file = |b: &str| {
        with_pod(
            json!({"containers": [container("a", "nginx:1"), container("b", b)]}),
            json!({}),
        )
    };
    let mut live = with_pod(
        json!({"containers": [live_container("a", "nginx:1"), live_container("b", "busybox:1")],
            "dnsPolicy": "ClusterFirst"}),
        json!({"replicas": 3, "strategy": {"type": "RollingUpdate"}}),
    );
    live["metadata"]["labels"]["team"] = json!("blue");
    live["status"] = json!({"replicas": 3});
    let original = file("busybox:1");
    let cases = [
        (
            file("busybox:2"),
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                "containers": [{"image": "busybox:2", "name": "b"}]}}}}),
        ),
        (file("busybox:1"), json!({})),
    ];
    for (modified, expected) in cases {
        let patch = three_way(Some(&original), &modified, &live, &deployment());
        assert_eq!(patch, Ok(expected), "{modified}");
    }
}

#[test]
fn deletions_use_nulls_delete_items_and_primitive_lists() {
    let volume = |source: Value| {
        let mut volume = source;
        volume["name"] = json!("data");
        volume
    };
    let original = with_pod(
        json!({"containers": [container("a", "nginx:1"), container("b", "busybox:2")],
            "volumes": [volume(json!({"emptyDir": {}}))]}),
        json!({}),
    );
    let mut original = original;
    original["metadata"]["finalizers"] = json!(["example.com/a", "example.com/b"]);
    original["metadata"]["annotations"] = json!({"tier": "front"});
    let mut modified = with_pod(
        json!({"containers": [container("a", "nginx:1")],
            "volumes": [volume(json!({"configMap": {"name": "settings"}}))]}),
        json!({}),
    );
    modified["metadata"]["finalizers"] = json!(["example.com/b"]);
    modified["metadata"]["annotations"] = json!({});
    let mut live = with_pod(
        json!({"containers": [live_container("c", "envoy:1"), live_container("a", "nginx:1"),
                live_container("b", "busybox:2")],
            "volumes": [volume(json!({"emptyDir": {}}))]}),
        json!({"replicas": 3}),
    );
    live["metadata"]["finalizers"] = json!(["example.com/a", "example.com/b"]);
    live["metadata"]["annotations"] = json!({"tier": "front", "other": "x"});
    let expected = json!({
        "metadata": {
            "$deleteFromPrimitiveList/finalizers": ["example.com/a"],
            "$setElementOrder/finalizers": ["example.com/b"],
            "annotations": {"tier": null}},
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "$setElementOrder/volumes": [{"name": "data"}],
            "containers": [{"$patch": "delete", "name": "b"}],
            "volumes": [{"$retainKeys": ["configMap", "name"],
                "configMap": {"name": "settings"}, "emptyDir": null, "name": "data"}]}}}});
    let patch = three_way(Some(&original), &modified, &live, &deployment());
    assert_eq!(patch, Ok(expected));
}

#[test]
fn strategy_switches_and_nested_lists_reorder() {
    let a = |env: Value| json!({"name": "a", "image": "nginx:1", "env": env});
    let mode = json!({"name": "MODE", "value": "one"});
    let debug = json!({"name": "DEBUG", "value": "true"});
    let level = json!({"name": "LEVEL", "value": "2"});
    let rolling = json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}});
    let original = with_pod(
        json!({"containers": [a(json!([mode, debug, level])), container("b", "busybox:1")]}),
        rolling,
    );
    let modified = with_pod(
        json!({"containers": [container("b", "busybox:1"), a(json!([mode, level]))]}),
        json!({"strategy": {"type": "Recreate"}}),
    );
    let live = with_pod(
        json!({"containers": [a(json!([mode, debug, level])), container("b", "busybox:1")]}),
        json!({"replicas": 3, "strategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}}}),
    );
    let expected = json!({"spec": {
        "strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"},
        "template": {"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"$setElementOrder/env": [{"name": "MODE"}, {"name": "LEVEL"}],
                "env": [{"$patch": "delete", "name": "DEBUG"}], "name": "a"}]}}}});
    let patch = three_way(Some(&original), &modified, &live, &deployment());
    assert_eq!(patch, Ok(expected));
}

#[test]
fn a_server_only_item_sends_the_order_alone() {
    let file = with_pod(
        json!({"containers": [container("a", "nginx:1")]}),
        json!({}),
    );
    let live = with_pod(
        json!({"containers": [live_container("c", "envoy:1"), live_container("a", "nginx:1")]}),
        json!({}),
    );
    let expected = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "a"}]}}}});
    assert_eq!(
        three_way(Some(&file), &file, &live, &deployment()),
        Ok(expected)
    );
}

#[test]
fn without_a_last_apply_nothing_is_deleted() {
    let file = with_pod(
        json!({"containers": [container("a", "nginx:2")]}),
        json!({}),
    );
    let live = with_pod(
        json!({"containers": [live_container("a", "nginx:1"), live_container("b", "x")]}),
        json!({"paused": true}),
    );
    let expected = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "a"}],
        "containers": [{"image": "nginx:2", "name": "a"}]}}}});
    assert_eq!(three_way(None, &file, &live, &deployment()), Ok(expected));
}

#[test]
fn lists_without_merge_strategy_go_whole_and_bad_items_fail() {
    let original = with_pod(
        json!({"containers": [{"name": "a", "image": "x", "args": ["1", "2"]}]}),
        json!({}),
    );
    let modified = with_pod(
        json!({"containers": [{"name": "a", "image": "x", "args": ["1"]}]}),
        json!({}),
    );
    let expected = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "a"}],
        "containers": [{"args": ["1"], "name": "a"}]}}}});
    assert_eq!(
        three_way(Some(&original), &modified, &original, &deployment()),
        Ok(expected)
    );
    let nameless = with_pod(json!({"containers": [{"image": "x"}]}), json!({}));
    let err = three_way(Some(&original), &nameless, &original, &deployment())
        .expect_err("an item without its merge key");
    assert_eq!(
        err.to_string(),
        "map: {\"image\":\"x\"} does not contain declared merge key: name"
    );
}

#[test]
fn repeated_scalars_are_dropped_as_upstream_drops_them() {
    let cases = [
        (json!(["a", "b", "a", "c"]), json!(["a", "b", "c"])),
        (json!(["a", "a", "b", "b"]), json!(["a", "b"])),
        (json!(["x", "y", "z", "x"]), json!(["x", "y", "z"])),
        (
            json!(["a", "b", "b", "c", "d"]),
            json!(["a", "b", "d", "c"]),
        ),
        (json!([]), json!([])),
    ];
    for (items, expected) in cases {
        let items = items.as_array().cloned().unwrap_or_default();
        assert_eq!(Value::Array(dedupe_scalars(items)), expected);
    }
}

#[test]
fn kinds_are_go_reflection_kinds() {
    assert_eq!(kind(&json!(1)), Kind::Int);
}
