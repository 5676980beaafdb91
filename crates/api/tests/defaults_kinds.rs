//! The defaults of the newer kinds, as upstream's `SetDefaults_*` fill
//! them.

use keelson_api::defaults::apply_defaults;
use keelson_api::registry;
use serde_json::{Value, json};

fn defaulted(group: &str, version: &str, kind: &str, mut object: Value) -> Value {
    let resource = registry::by_kind(group, version, kind).expect("served");
    apply_defaults(resource, &mut object);
    object
}

#[test]
fn cluster_kinds_default_their_policies() {
    let class = defaulted(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        json!({"value": 1}),
    );
    assert_eq!(class["preemptionPolicy"], "PreemptLowerPriority");
    let storage = defaulted(
        "storage.k8s.io",
        "v1",
        "StorageClass",
        json!({"provisioner": "p"}),
    );
    assert_eq!(
        (&storage["reclaimPolicy"], &storage["volumeBindingMode"]),
        (&json!("Delete"), &json!("Immediate"))
    );
    let policy = defaulted(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        json!({"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}}),
    );
    assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(policy["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
    let binding = defaulted(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        json!({"roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}]}),
    );
    assert_eq!(binding["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
    assert_eq!(
        binding["subjects"][0]["apiGroup"],
        "rbac.authorization.k8s.io"
    );
    assert!(binding["subjects"][1].get("apiGroup").is_none());
    let service = defaulted(
        "apiregistration.k8s.io",
        "v1",
        "APIService",
        json!({"spec": {"service": {"namespace": "n", "name": "s"}}}),
    );
    assert_eq!(service["spec"]["service"]["port"], 443);
    let class = defaulted(
        "networking.k8s.io",
        "v1",
        "IngressClass",
        json!({"spec": {"parameters": {"kind": "K", "name": "n"}}}),
    );
    assert_eq!(class["spec"]["parameters"]["scope"], "Cluster");
}

#[test]
fn autoscalers_default_to_cpu_and_fill_their_behavior() {
    let bare = defaulted(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        json!({"spec": {"maxReplicas": 3}}),
    );
    assert_eq!(bare["spec"]["minReplicas"], 1);
    assert_eq!(
        bare["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        80
    );
    assert!(bare["spec"].get("behavior").is_none());
    let tuned = defaulted(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        json!({"spec": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}),
    );
    let behavior = &tuned["spec"]["behavior"];
    assert_eq!(behavior["scaleDown"]["stabilizationWindowSeconds"], 60);
    assert_eq!(
        behavior["scaleDown"]["policies"],
        json!([{"type": "Percent", "value": 100, "periodSeconds": 15}])
    );
    assert_eq!(behavior["scaleUp"]["selectPolicy"], "Max");
    assert_eq!(
        behavior["scaleUp"]["policies"][0],
        json!({"type": "Pods", "value": 4, "periodSeconds": 15})
    );
}

#[test]
fn controllers_take_their_template_labels_and_limits_their_maximums() {
    let controller = defaulted(
        "",
        "v1",
        "ReplicationController",
        json!({"metadata": {"name": "rc"},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
    );
    assert_eq!(controller["spec"]["selector"], json!({"app": "web"}));
    assert_eq!(controller["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(controller["spec"]["replicas"], 1);
    assert_eq!(
        controller["spec"]["template"]["spec"]["restartPolicy"],
        "Always"
    );
    let limits = defaulted(
        "",
        "v1",
        "LimitRange",
        json!({"spec": {"limits": [
            {"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}},
            {"type": "Pod", "max": {"cpu": "4"}},
        ]}}),
    );
    let container = &limits["spec"]["limits"][0];
    assert_eq!(container["default"], json!({"cpu": "2"}));
    assert_eq!(
        container["defaultRequest"],
        json!({"cpu": "2", "memory": "64Mi"})
    );
    assert!(limits["spec"]["limits"][1].get("default").is_none());
}
