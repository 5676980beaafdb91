//! The pod table as `kubectl get pods` shows it.

use jiff::Timestamp;
use keelson_api::registry;
use keelson_apiserver::table::{IncludeObject, table};
use serde_json::{Value, json};

fn now() -> Timestamp {
    "2025-06-01T12:00:00Z".parse().expect("valid timestamp")
}

fn pods_table(pods: &[Value]) -> Value {
    let pods_resource = registry::by_kind("", "v1", "Pod").expect("pods are registered");
    table(pods_resource, pods, IncludeObject::Metadata, now())
}

/// The cells of the only row, by column name.
fn cell(table: &Value, column: &str) -> Value {
    let index = table["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .position(|c| c["name"] == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    table["rows"][0]["cells"][index].clone()
}

fn running_container(name: &str, ready: bool, restarts: i32) -> Value {
    json!({
        "name": name, "image": "nginx:1.27", "imageID": "", "ready": ready,
        "restartCount": restarts, "started": true,
        "state": { "running": { "startedAt": "2025-06-01T11:50:00Z" } },
    })
}

fn pod(container_statuses: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-7d4b9c6f5-x2x8k",
            "namespace": "default",
            "uid": "4b0e3a4e-1111-2222-3333-444455556666",
            "resourceVersion": "42",
            "creationTimestamp": "2025-06-01T11:45:00Z",
            "labels": { "app": "web" },
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [
                { "name": "nginx", "image": "nginx:1.27" },
                { "name": "sidecar", "image": "busybox:1.36" },
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": "10.244.0.7",
            "podIPs": [{ "ip": "10.244.0.7" }],
            "conditions": [{ "type": "Ready", "status": "False" }],
            "containerStatuses": container_statuses,
        },
    })
}

#[test]
fn columns_match_upstream_and_wide_ones_have_priority_1() {
    let t = pods_table(&[]);
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    let columns: Vec<(String, u64)> = t["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_string(),
                c["priority"].as_u64().expect("priority"),
            )
        })
        .collect();
    let expected = [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ];
    let expected: Vec<(String, u64)> = expected.iter().map(|(n, p)| (n.to_string(), *p)).collect();
    assert_eq!(columns, expected);
    assert_eq!(t["columnDefinitions"][0]["format"], "name");
    assert_eq!(t["rows"], json!([]));
}

#[test]
fn running_pod_with_one_of_two_containers_ready() {
    let statuses = json!([
        running_container("nginx", true, 0),
        running_container("sidecar", false, 0)
    ]);
    let t = pods_table(&[pod(statuses)]);
    let row = &t["rows"][0];
    assert_eq!(
        row["cells"],
        json!([
            "web-7d4b9c6f5-x2x8k",
            "1/2",
            "Running",
            "0",
            "15m",
            "10.244.0.7",
            "node-1",
            "<none>",
            "<none>"
        ])
    );
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(row["object"]["metadata"]["name"], "web-7d4b9c6f5-x2x8k");
    assert!(row["object"].get("spec").is_none());
}

#[test]
fn deleting_pod_shows_terminating() {
    let statuses = json!([
        running_container("nginx", true, 0),
        running_container("sidecar", true, 0)
    ]);
    let mut p = pod(statuses);
    p["metadata"]["deletionTimestamp"] = json!("2025-06-01T11:59:30Z");
    assert_eq!(cell(&pods_table(&[p]), "Status"), "Terminating");
}

#[test]
fn waiting_reason_wins_and_restarts_say_when() {
    let crashing = json!({
        "name": "nginx", "image": "nginx:1.27", "imageID": "", "ready": false, "restartCount": 5,
        "state": { "waiting": { "reason": "CrashLoopBackOff" } },
        "lastState": { "terminated": { "exitCode": 1, "reason": "Error", "finishedAt": "2025-06-01T11:55:00Z" } },
    });
    let t = pods_table(&[pod(json!([
        crashing,
        running_container("sidecar", true, 0)
    ]))]);
    assert_eq!(cell(&t, "Status"), "CrashLoopBackOff");
    assert_eq!(cell(&t, "Restarts"), "5 (5m ago)");
    assert_eq!(cell(&t, "Ready"), "1/2");
}

#[test]
fn init_containers_show_progress() {
    let mut p = pod(json!([]));
    p["spec"]["initContainers"] = json!([{ "name": "migrate", "image": "migrate:1" }]);
    p["status"]["phase"] = json!("Pending");
    p["status"]["initContainerStatuses"] = json!([{
        "name": "migrate", "image": "migrate:1", "imageID": "", "ready": false, "restartCount": 0,
        "state": { "running": { "startedAt": "2025-06-01T11:58:00Z" } },
    }]);
    p["status"]["containerStatuses"] = json!([
        { "name": "nginx", "image": "nginx:1.27", "imageID": "", "ready": false, "restartCount": 0,
          "state": { "waiting": { "reason": "PodInitializing" } } },
    ]);
    let t = pods_table(&[p]);
    assert_eq!(cell(&t, "Status"), "Init:0/1");
    assert_eq!(cell(&t, "Ready"), "0/2");
}

#[test]
fn finished_pod_shows_completed_with_a_row_condition() {
    let done = |name: &str| {
        json!({
            "name": name, "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
            "state": { "terminated": { "exitCode": 0, "reason": "Completed" } },
        })
    };
    let mut p = pod(json!([done("nginx"), done("sidecar")]));
    p["status"]["phase"] = json!("Succeeded");
    let t = pods_table(&[p]);
    assert_eq!(cell(&t, "Status"), "Completed");
    assert_eq!(t["rows"][0]["conditions"][0]["type"], "Completed");
    assert_eq!(t["rows"][0]["conditions"][0]["reason"], "Succeeded");
}

#[test]
fn include_object_none_and_object() {
    let pods_resource = registry::by_kind("", "v1", "Pod").expect("pods are registered");
    let p = pod(json!([]));
    let none = table(
        pods_resource,
        std::slice::from_ref(&p),
        IncludeObject::None,
        now(),
    );
    assert_eq!(none["rows"][0]["object"], Value::Null);
    let whole = table(
        pods_resource,
        std::slice::from_ref(&p),
        IncludeObject::Object,
        now(),
    );
    assert_eq!(whole["rows"][0]["object"], p);
}
