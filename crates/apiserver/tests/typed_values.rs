//! Every write is checked against its kind's schema types, as upstream's
//! typed decoding checks it: an int32 field takes no string and no number
//! beyond its range, a map of strings only strings, quantities, times and
//! base64 must parse. A bad value is refused by create, update, each patch
//! type, apply and the scale subresource alike, naming the field, and
//! nothing is stored; everything the server does accept decodes into its
//! k8s-openapi type, which is what typed clients (kubectl describe, kube-rs)
//! need.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Server, embedded, failure};

const NS: &str = "/api/v1/namespaces/default";
const APPS: &str = "/apis/apps/v1/namespaces/default";

fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    })
}

fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{
            "name": "c", "image": "i",
            "ports": [{"containerPort": 80}],
            "resources": {"limits": {"cpu": "1"}},
        }]},
    })
}

fn config_map(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

fn secret(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": {"k": "dg=="}})
}

fn service(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}]},
    })
}

fn job(name: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "c", "image": "i"}],
        }}},
    })
}

fn lease(name: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": name},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 10},
    })
}

/// One bad value: where it goes in which kind, and what the error says.
struct Case {
    collection: String,
    object: fn(&str) -> Value,
    pointer: &'static str,
    value: Value,
    says: &'static str,
}

fn case(
    collection: &str,
    object: fn(&str) -> Value,
    pointer: &'static str,
    value: Value,
    says: &'static str,
) -> Case {
    Case {
        collection: collection.to_string(),
        object,
        pointer,
        value,
        says,
    }
}

fn cases() -> Vec<Case> {
    let deployments = format!("{APPS}/deployments");
    let pods = format!("{NS}/pods");
    let config_maps = format!("{NS}/configmaps");
    vec![
        case(
            &deployments,
            deployment,
            "/spec/replicas",
            json!(9223372036854775808_u64),
            "cannot unmarshal number 9223372036854775808 into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        case(
            &deployments,
            deployment,
            "/spec/replicas",
            json!("3"),
            "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        case(
            &deployments,
            deployment,
            "/spec/paused",
            json!("true"),
            "Go struct field DeploymentSpec.spec.paused of type bool",
        ),
        case(
            &deployments,
            deployment,
            "/spec/template/spec/containers",
            json!("c"),
            "cannot unmarshal string into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container",
        ),
        case(
            &config_maps,
            config_map,
            "/metadata/labels",
            json!({"a": 1}),
            "cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
        ),
        case(
            &config_maps,
            config_map,
            "/data",
            json!({"k": true}),
            "cannot unmarshal bool into Go struct field ConfigMap.data of type string",
        ),
        case(
            &config_maps,
            config_map,
            "/metadata/annotations",
            json!(["a"]),
            "cannot unmarshal array into Go struct field ObjectMeta.metadata.annotations of type map[string]string",
        ),
        case(
            &config_maps,
            config_map,
            "/binaryData",
            json!({"b": "!!!"}),
            "binaryData[b]: illegal base64 data",
        ),
        case(
            &pods,
            pod,
            "/spec/containers/0/ports/0/containerPort",
            json!("80"),
            "Go struct field ContainerPort.spec.containers.ports.containerPort of type int32",
        ),
        case(
            &pods,
            pod,
            "/spec/containers/0/resources/limits",
            json!({"cpu": "lots"}),
            "spec.containers[0].resources.limits[cpu]: quantities must match the regular expression",
        ),
        case(
            &pods,
            pod,
            "/spec/hostNetwork",
            json!("yes"),
            "Go struct field PodSpec.spec.hostNetwork of type bool",
        ),
        case(
            &pods,
            pod,
            "/status/startTime",
            json!("yesterday"),
            "status.startTime: parsing time \"yesterday\"",
        ),
        case(
            &format!("{NS}/secrets"),
            secret,
            "/data",
            json!({"k": "not base64!"}),
            "data[k]: illegal base64 data",
        ),
        case(
            &format!("{NS}/services"),
            service,
            "/spec/ports/0/targetPort",
            json!(1.5),
            "spec.ports[0].targetPort: json: cannot unmarshal number 1.5 into Go value of type int32",
        ),
        case(
            "/apis/batch/v1/namespaces/default/jobs",
            job,
            "/spec/activeDeadlineSeconds",
            json!(1.5),
            "cannot unmarshal number 1.5 into Go struct field JobSpec.spec.activeDeadlineSeconds of type int64",
        ),
        case(
            "/apis/coordination.k8s.io/v1/namespaces/default/leases",
            lease,
            "/spec/leaseDurationSeconds",
            json!(2147483648_i64),
            "cannot unmarshal number 2147483648 into Go struct field LeaseSpec.spec.leaseDurationSeconds of type int32",
        ),
    ]
}

/// Sets what `pointer` names, adding the objects on the way.
fn set(object: &mut Value, pointer: &str, value: Value) {
    let mut at = object;
    for segment in pointer.trim_start_matches('/').split('/') {
        at = match segment.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[segment],
        };
    }
    *at = value;
}

/// Asserts a failure with `code` whose message says `says`.
fn refused(answer: &support::Answer, code: u16, says: &str, what: &str) {
    let status = failure(answer, code);
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains(says),
        "{what}: {says:?} not in {message:?}"
    );
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_refused_by_every_write() {
    let server = embedded().await;
    for (i, case) in cases().into_iter().enumerate() {
        let what = format!("{} {}", case.collection, case.pointer);
        let mut bad = (case.object)(&format!("bad-{i}"));
        set(&mut bad, case.pointer, case.value.clone());
        let created = server.json("POST", &case.collection, &bad).await;
        refused(&created, 400, case.says, &format!("create {what}"));
        let item = format!("{}/bad-{i}", case.collection);
        assert_eq!(server.get(&item).await.code, 404, "{what}: nothing stored");

        // The same value written into an object that exists.
        let name = format!("good-{i}");
        let item = format!("{}/{name}", case.collection);
        let good = server
            .json("POST", &case.collection, &(case.object)(&name))
            .await;
        assert_eq!(good.code, 201, "{what}: {}", good.body);
        let mut bad = (case.object)(&name);
        set(&mut bad, case.pointer, case.value.clone());
        let mut replacement = bad.clone();
        replacement["metadata"]["resourceVersion"] =
            good.body["metadata"]["resourceVersion"].clone();
        let replaced = server.json("PUT", &item, &replacement).await;
        refused(&replaced, 400, case.says, &format!("update {what}"));
        let body = serde_json::to_vec(&bad).unwrap();
        for patch_type in [
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
        ] {
            let patched = server.raw("PATCH", &item, patch_type, body.clone()).await;
            refused(&patched, 422, case.says, &format!("{patch_type} {what}"));
            assert_eq!(
                failure(&patched, 422)["details"]["causes"][0]["field"],
                "patch"
            );
        }
        let operations = json!([{"op": "add", "path": case.pointer, "value": case.value}]);
        let patched = server
            .raw(
                "PATCH",
                &item,
                "application/json-patch+json",
                serde_json::to_vec(&operations).unwrap(),
            )
            .await;
        refused(&patched, 422, case.says, &format!("json patch {what}"));
        let applied = server
            .raw(
                "PATCH",
                &format!("{item}?fieldManager=test&force=true"),
                "application/apply-patch+yaml",
                body.clone(),
            )
            .await;
        refused(&applied, 400, case.says, &format!("apply {what}"));

        let now = server.get(&item).await;
        assert_eq!(
            now.body["metadata"]["resourceVersion"], good.body["metadata"]["resourceVersion"],
            "{what}: no write went through"
        );
    }
    everything_stored_is_typed(&server).await;
}

#[tokio::test]
async fn a_scale_of_the_wrong_type_is_refused() {
    let server = embedded().await;
    let created = server
        .json("POST", &format!("{APPS}/deployments"), &deployment("web"))
        .await;
    assert_eq!(created.code, 201, "{}", created.body);
    let scale = format!("{APPS}/deployments/web/scale");
    let body = json!({
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 4294967296_i64},
    });
    let answer = server.json("PUT", &scale, &body).await;
    let says = "Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal number 4294967296 into Go struct field ScaleSpec.spec.replicas of type int32";
    refused(&answer, 400, says, "scale update");
    let patch = br#"{"spec": {"replicas": "2"}}"#.to_vec();
    let answer = server
        .raw("PATCH", &scale, "application/merge-patch+json", patch)
        .await;
    refused(
        &answer,
        422,
        "ScaleSpec.spec.replicas of type int32",
        "scale patch",
    );
    let now = server.get(&format!("{APPS}/deployments/web")).await;
    assert_eq!(now.body["spec"]["replicas"], 1);
}

#[tokio::test]
async fn quantities_and_times_are_stored_as_upstream_writes_them() {
    let server = embedded().await;
    let mut object = pod("canonical");
    object["spec"]["containers"][0]["resources"] = json!({
        "limits": {"cpu": 2, "memory": "1024Mi"},
        "requests": {"cpu": "0.5", "memory": "1e3"},
    });
    let created = server.json("POST", &format!("{NS}/pods"), &object).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let resources = &created.body["spec"]["containers"][0]["resources"];
    assert_eq!(resources["limits"], json!({"cpu": "2", "memory": "1Gi"}));
    assert_eq!(
        resources["requests"],
        json!({"cpu": "500m", "memory": "1e3"})
    );
    everything_stored_is_typed(&server).await;
}

/// Lists every kind the tests write and decodes each object into its
/// k8s-openapi type.
async fn everything_stored_is_typed(server: &Server) {
    use k8s_openapi::api::{apps, batch, coordination, core};
    async fn all<T: serde::de::DeserializeOwned>(server: &Server, collection: &str) {
        let list = server.get(collection).await;
        assert_eq!(list.code, 200, "{}", list.body);
        for item in list.body["items"].as_array().unwrap() {
            if let Err(err) = serde_json::from_value::<T>(item.clone()) {
                panic!("{collection}: {err} in {item}");
            }
        }
    }
    all::<apps::v1::Deployment>(server, "/apis/apps/v1/deployments").await;
    all::<core::v1::Pod>(server, "/api/v1/pods").await;
    all::<core::v1::ConfigMap>(server, "/api/v1/configmaps").await;
    all::<core::v1::Secret>(server, "/api/v1/secrets").await;
    all::<core::v1::Service>(server, "/api/v1/services").await;
    all::<batch::v1::Job>(server, "/apis/batch/v1/jobs").await;
    all::<coordination::v1::Lease>(server, "/apis/coordination.k8s.io/v1/leases").await;
}
