//! The policy, scheduling, storage, events, networking, autoscaling, core
//! controller and quota, RBAC and apiregistration kinds through kube-rs:
//! each is created, read, listed, merge-patched, applied server-side and
//! deleted; bad input is a 422 naming the field; events.k8s.io and core
//! Events are the same objects; protobuf bodies of the new kinds are read.
//! The RBAC kinds, an Ingress, an autoscaler and a budget run on both
//! stores.

#![allow(clippy::unwrap_used)]

mod support;

use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use prost::Message;
use serde_json::{Value, json};
use support::{Server, embedded, failure};

on_every_backend!(
    rbac_kinds_round_trip,
    ingress_autoscaler_and_budget_round_trip
);

/// One kind's journey: what to create, a merge patch and an apply, each
/// with the field it changes.
struct Case {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    name: &'static str,
    body: Value,
    patch: (Value, &'static str, Value),
    apply: (Value, &'static str, Value),
}

fn labelled(key: &str) -> Value {
    json!({"metadata": {"labels": {key: "yes"}}})
}

fn template() -> Value {
    json!({"metadata": {"labels": {"app": "web"}},
           "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}})
}

fn rule() -> Value {
    json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]})
}

fn cases() -> Vec<Case> {
    let case = |group, version, kind, plural, namespaced, name, body, patch, apply| Case {
        group,
        version,
        kind,
        plural,
        namespaced,
        name,
        body,
        patch,
        apply,
    };
    vec![
        case("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, "web",
            json!({"spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
            (json!({"spec": {"minAvailable": 2}}), "/spec/minAvailable", json!(2)),
            (json!({"spec": {"minAvailable": "50%"}}), "/spec/minAvailable", json!("50%"))),
        case("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, "high",
            json!({"value": 1000}),
            (json!({"description": "merged"}), "/description", json!("merged")),
            (json!({"value": 1000, "description": "applied"}), "/description", json!("applied"))),
        case("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, "fast",
            json!({"provisioner": "example.com/fast"}),
            (json!({"allowVolumeExpansion": true}), "/allowVolumeExpansion", json!(true)),
            (json!({"provisioner": "example.com/fast", "mountOptions": ["ro"]}), "/mountOptions/0", json!("ro"))),
        case("storage.k8s.io", "v1", "CSINode", "csinodes", false, "n1",
            json!({"spec": {"drivers": [{"name": "csi.example.com", "nodeID": "n1",
                   "allocatable": {"count": 8}}]}}),
            (json!({"metadata": {"labels": {"a": "b"}}}), "/metadata/labels/a", json!("b")),
            (json!({"spec": {"drivers": [{"name": "csi.example.com", "nodeID": "n1",
                   "allocatable": {"count": 16}}]}}), "/spec/drivers/0/allocatable/count", json!(16))),
        case("events.k8s.io", "v1", "Event", "events", true, "web.1",
            json!({"eventTime": "2025-01-01T00:00:00.000000Z", "type": "Normal",
                   "reportingController": "example.com/ctl", "reportingInstance": "ctl-1",
                   "action": "Scale", "reason": "Scaled", "note": "scaled up",
                   "regarding": {"kind": "Deployment", "name": "web", "namespace": "default"}}),
            (labelled("patched"), "/metadata/labels/patched", json!("yes")),
            (json!({"series": {"count": 2, "lastObservedTime": "2025-01-01T00:01:00.000000Z"}}), "/series/count", json!(2))),
        case("networking.k8s.io", "v1", "Ingress", "ingresses", true, "web",
            json!({"spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}),
            (json!({"spec": {"ingressClassName": "nginx"}}), "/spec/ingressClassName", json!("nginx")),
            (json!({"spec": {"rules": [{"host": "a.example.com"}]}}), "/spec/rules/0/host", json!("a.example.com"))),
        case("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, "nginx",
            json!({"spec": {"controller": "example.com/ingress"}}),
            (labelled("patched"), "/metadata/labels/patched", json!("yes")),
            (json!({"spec": {"parameters": {"kind": "Params", "name": "p"}}}), "/spec/parameters/scope", json!("Cluster"))),
        case("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, "deny",
            json!({"spec": {"podSelector": {}}}),
            (json!({"spec": {"policyTypes": ["Ingress", "Egress"]}}), "/spec/policyTypes/1", json!("Egress")),
            (json!({"spec": {"podSelector": {"matchLabels": {"app": "web"}}}}), "/spec/podSelector/matchLabels/app", json!("web"))),
        case("networking.k8s.io", "v1", "ServiceCIDR", "servicecidrs", false, "extra",
            json!({"spec": {"cidrs": ["10.200.0.0/16"]}}),
            (labelled("patched"), "/metadata/labels/patched", json!("yes")),
            (labelled("applied"), "/metadata/labels/applied", json!("yes"))),
        case("networking.k8s.io", "v1", "IPAddress", "ipaddresses", false, "10.200.0.10",
            json!({"spec": {"parentRef": {"group": "", "resource": "services", "namespace": "default", "name": "web"}}}),
            (labelled("patched"), "/metadata/labels/patched", json!("yes")),
            (labelled("applied"), "/metadata/labels/applied", json!("yes"))),
        case("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, "web",
            json!({"spec": {"maxReplicas": 5, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
            (json!({"spec": {"maxReplicas": 7}}), "/spec/maxReplicas", json!(7)),
            (json!({"spec": {"minReplicas": 2}}), "/spec/minReplicas", json!(2))),
        case("", "v1", "PodTemplate", "podtemplates", true, "web",
            json!({"template": template()}),
            (labelled("patched"), "/metadata/labels/patched", json!("yes")),
            (json!({"template": {"metadata": {"labels": {"app": "web", "v": "2"}}}}), "/template/metadata/labels/v", json!("2"))),
        case("", "v1", "ReplicationController", "replicationcontrollers", true, "web",
            json!({"spec": {"replicas": 1, "selector": {"app": "web"}, "template": template()}}),
            (json!({"spec": {"replicas": 3}}), "/spec/replicas", json!(3)),
            (json!({"spec": {"minReadySeconds": 5}}), "/spec/minReadySeconds", json!(5))),
        case("", "v1", "LimitRange", "limitranges", true, "limits",
            json!({"spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}}]}}),
            (labelled("patched"), "/metadata/labels/patched", json!("yes")),
            (json!({"spec": {"limits": [{"type": "Container", "max": {"cpu": "3"}}]}}), "/spec/limits/0/default/cpu", json!("3"))),
        case("", "v1", "ResourceQuota", "resourcequotas", true, "quota",
            json!({"spec": {"hard": {"pods": "10"}}}),
            (json!({"spec": {"hard": {"pods": "20"}}}), "/spec/hard/pods", json!("20")),
            (json!({"spec": {"hard": {"secrets": "5"}}}), "/spec/hard/secrets", json!("5"))),
        case("apiregistration.k8s.io", "v1", "APIService", "apiservices", false, "v1.example.com",
            json!({"spec": {"group": "example.com", "version": "v1", "groupPriorityMinimum": 1000, "versionPriority": 15,
                            "service": {"namespace": "default", "name": "api"}}}),
            (json!({"spec": {"versionPriority": 20}}), "/spec/versionPriority", json!(20)),
            (json!({"spec": {"groupPriorityMinimum": 500}}), "/spec/groupPriorityMinimum", json!(500))),
    ]
    .into_iter()
    .chain(rbac_cases())
    .collect()
}

fn rbac_cases() -> Vec<Case> {
    let subjects = json!([{"kind": "User", "name": "jane"}]);
    let other = json!([{"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}]);
    let rbac = |kind, plural, namespaced, body: Value, apply: (Value, &'static str, Value)| Case {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind,
        plural,
        namespaced,
        name: "reader",
        body,
        patch: (
            labelled("patched"),
            "/metadata/labels/patched",
            json!("yes"),
        ),
        apply,
    };
    let rules = (
        json!({"rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}]}),
        "/rules/0/apiGroups/0",
        json!("apps"),
    );
    let bound = (
        json!({"subjects": other}),
        "/subjects/0/name",
        json!("devs"),
    );
    vec![
        rbac(
            "Role",
            "roles",
            true,
            json!({"rules": [rule()]}),
            rules.clone(),
        ),
        rbac(
            "ClusterRole",
            "clusterroles",
            false,
            json!({"rules": [rule()]}),
            rules,
        ),
        rbac(
            "RoleBinding",
            "rolebindings",
            true,
            json!({"roleRef": {"kind": "Role", "name": "reader"}, "subjects": subjects}),
            bound.clone(),
        ),
        rbac(
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
            json!({"roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": subjects}),
            bound,
        ),
    ]
}

fn api(server: &Server, case: &Case) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(case.group, case.version, case.kind);
    let resource = ApiResource::from_gvk_with_plural(&gvk, case.plural);
    if case.namespaced {
        Api::namespaced_with(server.client.clone(), "default", &resource)
    } else {
        Api::all_with(server.client.clone(), &resource)
    }
}

fn api_version(case: &Case) -> String {
    if case.group.is_empty() {
        case.version.to_string()
    } else {
        format!("{}/{}", case.group, case.version)
    }
}

/// `fragment` as a whole object of the case's kind and name.
fn object(case: &Case, fragment: &Value) -> Value {
    let mut object = fragment.clone();
    object["apiVersion"] = json!(api_version(case));
    object["kind"] = json!(case.kind);
    object["metadata"]["name"] = json!(case.name);
    object
}

fn at(object: &DynamicObject, pointer: &str) -> Value {
    let value = serde_json::to_value(object).unwrap();
    value.pointer(pointer).cloned().unwrap_or(Value::Null)
}

async fn round_trip(server: &Server, case: &Case) {
    let api = api(server, case);
    let what = case.kind;
    let body: DynamicObject = serde_json::from_value(object(case, &case.body)).unwrap();
    let created = api.create(&PostParams::default(), &body).await.unwrap();
    assert!(created.metadata.uid.is_some(), "{what}");
    let fetched = api.get(case.name).await.unwrap();
    assert_eq!(fetched.metadata.uid, created.metadata.uid, "{what}");
    let listed = api.list(&ListParams::default()).await.unwrap();
    assert!(
        listed
            .items
            .iter()
            .any(|o| o.metadata.name.as_deref() == Some(case.name)),
        "{what}"
    );

    let (patch, pointer, expected) = &case.patch;
    let patched = api
        .patch(case.name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap_or_else(|err| panic!("{what} merge patch: {err}"));
    assert_eq!(&at(&patched, pointer), expected, "{what} merge patch");

    let (config, pointer, expected) = &case.apply;
    let applied = api
        .patch(
            case.name,
            &PatchParams::apply("kinds-test").force(),
            &Patch::Apply(object(case, config)),
        )
        .await
        .unwrap_or_else(|err| panic!("{what} apply: {err}"));
    assert_eq!(&at(&applied, pointer), expected, "{what} apply");
    let managers: Vec<_> = applied
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.contains(&"kinds-test".to_string()),
        "{what}: {managers:?}"
    );

    api.delete(case.name, &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(
        support::code(api.get(case.name).await.unwrap_err()),
        404,
        "{what}"
    );
}

#[tokio::test]
async fn every_new_kind_round_trips() {
    let server = embedded().await;
    for case in cases() {
        round_trip(&server, &case).await;
    }
}

async fn rbac_kinds_round_trip(server: Server) {
    for case in rbac_cases() {
        round_trip(&server, &case).await;
    }
}

async fn ingress_autoscaler_and_budget_round_trip(server: Server) {
    for case in cases() {
        if ["Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget"].contains(&case.kind) {
            round_trip(&server, &case).await;
        }
    }
}

/// A bad object of each kind and the field its 422 names.
fn bad_inputs() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
            json!({"metadata": {"name": "b"}, "spec": {"minAvailable": "200%"}}),
            "spec.minAvailable",
        ),
        (
            "/apis/scheduling.k8s.io/v1/priorityclasses",
            json!({"metadata": {"name": "p"}, "value": 2_000_000_000}),
            "value",
        ),
        (
            "/apis/storage.k8s.io/v1/storageclasses",
            json!({"metadata": {"name": "s"}}),
            "provisioner",
        ),
        (
            "/apis/events.k8s.io/v1/namespaces/default/events",
            json!({"metadata": {"name": "e"}, "type": "Normal"}),
            "eventTime",
        ),
        (
            "/apis/networking.k8s.io/v1/namespaces/default/ingresses",
            json!({"metadata": {"name": "i"}, "spec": {}}),
            "spec",
        ),
        (
            "/apis/networking.k8s.io/v1/ingressclasses",
            json!({"metadata": {"name": "c"}, "spec": {"controller": "nginx"}}),
            "spec.controller",
        ),
        (
            "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies",
            json!({"metadata": {"name": "n"}, "spec": {"podSelector": {}, "policyTypes": ["Up"]}}),
            "spec.policyTypes[0]",
        ),
        (
            "/apis/networking.k8s.io/v1/servicecidrs",
            json!({"metadata": {"name": "c"}, "spec": {"cidrs": []}}),
            "spec.cidrs",
        ),
        (
            "/apis/networking.k8s.io/v1/ipaddresses",
            json!({"metadata": {"name": "not-an-ip"}, "spec": {"parentRef": {"resource": "services", "name": "a"}}}),
            "metadata.name",
        ),
        (
            "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
            json!({"metadata": {"name": "h"}, "spec": {"maxReplicas": 0, "scaleTargetRef": {"kind": "Deployment", "name": "w"}}}),
            "spec.maxReplicas",
        ),
        (
            "/api/v1/namespaces/default/podtemplates",
            json!({"metadata": {"name": "t"}, "template": {"spec": {"containers": []}}}),
            "template.spec.containers",
        ),
        (
            "/api/v1/namespaces/default/replicationcontrollers",
            json!({"metadata": {"name": "r"}, "spec": {"template": template(), "replicas": -1}}),
            "spec.replicas",
        ),
        (
            "/api/v1/namespaces/default/limitranges",
            json!({"metadata": {"name": "l"}, "spec": {"limits": [{"type": "Bogus"}]}}),
            "spec.limits[0].type",
        ),
        (
            "/api/v1/namespaces/default/resourcequotas",
            json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "-1"}}}),
            "spec.hard[pods]",
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
            json!({"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]}),
            "rules[0].verbs",
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            json!({"metadata": {"name": "r"}, "rules": [{"verbs": ["get"]}]}),
            "rules[0].apiGroups",
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
            json!({"metadata": {"name": "b"}, "roleRef": {"kind": "Secret", "name": "x"}}),
            "roleRef.kind",
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            json!({"metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": ""}}),
            "roleRef.name",
        ),
        (
            "/apis/apiregistration.k8s.io/v1/apiservices",
            json!({"metadata": {"name": "v1.example.com"}, "spec": {"group": "example.com", "version": "v1",
                "groupPriorityMinimum": 0, "versionPriority": 1}}),
            "spec.groupPriorityMinimum",
        ),
    ]
}

#[tokio::test]
async fn bad_input_of_every_new_kind_is_a_422_naming_the_field() {
    let server = embedded().await;
    for (collection, body, field) in bad_inputs() {
        let answer = server.json("POST", collection, &body).await;
        let status = failure(&answer, 422);
        assert_eq!(status["reason"], "Invalid", "{collection}");
        let causes = status["details"]["causes"].as_array().unwrap();
        assert!(
            causes.iter().any(|c| c["field"] == field),
            "{collection}: {status}"
        );
    }
}

#[tokio::test]
async fn events_k8s_io_and_core_events_are_the_same_objects() {
    let server = embedded().await;
    let events = "/apis/events.k8s.io/v1/namespaces/default/events";
    let core = "/api/v1/namespaces/default/events";
    let new = json!({"metadata": {"name": "new"}, "eventTime": "2025-01-01T00:00:00.000000Z", "type": "Warning",
        "reportingController": "example.com/ctl", "reportingInstance": "i", "action": "Probe", "reason": "Unhealthy",
        "note": "probe failed", "regarding": {"kind": "Pod", "name": "web", "namespace": "default"}});
    let created = server.json("POST", events, &new).await;
    assert_eq!(created.code, 201, "{}", created.body);
    assert_eq!(created.body["apiVersion"], "events.k8s.io/v1");
    let as_core = server.get(&format!("{core}/new")).await.body;
    assert_eq!(as_core["apiVersion"], "v1");
    assert_eq!(as_core["message"], "probe failed");
    assert_eq!(as_core["involvedObject"]["name"], "web");
    assert_eq!(as_core["reportingComponent"], "example.com/ctl");
    assert_eq!(as_core["metadata"]["uid"], created.body["metadata"]["uid"]);

    let old = json!({"metadata": {"name": "old"}, "message": "pulled", "reason": "Pulled", "count": 3,
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"}, "source": {"component": "kubelet"}});
    let created = server.json("POST", core, &old).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let as_events = server.get(&format!("{events}/old")).await.body;
    assert_eq!(as_events["note"], "pulled");
    assert_eq!(as_events["deprecatedCount"], 3);
    assert_eq!(as_events["deprecatedSource"]["component"], "kubelet");
    assert!(as_events.get("message").is_none());

    let list = server
        .get(&format!("{events}?fieldSelector=regarding.name=web"))
        .await
        .body;
    assert_eq!(list["kind"], "EventList");
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["apiVersion"] == "events.k8s.io/v1")
    );
    let cached = server
        .get(&format!("{events}?resourceVersion=0"))
        .await
        .body;
    assert!(
        cached["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("regarding").is_some()),
        "{cached}"
    );
}

#[tokio::test]
async fn replication_controllers_scale_by_their_label_map() {
    let server = embedded().await;
    let collection = "/api/v1/namespaces/default/replicationcontrollers";
    let rc = json!({"metadata": {"name": "web"}, "spec": {"replicas": 1, "template": template()}});
    assert_eq!(server.json("POST", collection, &rc).await.code, 201);
    let scale = server.get(&format!("{collection}/web/scale")).await.body;
    assert_eq!(scale["status"]["selector"], "app=web", "{scale}");
    let mut scale = scale;
    scale["spec"]["replicas"] = json!(4);
    let answer = server
        .json("PUT", &format!("{collection}/web/scale"), &scale)
        .await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    let rc = server.get(&format!("{collection}/web")).await.body;
    assert_eq!(
        (
            rc["spec"]["replicas"].clone(),
            rc["metadata"]["generation"].clone()
        ),
        (json!(4), json!(2))
    );
}

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// `k8s\0` + a `runtime.Unknown` holding `message`.
fn protobuf<M: Message + k8s_pb::Resource>(message: &M) -> Vec<u8> {
    use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(M::API_VERSION.into()),
            kind: Some(M::KIND.into()),
        }),
        raw: Some(message.encode_to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    [b"k8s\0".as_slice(), &unknown.encode_to_vec()].concat()
}

fn meta(name: &str) -> Option<k8s_pb::apimachinery::pkg::apis::meta::v1::ObjectMeta> {
    Some(k8s_pb::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        name: Some(name.into()),
        ..Default::default()
    })
}

#[tokio::test]
async fn protobuf_bodies_of_the_new_kinds_are_read() {
    use k8s_pb::api::{autoscaling::v2 as autoscaling, policy::v1 as policy, rbac::v1 as rbac};
    let server = embedded().await;
    let role = rbac::ClusterRole {
        metadata: meta("proto"),
        rules: vec![rbac::PolicyRule {
            verbs: vec!["get".into()],
            api_groups: vec![String::new()],
            resources: vec!["pods".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    let answer = server
        .raw(
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            PROTOBUF,
            protobuf(&role),
        )
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert_eq!(answer.body["rules"][0]["resources"], json!(["pods"]));
    let budget = policy::PodDisruptionBudget {
        metadata: meta("proto"),
        spec: Some(policy::PodDisruptionBudgetSpec {
            max_unavailable: Some(k8s_pb::apimachinery::pkg::util::intstr::IntOrString {
                r#type: Some(1),
                str_val: Some("10%".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let answer = server
        .raw(
            "POST",
            "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
            PROTOBUF,
            protobuf(&budget),
        )
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert_eq!(answer.body["spec"]["maxUnavailable"], "10%");
    let autoscaler = autoscaling::HorizontalPodAutoscaler {
        metadata: meta("proto"),
        spec: Some(autoscaling::HorizontalPodAutoscalerSpec {
            scale_target_ref: Some(autoscaling::CrossVersionObjectReference {
                kind: Some("Deployment".into()),
                name: Some("web".into()),
                api_version: Some("apps/v1".into()),
            }),
            max_replicas: Some(4),
            ..Default::default()
        }),
        ..Default::default()
    };
    let answer = server
        .raw(
            "POST",
            "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
            PROTOBUF,
            protobuf(&autoscaler),
        )
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert_eq!(
        (
            answer.body["spec"]["maxReplicas"].clone(),
            answer.body["spec"]["minReplicas"].clone()
        ),
        (json!(4), json!(1))
    );
}
