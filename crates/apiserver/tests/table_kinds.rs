//! The tables of the other kinds, and upstream's age format.

use jiff::{SignedDuration, Timestamp};
use keelson_api::registry;
use keelson_apiserver::table::{IncludeObject, human_duration, table};
use serde_json::{Value, json};

fn now() -> Timestamp {
    "2025-06-01T12:00:00Z".parse().expect("valid timestamp")
}

fn cells(group: &str, kind: &str, object: Value) -> Value {
    let resource = registry::by_kind(group, "v1", kind).expect("registered kind");
    let t = table(resource, &[object], IncludeObject::None, now());
    t["rows"][0]["cells"].clone()
}

fn column_names(group: &str, kind: &str, priority: u64) -> Vec<String> {
    let resource = registry::by_kind(group, "v1", kind).expect("registered kind");
    table(resource, &[], IncludeObject::None, now())["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .filter(|c| c["priority"] == priority)
        .map(|c| c["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn ages_format_like_upstream() {
    let cases = [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (45, "45s"),
        (119, "119s"),
        (120, "2m"),
        (150, "2m30s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600 + 20 * 60, "3h20m"),
        (5 * 3600, "5h"),
        (20 * 3600 + 59 * 60, "20h"),
        (3 * 86400, "3d"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (40 * 86400, "40d"),
        (3 * 365 * 86400 + 20 * 86400, "3y20d"),
        (2 * 365 * 86400, "2y"),
        (10 * 365 * 86400, "10y"),
    ];
    for (seconds, expected) in cases {
        assert_eq!(
            human_duration(SignedDuration::from_secs(seconds)),
            expected,
            "{seconds}s"
        );
    }
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "web", "namespace": "default", "creationTimestamp": "2025-05-29T12:00:00Z" },
        "spec": {
            "replicas": 3,
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": { "containers": [
                    { "name": "nginx", "image": "nginx:1.27" },
                    { "name": "log", "image": "fluent-bit:3" },
                ] },
            },
        },
        "status": { "replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2 },
    })
}

#[test]
fn deployment_shows_ready_of_desired() {
    assert_eq!(
        column_names("apps", "Deployment", 0),
        ["Name", "Ready", "Up-to-date", "Available", "Age"]
    );
    assert_eq!(
        column_names("apps", "Deployment", 1),
        ["Containers", "Images", "Selector"]
    );
    assert_eq!(
        cells("apps", "Deployment", deployment()),
        json!([
            "web",
            "2/3",
            3,
            2,
            "3d",
            "nginx,log",
            "nginx:1.27,fluent-bit:3",
            "app=web"
        ])
    );
}

#[test]
fn replica_set_and_stateful_set() {
    let mut rs = deployment();
    rs["kind"] = json!("ReplicaSet");
    rs["status"] = json!({ "replicas": 3, "readyReplicas": 1 });
    assert_eq!(
        cells("apps", "ReplicaSet", rs),
        json!([
            "web",
            3,
            3,
            1,
            "3d",
            "nginx,log",
            "nginx:1.27,fluent-bit:3",
            "app=web"
        ])
    );
    let mut sts = deployment();
    sts["kind"] = json!("StatefulSet");
    sts["status"] = json!({ "replicas": 3, "readyReplicas": 3 });
    assert_eq!(
        column_names("apps", "StatefulSet", 0),
        ["Name", "Ready", "Age"]
    );
    assert_eq!(
        cells("apps", "StatefulSet", sts),
        json!(["web", "3/3", "3d", "nginx,log", "nginx:1.27,fluent-bit:3"])
    );
}

#[test]
fn job_has_status_completions_duration() {
    assert_eq!(
        column_names("batch", "Job", 0),
        ["Name", "Status", "Completions", "Duration", "Age"]
    );
    let job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": { "name": "pi", "namespace": "default", "creationTimestamp": "2025-06-01T11:50:00Z" },
        "spec": {
            "completions": 1,
            "selector": { "matchLabels": { "batch.kubernetes.io/controller-uid": "abc" } },
            "template": { "spec": { "restartPolicy": "Never", "containers": [{ "name": "pi", "image": "perl:5" }] } },
        },
        "status": {
            "succeeded": 1,
            "startTime": "2025-06-01T11:50:00Z",
            "completionTime": "2025-06-01T11:50:42Z",
            "conditions": [{ "type": "Complete", "status": "True" }],
        },
    });
    assert_eq!(
        cells("batch", "Job", job),
        json!([
            "pi",
            "Complete",
            "1/1",
            "42s",
            "10m",
            "pi",
            "perl:5",
            "batch.kubernetes.io/controller-uid=abc"
        ])
    );
}

#[test]
fn cron_job_columns() {
    assert_eq!(
        column_names("batch", "CronJob", 0),
        [
            "Name",
            "Schedule",
            "Timezone",
            "Suspend",
            "Active",
            "Last Schedule",
            "Age"
        ]
    );
    let cron = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": { "name": "hello", "namespace": "default", "creationTimestamp": "2025-06-01T10:00:00Z" },
        "spec": {
            "schedule": "*/5 * * * *", "suspend": false,
            "jobTemplate": { "spec": { "template": { "spec": { "containers": [{ "name": "c", "image": "busybox" }] } } } },
        },
        "status": { "lastScheduleTime": "2025-06-01T11:55:00Z" },
    });
    assert_eq!(
        cells("batch", "CronJob", cron),
        json!([
            "hello",
            "*/5 * * * *",
            "<none>",
            "False",
            0,
            "5m",
            "120m",
            "c",
            "busybox",
            "<none>"
        ])
    );
}

#[test]
fn service_node_and_namespace() {
    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": "web", "namespace": "default", "creationTimestamp": "2025-06-01T11:00:00Z" },
        "spec": {
            "type": "NodePort", "clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"],
            "selector": { "app": "web" },
            "ports": [{ "port": 80, "protocol": "TCP", "nodePort": 30080, "targetPort": 8080 }],
        },
    });
    assert_eq!(
        cells("", "Service", svc),
        json!([
            "web",
            "NodePort",
            "10.96.0.12",
            "<none>",
            "80:30080/TCP",
            "60m",
            "app=web"
        ])
    );
    let node = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": "node-1", "creationTimestamp": "2025-05-31T12:00:00Z",
            "labels": { "node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "node-1" },
        },
        "spec": { "unschedulable": true },
        "status": {
            "conditions": [{ "type": "Ready", "status": "True" }],
            "addresses": [{ "type": "InternalIP", "address": "192.168.1.10" }],
            "nodeInfo": {
                "kubeletVersion": "v1.33.0", "osImage": "Debian GNU/Linux 12", "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "keelson://0.1.0", "architecture": "amd64", "bootID": "",
                "kubeProxyVersion": "", "machineID": "", "operatingSystem": "linux", "systemUUID": "",
            },
        },
    });
    assert_eq!(
        cells("", "Node", node),
        json!([
            "node-1",
            "Ready,SchedulingDisabled",
            "control-plane",
            "24h",
            "v1.33.0",
            "192.168.1.10",
            "<none>",
            "Debian GNU/Linux 12",
            "6.1.0",
            "keelson://0.1.0"
        ])
    );
    let ns = json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": { "name": "default", "creationTimestamp": "2025-06-01T11:59:15Z" },
        "status": { "phase": "Active" },
    });
    assert_eq!(
        cells("", "Namespace", ns),
        json!(["default", "Active", "45s"])
    );
}

#[test]
fn events_put_wide_columns_in_upstream_order() {
    assert_eq!(
        column_names("", "Event", 0),
        ["Last Seen", "Type", "Reason", "Object", "Message"]
    );
    assert_eq!(
        column_names("", "Event", 1),
        ["Subobject", "Source", "First Seen", "Count", "Name"]
    );
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": { "name": "web.17f0", "namespace": "default", "creationTimestamp": "2025-06-01T11:50:00Z" },
        "involvedObject": { "kind": "Pod", "name": "web", "namespace": "default", "fieldPath": "spec.containers{nginx}" },
        "reason": "Pulled", "message": "Container image pulled\n", "type": "Normal", "count": 3,
        "firstTimestamp": "2025-06-01T11:50:00Z", "lastTimestamp": "2025-06-01T11:58:00Z",
        "source": { "component": "kubelet", "host": "node-1" },
    });
    assert_eq!(
        cells("", "Event", event),
        json!([
            "2m",
            "Normal",
            "Pulled",
            "pod/web",
            "spec.containers{nginx}",
            "kubelet, node-1",
            "Container image pulled",
            "10m",
            3,
            "web.17f0"
        ])
    );
}

#[test]
fn config_secrets_and_claims() {
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": { "name": "settings", "namespace": "default", "creationTimestamp": "2025-06-01T11:59:00Z" },
        "data": { "a": "1", "b": "2" }, "binaryData": { "c": "AA==" },
    });
    assert_eq!(cells("", "ConfigMap", cm), json!(["settings", 3, "60s"]));
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": { "name": "token", "namespace": "default", "creationTimestamp": "2025-06-01T11:59:00Z" },
        "type": "Opaque", "data": { "t": "eA==" },
    });
    assert_eq!(
        cells("", "Secret", secret),
        json!(["token", "Opaque", 1, "60s"])
    );
    let pvc = json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": { "name": "data", "namespace": "default", "creationTimestamp": "2025-06-01T11:00:00Z" },
        "spec": { "accessModes": ["ReadWriteOnce"], "volumeName": "pv-1", "storageClassName": "local",
                  "resources": { "requests": { "storage": "1Gi" } }, "volumeMode": "Filesystem" },
        "status": { "phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": { "storage": "1024Mi" } },
    });
    assert_eq!(
        cells("", "PersistentVolumeClaim", pvc),
        json!([
            "data",
            "Bound",
            "pv-1",
            "1Gi",
            "RWO",
            "local",
            "<unset>",
            "60m",
            "Filesystem"
        ])
    );
}

#[test]
fn endpoints_and_slices_list_three_then_more() {
    let endpoints = json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": { "name": "web", "namespace": "default", "creationTimestamp": "2025-06-01T11:59:00Z" },
        "subsets": [{
            "addresses": [{ "ip": "10.0.0.1" }, { "ip": "10.0.0.2" }, { "ip": "10.0.0.3" }, { "ip": "10.0.0.4" }],
            "ports": [{ "port": 8080, "protocol": "TCP" }],
        }],
    });
    assert_eq!(
        cells("", "Endpoints", endpoints),
        json!([
            "web",
            "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more...",
            "60s"
        ])
    );
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": { "name": "web-abc", "namespace": "default", "creationTimestamp": "2025-06-01T11:59:00Z" },
        "addressType": "IPv4",
        "endpoints": [{ "addresses": ["10.0.0.1"] }, { "addresses": ["10.0.0.2"] }],
        "ports": [{ "port": 8080, "protocol": "TCP", "name": "http" }],
    });
    assert_eq!(
        cells("discovery.k8s.io", "EndpointSlice", slice),
        json!(["web-abc", "IPv4", "8080", "10.0.0.1,10.0.0.2", "60s"])
    );
}

#[test]
fn controller_revision_names_its_owner() {
    let revision = json!({
        "apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {
            "name": "web-5d8f", "namespace": "default", "creationTimestamp": "2025-06-01T11:59:00Z",
            "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "u", "controller": true }],
        },
        "revision": 2,
    });
    assert_eq!(
        cells("apps", "ControllerRevision", revision),
        json!(["web-5d8f", "statefulset.apps/web", 2, "60s"])
    );
}
