//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), as
//! kubectl 1.32+ and client-go's typed clients send them: every built-in
//! kind posted as protobuf is stored exactly as the same object posted as
//! JSON, the subresource bodies (Scale, Binding, Eviction, DeleteOptions)
//! work, and malformed bodies are 400 `Status`es, never a crash.

#![allow(clippy::unwrap_used)]

#[path = "protobuf/fixtures.rs"]
mod fixtures;
mod support;

use fixtures::*;
use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::autoscaling::v1 as autoscaling;
use k8s_pb::api::core::v1 as core;
use k8s_pb::api::policy::v1 as policy;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
use prost::Message;
use serde_json::{Value, json};
use support::{Server, failure};

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
const NS: &str = "/api/v1/namespaces/default";

// ---- encoding -------------------------------------------------------------

/// `k8s\0` + a `runtime.Unknown` holding `raw` as `api_version`/`kind`.
fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    [b"k8s\0".as_slice(), &unknown.encode_to_vec()].concat()
}

/// The protobuf body of `object`, as client-go writes it.
fn body<M: Message + k8s_pb::Resource>(object: &M) -> Vec<u8> {
    envelope(M::API_VERSION, M::KIND, object.encode_to_vec())
}

// ---- round trips ----------------------------------------------------------

/// `object` with what differs between two creations (name, uid, times,
/// resourceVersion, field managers, a Service's allocated address) masked.
fn comparable(mut object: Value) -> Value {
    let name = object["metadata"]["name"].as_str().unwrap().to_owned();
    let uid = object["metadata"]["uid"].as_str().unwrap().to_owned();
    if let Some(ip) = object["spec"]["clusterIP"].as_str().map(str::to_owned) {
        let text = serde_json::to_string(&object)
            .unwrap()
            .replace(&ip, "CLUSTER-IP");
        object = serde_json::from_str(&text).unwrap();
    }
    let metadata = object["metadata"].as_object_mut().unwrap();
    for field in [
        "uid",
        "creationTimestamp",
        "resourceVersion",
        "managedFields",
    ] {
        metadata.remove(field);
    }
    let text = serde_json::to_string(&object)
        .unwrap()
        .replace(&uid, "UID")
        .replace(&name, "NAME");
    serde_json::from_str(&text).unwrap()
}

/// Posts the protobuf and the JSON form of `fixture` to `collection` and
/// asserts that both are created and stored alike.
async fn same_as_json<M: Message + k8s_pb::Resource>(
    collection: &str,
    fixture: fn(&str) -> (M, Value),
) {
    let server = support::embedded().await;
    let (from_protobuf, _) = fixture("via-protobuf");
    let (_, from_json) = fixture("via-json");
    let created = server
        .raw("POST", collection, PROTOBUF, body(&from_protobuf))
        .await;
    assert_eq!(created.code, 201, "protobuf: {}", created.body);
    let expected = server.json("POST", collection, &from_json).await;
    assert_eq!(expected.code, 201, "JSON: {}", expected.body);
    assert_eq!(comparable(created.body), comparable(expected.body));
    let stored = server.get(&format!("{collection}/via-protobuf")).await;
    let stored_json = server.get(&format!("{collection}/via-json")).await;
    assert_eq!(comparable(stored.body), comparable(stored_json.body));
}

macro_rules! round_trips {
    ($($name:ident: $collection:expr, $fixture:ident;)+) => {
        mod round_trip {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    same_as_json(&$collection, super::$fixture).await;
                }
            )+
        }
    };
}

round_trips! {
    namespace: "/api/v1/namespaces", namespace;
    node: "/api/v1/nodes", node;
    persistent_volume: "/api/v1/persistentvolumes", persistent_volume;
    pod: format!("{NS}/pods"), pod;
    service: format!("{NS}/services"), service;
    endpoints: format!("{NS}/endpoints"), endpoints;
    config_map: format!("{NS}/configmaps"), config_map;
    secret: format!("{NS}/secrets"), secret;
    service_account: format!("{NS}/serviceaccounts"), service_account;
    event: format!("{NS}/events"), event;
    persistent_volume_claim: format!("{NS}/persistentvolumeclaims"), persistent_volume_claim;
    replica_set: "/apis/apps/v1/namespaces/default/replicasets", replica_set;
    deployment: "/apis/apps/v1/namespaces/default/deployments", deployment;
    stateful_set: "/apis/apps/v1/namespaces/default/statefulsets", stateful_set;
    daemon_set: "/apis/apps/v1/namespaces/default/daemonsets", daemon_set;
    controller_revision: "/apis/apps/v1/namespaces/default/controllerrevisions", controller_revision;
    job: "/apis/batch/v1/namespaces/default/jobs", job;
    cron_job: "/apis/batch/v1/namespaces/default/cronjobs", cron_job;
    lease: "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease;
    endpoint_slice: "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", endpoint_slice;
}

#[tokio::test]
async fn replace_takes_protobuf_too() {
    let server = support::embedded().await;
    let (created, _) = config_map("settings");
    let path = format!("{NS}/configmaps/settings");
    let answer = server
        .raw(
            "POST",
            &format!("{NS}/configmaps"),
            PROTOBUF,
            body(&created),
        )
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    let mut updated = created.clone();
    updated.data = strings(&[("mode", "slow")]);
    let metadata = updated.metadata.as_mut().unwrap();
    metadata.resource_version = answer.body["metadata"]["resourceVersion"]
        .as_str()
        .map(String::from);
    let answer = server.raw("PUT", &path, PROTOBUF, body(&updated)).await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    assert_eq!(
        server.get(&path).await.body["data"],
        json!({"mode": "slow"})
    );
}

#[tokio::test]
async fn a_secret_of_a_megabyte_keeps_every_byte() {
    let server = support::embedded().await;
    let payload: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let (mut secret, _) = secret("big");
    secret.data = [("blob".to_string(), payload.clone())].into();
    let answer = server
        .raw("POST", &format!("{NS}/secrets"), PROTOBUF, body(&secret))
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    let stored = server.get(&format!("{NS}/secrets/big")).await.body;
    let encoded = stored["data"]["blob"].as_str().unwrap();
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    assert!(decoded == payload, "the stored bytes differ");
}

#[tokio::test]
async fn a_protobuf_body_is_checked_as_json_is() {
    let server = support::embedded().await;
    let (mut pod, _) = pod("bad-cpu");
    let spec = pod.spec.as_mut().unwrap();
    spec.containers[0].resources = Some(core::ResourceRequirements {
        limits: quantities(&[("cpu", "lots")]),
        ..Default::default()
    });
    let answer = server
        .raw("POST", &format!("{NS}/pods"), PROTOBUF, body(&pod))
        .await;
    let message = failure(&answer, 400)["message"].as_str().unwrap();
    assert!(
        message.contains("spec.containers[0].resources.limits[cpu]: quantities must match"),
        "{message}"
    );
    assert_eq!(server.get(&format!("{NS}/pods/bad-cpu")).await.code, 404);
}

// ---- subresource and option bodies ----------------------------------------

async fn create_pod(server: &Server, name: &str) -> Value {
    let (pod, _) = pod(name);
    let answer = server
        .raw("POST", &format!("{NS}/pods"), PROTOBUF, body(&pod))
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    answer.body
}

#[tokio::test]
async fn binding_from_protobuf_assigns_the_node() {
    let server = support::embedded().await;
    create_pod(&server, "web").await;
    let binding = core::Binding {
        metadata: Some(meta::ObjectMeta {
            name: s("web"),
            ..Default::default()
        }),
        target: Some(core::ObjectReference {
            kind: s("Node"),
            name: s("node-1"),
            ..Default::default()
        }),
    };
    let answer = server
        .raw(
            "POST",
            &format!("{NS}/pods/web/binding"),
            PROTOBUF,
            body(&binding),
        )
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    let pod = server.get(&format!("{NS}/pods/web")).await.body;
    assert_eq!(pod["spec"]["nodeName"], "node-1");
}

#[tokio::test]
async fn eviction_from_protobuf_deletes_the_pod() {
    let server = support::embedded().await;
    let mut created = create_pod(&server, "web").await;
    // The fixture's finalizer would keep the pod; drop it first.
    created["metadata"]["finalizers"] = json!([]);
    let answer = server
        .json("PUT", &format!("{NS}/pods/web"), &created)
        .await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    let eviction = policy::Eviction {
        metadata: Some(meta::ObjectMeta {
            name: s("web"),
            namespace: s("default"),
            ..Default::default()
        }),
        delete_options: Some(meta::DeleteOptions {
            grace_period_seconds: Some(0),
            ..Default::default()
        }),
    };
    let answer = server
        .raw(
            "POST",
            &format!("{NS}/pods/web/eviction"),
            PROTOBUF,
            envelope("policy/v1", "Eviction", eviction.encode_to_vec()),
        )
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert_eq!(server.get(&format!("{NS}/pods/web")).await.code, 404);
}

#[tokio::test]
async fn scale_from_protobuf_sets_replicas_even_to_zero() {
    let server = support::embedded().await;
    let (deployment, _) = deployment("web");
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    let answer = server
        .raw("POST", deployments, PROTOBUF, body(&deployment))
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    for replicas in [5, 0] {
        let scale = autoscaling::Scale {
            metadata: Some(meta::ObjectMeta {
                name: s("web"),
                namespace: s("default"),
                ..Default::default()
            }),
            spec: Some(autoscaling::ScaleSpec {
                replicas: Some(replicas),
            }),
            status: None,
        };
        let path = format!("{deployments}/web/scale");
        let answer = server
            .raw(
                "PUT",
                &path,
                PROTOBUF,
                envelope("autoscaling/v1", "Scale", scale.encode_to_vec()),
            )
            .await;
        assert_eq!(answer.code, 200, "{}", answer.body);
        let stored = server.get(&format!("{deployments}/web")).await.body;
        assert_eq!(stored["spec"]["replicas"], replicas, "{stored}");
    }
}

#[tokio::test]
async fn delete_options_from_protobuf_are_honoured() {
    let server = support::embedded().await;
    let (map, _) = config_map("doomed");
    let answer = server
        .raw("POST", &format!("{NS}/configmaps"), PROTOBUF, body(&map))
        .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    let uid = answer.body["metadata"]["uid"].as_str().unwrap().to_owned();
    let options = |uid: &str| {
        let options = meta::DeleteOptions {
            preconditions: Some(meta::Preconditions {
                uid: s(uid),
                resource_version: None,
            }),
            ..Default::default()
        };
        envelope("v1", "DeleteOptions", options.encode_to_vec())
    };
    let path = format!("{NS}/configmaps/doomed");
    let answer = server
        .raw("DELETE", &path, PROTOBUF, options("other"))
        .await;
    failure(&answer, 409);
    let answer = server.raw("DELETE", &path, PROTOBUF, options(&uid)).await;
    assert_eq!(answer.code, 200, "{}", answer.body);
}

// ---- bad input ------------------------------------------------------------

/// Asserts a 400 `Status` whose message mentions `words`.
fn bad_request(answer: &support::Answer, words: &str) {
    let status = failure(answer, 400);
    assert_eq!(status["reason"], "BadRequest", "{status}");
    let message = status["message"].as_str().unwrap();
    assert!(message.contains(words), "{words:?} in {message:?}");
}

#[tokio::test]
async fn malformed_bodies_are_bad_requests() {
    let server = support::embedded().await;
    let namespaces = "/api/v1/namespaces";
    let (namespace, _) = namespace("x");
    let raw = namespace.encode_to_vec();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "magic"),
        ("JSON", b"{\"kind\":\"Namespace\"}".to_vec(), "magic"),
        ("bad magic", [b"k8s\x01".as_slice(), &raw].concat(), "magic"),
        ("truncated varint", b"k8s\0\x0a\xff".to_vec(), "envelope"),
        ("wrong wire type", b"k8s\0\x08\x01".to_vec(), "envelope"),
        (
            "truncated envelope",
            body(&namespace)[..20].to_vec(),
            "envelope",
        ),
        (
            "truncated object",
            envelope("v1", "Namespace", raw[..raw.len() - 3].to_vec()),
            "not a valid Namespace",
        ),
        (
            "object field of the wrong wire type",
            envelope("v1", "Namespace", vec![0x08, 0x01]),
            "not a valid Namespace",
        ),
        (
            "invalid UTF-8",
            envelope("v1", "Namespace", vec![0x0a, 0x03, 0x0a, 0x01, 0xff]),
            "not a valid Namespace",
        ),
        ("no kind", envelope("", "", raw.clone()), "no kind"),
        (
            "unknown kind",
            envelope("v1", "Bogus", raw.clone()),
            "Bogus",
        ),
        (
            "unknown version",
            envelope("v2", "Namespace", raw.clone()),
            "cannot be decoded",
        ),
        (
            "kind of another resource",
            envelope("v1", "ConfigMap", raw.clone()),
            "does not match",
        ),
        (
            "embedded object that is not JSON",
            body(&apps::ControllerRevision {
                metadata: namespace.metadata.clone(),
                data: Some(RawExtension {
                    raw: Some(b"{not json".to_vec()),
                }),
                revision: Some(1),
            }),
            "not JSON",
        ),
    ];
    for (case, bytes, words) in cases {
        let collection = if case.starts_with("embedded") {
            "/apis/apps/v1/namespaces/default/controllerrevisions"
        } else {
            namespaces
        };
        let answer = server.raw("POST", collection, PROTOBUF, bytes).await;
        eprintln!("case: {case}");
        bad_request(&answer, words);
    }
    let gzip = Unknown {
        type_meta: Some(TypeMeta {
            api_version: s("v1"),
            kind: s("Namespace"),
        }),
        raw: Some(raw),
        content_encoding: s("gzip"),
        content_type: None,
    };
    let bytes = [b"k8s\0".as_slice(), &gzip.encode_to_vec()].concat();
    let answer = server.raw("POST", namespaces, PROTOBUF, bytes).await;
    bad_request(&answer, "gzip");
}

#[tokio::test]
async fn no_prefix_or_corruption_of_a_body_crashes_the_server() {
    let server = support::embedded().await;
    let (deployment, _) = deployment("web");
    let whole = body(&deployment);
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    // Every prefix, and every byte of the object flipped in turn.
    let mut bodies: Vec<Vec<u8>> = (0..whole.len()).map(|n| whole[..n].to_vec()).collect();
    bodies.extend((4..whole.len()).step_by(3).map(|i| {
        let mut corrupt = whole.clone();
        corrupt[i] ^= 0xa5;
        corrupt
    }));
    for bytes in bodies {
        let answer = server
            .raw("POST", deployments, PROTOBUF, bytes.clone())
            .await;
        assert!(
            answer.code < 500 && answer.body["kind"] != Value::Null,
            "{bytes:?}: {} {}",
            answer.code,
            answer.body
        );
        if answer.code == 201 {
            let name = answer.body["metadata"]["name"].as_str().unwrap();
            server
                .json("DELETE", &format!("{deployments}/{name}"), &Value::Null)
                .await;
        }
    }
    assert_eq!(server.get("/readyz").await.code, 200);
}
