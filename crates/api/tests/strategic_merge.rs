//! Strategic merge patch on pure inputs: each directive and each kind of
//! list, with the results upstream's `StrategicMergeMapPatch` gives.

use keelson_api::list_types;
use keelson_api::strategic_merge::{Error, apply};
use serde_json::{Value, json};

const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";
const POD: &str = "io.k8s.api.core.v1.Pod";
const SERVICE: &str = "io.k8s.api.core.v1.Service";

/// A Deployment whose pod template has `containers` and the `volumes`.
fn deployment(containers: Value, volumes: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"spec": {"containers": containers, "volumes": volumes}},
        },
    })
}

/// A patch of the pod template's spec.
fn template_patch(spec: Value) -> Value {
    json!({"spec": {"template": {"spec": spec}}})
}

fn containers(object: &Value) -> &Value {
    &object["spec"]["template"]["spec"]["containers"]
}

fn two_containers() -> Value {
    json!([
        {"name": "a", "image": "nginx:1", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
         "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}]},
        {"name": "b", "image": "busybox:1", "args": ["sleep", "1"]},
    ])
}

struct Case {
    name: &'static str,
    patch: Value,
    /// The containers after the patch.
    expected: Value,
}

#[test]
fn container_lists_merge_by_name_and_nested_lists_by_their_keys() {
    let cases = [
        Case {
            name: "an image changes, the other container stays",
            patch: template_patch(json!({"containers": [{"name": "b", "image": "busybox:2"}]})),
            expected: json!([two_containers()[0], {"name": "b", "image": "busybox:2", "args": ["sleep", "1"]}]),
        },
        Case {
            name: "env inside a container merges by name",
            patch: template_patch(
                json!({"containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}, {"name": "Z", "value": "4"}]}]}),
            ),
            expected: {
                let mut expected = two_containers();
                expected[0]["env"] = json!([{"name": "X", "value": "1"}, {"name": "Y", "value": "3"}, {"name": "Z", "value": "4"}]);
                expected
            },
        },
        Case {
            name: "ports merge by containerPort",
            patch: template_patch(
                json!({"containers": [{"name": "a", "ports": [{"containerPort": 443, "name": "https"}]}]}),
            ),
            expected: {
                let mut expected = two_containers();
                expected[0]["ports"][1]["name"] = json!("https");
                expected
            },
        },
        Case {
            name: "a list without a patch strategy is replaced",
            patch: template_patch(
                json!({"containers": [{"name": "b", "args": ["sleep", "2", "3"]}]}),
            ),
            expected: {
                let mut expected = two_containers();
                expected[1]["args"] = json!(["sleep", "2", "3"]);
                expected
            },
        },
        Case {
            name: "$patch: delete removes one container",
            patch: template_patch(json!({"containers": [{"name": "a", "$patch": "delete"}]})),
            expected: json!([two_containers()[1]]),
        },
        Case {
            name: "$patch: delete of an env var inside a container",
            patch: template_patch(
                json!({"containers": [{"name": "a", "env": [{"name": "X", "$patch": "delete"}]}]}),
            ),
            expected: {
                let mut expected = two_containers();
                expected[0]["env"] = json!([{"name": "Y", "value": "2"}]);
                expected
            },
        },
        Case {
            name: "$patch: replace makes the patch's items the whole list",
            patch: template_patch(
                json!({"containers": [{"name": "c", "image": "redis"}, {"$patch": "replace"}]}),
            ),
            expected: json!([{"name": "c", "image": "redis"}]),
        },
        Case {
            name: "null deletes a field of a container",
            patch: template_patch(json!({"containers": [{"name": "b", "args": null}]})),
            expected: json!([two_containers()[0], {"name": "b", "image": "busybox:1"}]),
        },
        Case {
            // With no `$setElementOrder`, an item the server does not know
            // cannot be placed among the server's items: it goes first.
            name: "a new container is added without directives or nulls",
            patch: template_patch(
                json!({"containers": [{"name": "c", "image": "redis", "command": null,
                "$setElementOrder/env": [{"name": "E"}], "env": [{"name": "E", "value": "1"}, {"name": "F", "$patch": "delete"}]}]}),
            ),
            expected: json!([{"name": "c", "image": "redis", "env": [{"name": "E", "value": "1"}]}, two_containers()[0], two_containers()[1]]),
        },
        Case {
            name: "$setElementOrder reorders without changing items",
            patch: template_patch(
                json!({"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}),
            ),
            expected: json!([two_containers()[1], two_containers()[0]]),
        },
        Case {
            name: "$setElementOrder places a new item where it says",
            patch: template_patch(json!({
                "$setElementOrder/containers": [{"name": "a"}, {"name": "n"}, {"name": "b"}],
                "containers": [{"name": "n", "image": "new"}],
            })),
            expected: json!([two_containers()[0], {"name": "n", "image": "new"}, two_containers()[1]]),
        },
        Case {
            name: "items absent from $setElementOrder keep their place",
            patch: template_patch(json!({
                "$setElementOrder/containers": [{"name": "b"}],
                "containers": [{"name": "b", "image": "busybox:3"}],
            })),
            expected: json!([two_containers()[0], {"name": "b", "image": "busybox:3", "args": ["sleep", "1"]}]),
        },
        Case {
            name: "without $setElementOrder the patch's order wins",
            patch: template_patch(
                json!({"containers": [{"name": "b", "image": "b"}, {"name": "a", "image": "a"}]}),
            ),
            expected: {
                let mut expected = two_containers();
                expected[0]["image"] = json!("a");
                expected[1]["image"] = json!("b");
                json!([expected[1], expected[0]])
            },
        },
    ];
    let original = deployment(two_containers(), json!([]));
    for case in cases {
        let patched = apply(DEPLOYMENT, &original, &case.patch)
            .unwrap_or_else(|err| panic!("{}: {err}", case.name));
        assert_eq!(containers(&patched), &case.expected, "{}", case.name);
        assert_eq!(patched["metadata"], original["metadata"], "{}", case.name);
        assert_eq!(patched["spec"]["replicas"], 2, "{}", case.name);
    }
}

#[test]
fn maps_merge_and_null_deletes() {
    let original = deployment(two_containers(), json!([]));
    let patch =
        json!({"metadata": {"labels": {"tier": null, "env": "prod"}}, "spec": {"replicas": 3}});
    let patched = apply(DEPLOYMENT, &original, &patch).expect("applies");
    assert_eq!(
        patched["metadata"]["labels"],
        json!({"app": "web", "env": "prod"})
    );
    assert_eq!(patched["spec"]["replicas"], 3);
    assert_eq!(containers(&patched), &two_containers());
}

#[test]
fn patch_directives_on_maps_replace_or_empty_them() {
    let original = deployment(two_containers(), json!([]));
    let replace = json!({"metadata": {"labels": {"$patch": "replace", "only": "this"}}});
    let patched = apply(DEPLOYMENT, &original, &replace).expect("applies");
    assert_eq!(patched["metadata"]["labels"], json!({"only": "this"}));

    let delete = json!({"metadata": {"labels": {"$patch": "delete"}}});
    let patched = apply(DEPLOYMENT, &original, &delete).expect("applies");
    assert_eq!(patched["metadata"]["labels"], json!({}));
}

#[test]
fn retain_keys_drops_rolling_update_when_switching_to_recreate() {
    let original = deployment(two_containers(), json!([]));
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
    let patched = apply(DEPLOYMENT, &original, &patch).expect("applies");
    assert_eq!(patched["spec"]["strategy"], json!({"type": "Recreate"}));
    // The strategy that tells kubectl to send `$retainKeys` there.
    assert_eq!(
        list_types::struct_field_strategy("io.k8s.api.apps.v1.DeploymentSpec", "strategy"),
        Some(list_types::PatchStrategy::RetainKeys)
    );
}

#[test]
fn retain_keys_on_volumes_switches_the_volume_source() {
    let original = deployment(
        two_containers(),
        json!([{"name": "data", "emptyDir": {}}, {"name": "conf", "configMap": {"name": "c"}}]),
    );
    let patch = template_patch(json!({"volumes": [
        {"name": "data", "$retainKeys": ["hostPath", "name"], "hostPath": {"path": "/srv"}},
    ]}));
    let patched = apply(DEPLOYMENT, &original, &patch).expect("applies");
    assert_eq!(
        patched["spec"]["template"]["spec"]["volumes"],
        json!([{"name": "data", "hostPath": {"path": "/srv"}}, {"name": "conf", "configMap": {"name": "c"}}])
    );
}

fn pod_with_finalizers(finalizers: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "finalizers": finalizers},
           "spec": {"containers": [{"name": "a", "image": "x"}]}})
}

#[test]
fn primitive_lists_with_merge_strategy_are_sets() {
    let original = pod_with_finalizers(json!(["a", "b", "c"]));
    let deleted = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "nope"]}});
    let patched = apply(POD, &original, &deleted).expect("applies");
    assert_eq!(patched["metadata"]["finalizers"], json!(["a", "c"]));

    // The union keeps each value once; the patch's values follow its order
    // and the server's others come after the patch items they followed.
    let added = json!({"metadata": {"finalizers": ["d", "a"]}});
    let patched = apply(POD, &original, &added).expect("applies");
    assert_eq!(
        patched["metadata"]["finalizers"],
        json!(["d", "a", "b", "c"])
    );

    // upstream's "preserve the order from the patch in a merging int list".
    let reordered = json!({"metadata": {"finalizers": ["c", "a"]}});
    let patched = apply(POD, &original, &reordered).expect("applies");
    assert_eq!(patched["metadata"]["finalizers"], json!(["b", "c", "a"]));

    let ordered = json!({"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"]}});
    let patched = apply(POD, &original, &ordered).expect("applies");
    assert_eq!(patched["metadata"]["finalizers"], json!(["c", "b", "a"]));
}

#[test]
fn service_ports_merge_by_port() {
    let original = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}});
    let patch = json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}});
    let patched = apply(SERVICE, &original, &patch).expect("applies");
    assert_eq!(
        patched["spec"]["ports"],
        json!([{"port": 80, "targetPort": 9090}, {"port": 443, "targetPort": 8443}])
    );
}

#[test]
fn scale_is_patched_as_a_plain_object() {
    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replicas": 1}});
    let patched = apply(
        "io.k8s.api.autoscaling.v1.Scale",
        &scale,
        &json!({"spec": {"replicas": 4}}),
    )
    .expect("applies");
    assert_eq!(patched["spec"]["replicas"], 4);
}

#[test]
fn malformed_directives_are_errors_with_upstream_messages() {
    let original = deployment(two_containers(), json!([]));
    let malformed = |message: &str| Error::Malformed(message.to_string());
    let inapplicable = |message: &str| Error::Inapplicable(message.to_string());
    let cases = [
        (
            template_patch(json!({"containers": [{"image": "x"}]})),
            inapplicable("map: map[image:x] does not contain declared merge key: name"),
        ),
        (
            json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
            malformed("invalid patch format of retainKeys"),
        ),
        (
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
            malformed("invalid patch format of retainKeys"),
        ),
        (
            template_patch(json!({"$setElementOrderX/containers": []})),
            malformed("invalid patch format of setElementOrder list"),
        ),
        (
            json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}}),
            malformed("invalid patch format of primitive list"),
        ),
        (
            template_patch(json!({"containers": [{"name": "a", "$patch": "merge"}]})),
            inapplicable("merging lists cannot yet be specified in the patch"),
        ),
        (
            json!({"metadata": {"labels": {"$patch": "keep"}}}),
            inapplicable("unknown patch type: keep in map: map[$patch:keep]"),
        ),
        (
            template_patch(json!({
                "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                "containers": [{"name": "b", "image": "1"}, {"name": "a", "image": "2"}],
            })),
            inapplicable(
                "The order in patch list:\n[map[image:1 name:b] map[image:2 name:a]]\n doesn't match $setElementOrder list:\n[map[name:a] map[name:b]]\n",
            ),
        ),
        (
            json!({"metadata": {"finalizers": [["a"]]}}),
            Error::Unsupported("lists of lists are not supported".into()),
        ),
    ];
    let original = {
        let mut original = original;
        original["metadata"]["finalizers"] = json!(["f"]);
        original
    };
    for (patch, expected) in cases {
        assert_eq!(
            apply(DEPLOYMENT, &original, &patch),
            Err(expected),
            "{patch}"
        );
    }
    assert_eq!(
        apply("io.example.v1.Widget", &json!({}), &json!({})),
        Err(Error::UnknownKind("io.example.v1.Widget".into()))
    );
}

#[test]
fn no_directive_reaches_the_result() {
    let original = deployment(two_containers(), json!([]));
    let patch = json!({
        "metadata": {"annotations": {"$patch": "delete"}},
        "spec": {"selector": {"matchLabels": {"app": "web"}, "$retainKeys": ["matchLabels"]},
                 "template": {"metadata": {"labels": {"a": "b", "c": {"$patch": "delete"}}}}},
    });
    let patched = apply(DEPLOYMENT, &original, &patch).expect("applies");
    let text = patched.to_string();
    assert!(!text.contains('$'), "{text}");
    assert_eq!(
        patched["spec"]["template"]["metadata"]["labels"],
        json!({"a": "b"})
    );
    assert_eq!(
        patched["spec"]["selector"],
        json!({"matchLabels": {"app": "web"}})
    );
}
