//! Property tests of the write path, on random and mutated input: bodies
//! in each decoder (JSON, YAML, protobuf) and each patch type never get a
//! 5xx or crash the server, every refusal is a `Status`, and every object
//! the server accepts decodes into its k8s-openapi type, which is what
//! typed clients need to read it back. The number of cases is bounded
//! (`PROPTEST_CASES` raises it).

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use support::{Answer, Server};

const NS: &str = "/api/v1/namespaces/default";

/// A kind the tests write: its collection, a valid object and what checks
/// that an object decodes into its k8s-openapi type.
struct Kind {
    collection: &'static str,
    object: fn(&str) -> Value,
    typed: fn(Value) -> Result<(), serde_json::Error>,
}

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<(), serde_json::Error> {
    serde_json::from_value::<T>(value).map(drop)
}

fn kinds() -> Vec<Kind> {
    use k8s_openapi::api::{apps, batch, core};
    vec![
        Kind {
            collection: "/apis/apps/v1/namespaces/default/deployments",
            object: |name| {
                json!({
                    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": "a"}},
                    "spec": {
                        "replicas": 2, "paused": false, "minReadySeconds": 1,
                        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                        "selector": {"matchLabels": {"app": "a"}},
                        "template": {"metadata": {"labels": {"app": "a"}}, "spec": pod_spec()},
                    },
                })
            },
            typed: typed::<apps::v1::Deployment>,
        },
        Kind {
            collection: "/api/v1/namespaces/default/pods",
            object: |name| json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": {"a": "b"}}, "spec": pod_spec()}),
            typed: typed::<core::v1::Pod>,
        },
        Kind {
            collection: "/api/v1/namespaces/default/services",
            object: |name| {
                json!({
                    "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                    "spec": {"selector": {"app": "a"}, "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]},
                })
            },
            typed: typed::<core::v1::Service>,
        },
        Kind {
            collection: "/api/v1/namespaces/default/configmaps",
            object: |name| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}, "binaryData": {"b": "dg=="}}),
            typed: typed::<core::v1::ConfigMap>,
        },
        Kind {
            collection: "/api/v1/namespaces/default/secrets",
            object: |name| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque", "data": {"k": "dg=="}, "stringData": {"s": "t"}}),
            typed: typed::<core::v1::Secret>,
        },
        Kind {
            collection: "/apis/batch/v1/namespaces/default/jobs",
            object: |name| {
                json!({
                    "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                    "spec": {"backoffLimit": 2, "activeDeadlineSeconds": 60,
                        "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}},
                })
            },
            typed: typed::<batch::v1::Job>,
        },
    ]
}

fn pod_spec() -> Value {
    json!({
        "terminationGracePeriodSeconds": 5,
        "nodeSelector": {"disk": "ssd"},
        "tolerations": [{"key": "k", "operator": "Exists", "tolerationSeconds": 30, "effect": "NoExecute"}],
        "containers": [{
            "name": "c", "image": "i", "args": ["a", "b"],
            "env": [{"name": "E", "value": "v"}],
            "ports": [{"name": "http", "containerPort": 80}],
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m"}},
            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
        }],
    })
}

/// Any JSON value, with the strings the schemas care about among the
/// leaves (quantities, times, base64, percentages).
fn any_json() -> impl Strategy<Value = Value> {
    let special = prop_oneof![
        Just("1"),
        Just("100m"),
        Just("1Gi"),
        Just("25%"),
        Just("2024-01-01T00:00:00Z"),
        Just("dg=="),
        Just("-1"),
        Just("http"),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e6f64..1e6f64).prop_map(Value::from),
        (0i64..100).prop_map(Value::from),
        "[a-z0-9.-]{0,10}".prop_map(Value::from),
        special.prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// The JSON pointers of every value in `value` but the root.
fn pointers(value: &Value, at: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    };
    for (key, child) in children {
        let pointer = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
        out.push(pointer.clone());
        pointers(child, &pointer, out);
    }
}

/// How a mutated object is written.
#[derive(Debug, Clone, Copy)]
enum Write {
    Create,
    Replace,
    MergePatch,
    StrategicPatch,
    JsonPatch,
    Apply,
}

fn any_write() -> impl Strategy<Value = Write> {
    prop_oneof![
        Just(Write::Create),
        Just(Write::Replace),
        Just(Write::MergePatch),
        Just(Write::StrategicPatch),
        Just(Write::JsonPatch),
        Just(Write::Apply),
    ]
}

/// A 2xx, or a 4xx `Status`: never a 5xx.
fn sensible(answer: &Answer, what: &str) -> Result<bool, TestCaseError> {
    match answer.code {
        200..=299 => Ok(true),
        400..=499 => {
            prop_assert_eq!(&answer.body["kind"], "Status", "{}: {}", what, answer.body);
            Ok(false)
        }
        code => Err(TestCaseError::fail(format!(
            "{what}: {code} {}",
            answer.body
        ))),
    }
}

static NAMES: AtomicUsize = AtomicUsize::new(0);

async fn write_mutated(
    server: &Server,
    kind: &Kind,
    write: Write,
    pick: Index,
    value: Value,
) -> Result<(), TestCaseError> {
    let name = format!("p-{}", NAMES.fetch_add(1, Ordering::Relaxed));
    let original = (kind.object)(&name);
    let mut all = Vec::new();
    pointers(&original, "", &mut all);
    let pointer = pick.get(&all).clone();
    let mut mutated = original.clone();
    *mutated.pointer_mut(&pointer).unwrap() = value.clone();
    let what = format!("{write:?} {} {pointer} = {value}", kind.collection);
    let item = format!("{}/{name}", kind.collection);
    if !matches!(write, Write::Create | Write::Apply) {
        let created = server.json("POST", kind.collection, &original).await;
        prop_assert_eq!(created.code, 201, "{}", created.body);
    }
    let body = serde_json::to_vec(&mutated).unwrap();
    let answer = match write {
        Write::Create => server.json("POST", kind.collection, &mutated).await,
        Write::Replace => server.json("PUT", &item, &mutated).await,
        Write::MergePatch => {
            let merge = "application/merge-patch+json";
            server.raw("PATCH", &item, merge, body).await
        }
        Write::StrategicPatch => {
            let strategic = "application/strategic-merge-patch+json";
            server.raw("PATCH", &item, strategic, body).await
        }
        Write::JsonPatch => {
            let ops = json!([{"op": "replace", "path": pointer, "value": value}]);
            let ops = serde_json::to_vec(&ops).unwrap();
            server
                .raw("PATCH", &item, "application/json-patch+json", ops)
                .await
        }
        Write::Apply => {
            let path = format!("{item}?fieldManager=properties&force=true");
            server
                .raw("PATCH", &path, "application/apply-patch+yaml", body)
                .await
        }
    };
    if sensible(&answer, &what)?
        && let Err(err) = (kind.typed)(answer.body.clone())
    {
        return Err(TestCaseError::fail(format!(
            "{what}: accepted, but typed clients cannot read it: {err}: {}",
            answer.body
        )));
    }
    Ok(())
}

fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn everything_accepted_reads_back_into_its_type() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(support::embedded());
    let kinds = kinds();
    let strategy = (0..kinds.len(), any_write(), any::<Index>(), any_json());
    runner()
        .run(&strategy, |(kind, write, pick, value)| {
            runtime.block_on(write_mutated(&server, &kinds[kind], write, pick, value))
        })
        .unwrap();
    // And everything stored, read back as a list.
    runtime.block_on(async {
        for kind in &kinds {
            let list = server.get(kind.collection).await;
            assert_eq!(list.code, 200, "{}", list.body);
            for item in list.body["items"].as_array().unwrap() {
                if let Err(err) = (kind.typed)(item.clone()) {
                    panic!("{}: {err} in {item}", kind.collection);
                }
            }
        }
    });
}

/// A valid body in each media type, to mutate byte by byte.
fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    let object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "labels": {"a": "b"}}, "data": {"k": "v", "n": "1"}});
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n  labels: {a: b}\ndata:\n  k: v\n  list: &x [1, 2]\n  again: *x\n";
    let protobuf = {
        use k8s_pb::api::core::v1::ConfigMap;
        use k8s_pb::apimachinery::pkg::apis::meta::v1::ObjectMeta;
        use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
        use prost::Message;
        let config_map = ConfigMap {
            metadata: Some(ObjectMeta {
                name: Some("m".into()),
                ..Default::default()
            }),
            data: [("k".to_string(), "v".to_string())].into(),
            ..Default::default()
        };
        let unknown = Unknown {
            type_meta: Some(TypeMeta {
                api_version: Some("v1".into()),
                kind: Some("ConfigMap".into()),
            }),
            raw: Some(config_map.encode_to_vec()),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        [b"k8s\0".as_slice(), &unknown.encode_to_vec()].concat()
    };
    vec![
        ("application/json", serde_json::to_vec(&object).unwrap()),
        ("application/yaml", yaml.as_bytes().to_vec()),
        ("application/vnd.kubernetes.protobuf", protobuf),
    ]
}

/// A change to a body: a byte set, inserted or removed.
#[derive(Debug, Clone)]
enum Edit {
    Set(Index, u8),
    Insert(Index, u8),
    Remove(Index),
}

fn any_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<Index>().prop_map(Edit::Remove),
    ]
}

fn edited(mut body: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        if body.is_empty() {
            break;
        }
        match edit {
            Edit::Set(i, byte) => {
                let at = i.index(body.len());
                body[at] = *byte;
            }
            Edit::Insert(i, byte) => body.insert(i.index(body.len() + 1), *byte),
            Edit::Remove(i) => {
                body.remove(i.index(body.len()));
            }
        }
    }
    body
}

#[test]
fn damaged_bodies_in_every_decoder_get_a_status() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(support::embedded());
    let bodies = bodies();
    let patches = [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    ];
    let created = runtime.block_on(server.json(
        "POST",
        &format!("{NS}/configmaps"),
        &json!({"metadata": {"name": "target"}, "data": {"k": "v"}}),
    ));
    assert_eq!(created.code, 201, "{}", created.body);
    let strategy = (
        0..bodies.len() + patches.len(),
        prop::collection::vec(any_edit(), 1..6),
        prop::collection::vec(any::<u8>(), 0..64),
    );
    runner()
        .run(&strategy, |(which, edits, noise)| {
            runtime.block_on(async {
                let answer = if which < bodies.len() {
                    let (media_type, body) = &bodies[which];
                    let body = edited(body.clone(), &edits);
                    let path = format!("{NS}/configmaps");
                    server.raw("POST", &path, media_type, body).await
                } else {
                    // Patches: noise, or a damaged JSON document.
                    let media_type = patches[which - bodies.len()];
                    let body = match edits.len() % 2 {
                        0 => noise,
                        _ => edited(bodies[0].1.clone(), &edits),
                    };
                    let path = format!("{NS}/configmaps/target?fieldManager=p&force=true");
                    server.raw("PATCH", &path, media_type, body).await
                };
                sensible(&answer, "damaged body").map(drop)
            })
        })
        .unwrap();
    let ready = runtime.block_on(server.raw("GET", "/readyz", "text/plain", Vec::new()));
    assert_eq!(ready.code, 200);
}
