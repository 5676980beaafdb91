//! The tables of the policy, scheduling, storage, events, networking,
//! autoscaling, core controller and quota, RBAC and apiregistration
//! kinds: upstream's columns, and the cells upstream prints for them.

use jiff::Timestamp;
use keelson_api::printers::Printer;
use keelson_api::registry;
use serde_json::{Value, json};

fn now() -> Timestamp {
    "2025-06-01T12:00:00Z".parse().expect("a time")
}

fn printer(group: &str, version: &str, kind: &str) -> &'static Printer {
    registry::by_kind(group, version, kind)
        .and_then(|r| r.strategy.printer())
        .unwrap_or_else(|| panic!("{kind} has a printer"))
}

/// `(default columns, wide columns)` by name.
fn columns(group: &str, version: &str, kind: &str) -> (Vec<&'static str>, Vec<&'static str>) {
    let columns = printer(group, version, kind).columns;
    let names = |priority| {
        columns
            .iter()
            .filter(|c| c.priority == priority)
            .map(|c| c.name)
            .collect()
    };
    (names(0), names(1))
}

fn cells(group: &str, version: &str, kind: &str, mut object: Value) -> Value {
    object["metadata"]["creationTimestamp"] = json!("2025-05-29T12:00:00Z");
    let row = printer(group, version, kind)
        .row(&object, now())
        .expect("a row");
    Value::from(row.cells)
}

#[test]
fn disruption_budgets_priority_classes_and_quotas() {
    assert_eq!(
        columns("policy", "v1", "PodDisruptionBudget").0,
        [
            "Name",
            "Min Available",
            "Max Unavailable",
            "Allowed Disruptions",
            "Age"
        ]
    );
    let budget = json!({"metadata": {"name": "web"}, "spec": {"maxUnavailable": "25%"},
                        "status": {"disruptionsAllowed": 2, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}});
    assert_eq!(
        cells("policy", "v1", "PodDisruptionBudget", budget),
        json!(["web", "N/A", "25%", 2, "3d"])
    );
    assert_eq!(
        columns("scheduling.k8s.io", "v1", "PriorityClass"),
        (
            vec!["Name", "Value", "Global-Default", "Age"],
            vec!["PreemptionPolicy"]
        )
    );
    let class = json!({"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"});
    assert_eq!(
        cells("scheduling.k8s.io", "v1", "PriorityClass", class),
        json!(["high", 1000, false, "3d", "Never"])
    );
    let quota = json!({"metadata": {"name": "q"}, "status": {
        "hard": {"pods": "10", "limits.cpu": "4", "requests.memory": "1Gi"},
        "used": {"pods": "3", "limits.cpu": "500m"}}});
    assert_eq!(
        cells("", "v1", "ResourceQuota", quota),
        json!([
            "q",
            "pods: 3/10, requests.memory: 0/1Gi",
            "limits.cpu: 500m/4",
            "3d"
        ])
    );
}

#[test]
fn storage_classes_mark_the_default() {
    assert_eq!(
        columns("storage.k8s.io", "v1", "StorageClass").0,
        [
            "Name",
            "Provisioner",
            "ReclaimPolicy",
            "VolumeBindingMode",
            "AllowVolumeExpansion",
            "Age"
        ]
    );
    let class = json!({"metadata": {"name": "local", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                       "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"});
    assert_eq!(
        cells("storage.k8s.io", "v1", "StorageClass", class),
        json!([
            "local (default)",
            "rancher.io/local-path",
            "Delete",
            "WaitForFirstConsumer",
            false,
            "3d"
        ])
    );
}

#[test]
fn events_k8s_io_events_print_as_core_events() {
    assert_eq!(
        columns("events.k8s.io", "v1", "Event").0,
        ["Last Seen", "Type", "Reason", "Object", "Message"]
    );
    let event = json!({"metadata": {"name": "web.1"}, "eventTime": "2025-06-01T11:59:00.000000Z",
        "type": "Warning", "reason": "BackOff", "note": " restarting ",
        "regarding": {"kind": "Pod", "name": "web"}, "reportingController": "kubelet", "reportingInstance": "n1"});
    assert_eq!(
        cells("events.k8s.io", "v1", "Event", event),
        json!([
            "60s",
            "Warning",
            "BackOff",
            "pod/web",
            "",
            "kubelet, n1",
            "restarting",
            "60s",
            1,
            "web.1"
        ])
    );
}

#[test]
fn networking_kinds() {
    assert_eq!(
        columns("networking.k8s.io", "v1", "Ingress").0,
        ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
    );
    let hosts: Vec<Value> = ["a.com", "", "b.com", "c.com", "d.com"]
        .iter()
        .map(|h| json!({"host": h}))
        .collect();
    let ingress = json!({"metadata": {"name": "web"}, "spec": {"rules": hosts, "tls": [{"hosts": ["a.com"]}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "192.168.100.101"}, {"hostname": "lb.example.com"}]}}});
    assert_eq!(
        cells("networking.k8s.io", "v1", "Ingress", ingress),
        json!([
            "web",
            "<none>",
            "a.com,b.com,c.com + 2 more...",
            "192.168.100.1...",
            "80, 443",
            "3d"
        ])
    );
    let class = json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx",
        "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external"}}});
    assert_eq!(
        cells("networking.k8s.io", "v1", "IngressClass", class),
        json!([
            "nginx",
            "k8s.io/ingress-nginx",
            "IngressParameters.k8s.example.com/external",
            "3d"
        ])
    );
    let policy = json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}}});
    assert_eq!(
        cells("networking.k8s.io", "v1", "NetworkPolicy", policy),
        json!(["deny", "app=web", "3d"])
    );
    let everything = json!({"metadata": {"name": "all"}, "spec": {"podSelector": {}}});
    assert_eq!(
        cells("networking.k8s.io", "v1", "NetworkPolicy", everything)[1],
        "<none>"
    );
    let cidr = json!({"metadata": {"name": "kubernetes"}, "spec": {"cidrs": ["10.96.0.0/12", "fd00::/108"]}});
    assert_eq!(
        cells("networking.k8s.io", "v1", "ServiceCIDR", cidr),
        json!(["kubernetes", "10.96.0.0/12,fd00::/108", "3d"])
    );
    assert_eq!(
        columns("networking.k8s.io", "v1", "IPAddress").0,
        ["Name", "ParentRef"]
    );
    let address = json!({"metadata": {"name": "10.96.0.1"},
        "spec": {"parentRef": {"group": "", "resource": "services", "namespace": "default", "name": "kubernetes"}}});
    assert_eq!(
        cells("networking.k8s.io", "v1", "IPAddress", address),
        json!(["10.96.0.1", "services/default/kubernetes"])
    );
}

#[test]
fn autoscalers_summarize_their_metrics() {
    assert_eq!(
        columns("autoscaling", "v2", "HorizontalPodAutoscaler").0,
        [
            "Name",
            "Reference",
            "Targets",
            "MinPods",
            "MaxPods",
            "Replicas",
            "Age"
        ]
    );
    let autoscaler = json!({"metadata": {"name": "web"}, "spec": {
    "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 10,
    "metrics": [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
        {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
        {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "30"}}},
    ]},
    "status": {"currentReplicas": 3, "desiredReplicas": 3, "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45}}},
    ]}});
    assert_eq!(
        cells("autoscaling", "v2", "HorizontalPodAutoscaler", autoscaler),
        json!([
            "web",
            "Deployment/web",
            "cpu: 45%/80%, <unknown>/1k + 1 more...",
            "<unset>",
            10,
            3,
            "3d"
        ])
    );
}

#[test]
fn pod_templates_and_replication_controllers() {
    let template = json!({"metadata": {"labels": {"app": "web", "tier": "fe"}},
                          "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}});
    assert_eq!(
        columns("", "v1", "PodTemplate").0,
        ["Name", "Containers", "Images", "Pod Labels"]
    );
    let pod_template = json!({"metadata": {"name": "t"}, "template": template});
    assert_eq!(
        cells("", "v1", "PodTemplate", pod_template),
        json!(["t", "nginx", "nginx:1.27", "app=web,tier=fe"])
    );
    assert_eq!(
        columns("", "v1", "ReplicationController"),
        (
            vec!["Name", "Desired", "Current", "Ready", "Age"],
            vec!["Containers", "Images", "Selector"]
        )
    );
    let controller = json!({"metadata": {"name": "rc"}, "spec": {"replicas": 2, "selector": {"app": "web"}, "template": template},
                            "status": {"replicas": 2, "readyReplicas": 1}});
    assert_eq!(
        cells("", "v1", "ReplicationController", controller),
        json!(["rc", 2, 2, 1, "3d", "nginx", "nginx:1.27", "app=web"])
    );
}

#[test]
fn bindings_and_api_services() {
    assert_eq!(
        columns("rbac.authorization.k8s.io", "v1", "RoleBinding"),
        (
            vec!["Name", "Role", "Age"],
            vec!["Users", "Groups", "ServiceAccounts"]
        )
    );
    let binding = json!({"metadata": {"name": "read"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": "jane"}, {"kind": "User", "name": "joe"},
                     {"kind": "Group", "name": "devs"}, {"kind": "ServiceAccount", "name": "ci", "namespace": "build"}]});
    assert_eq!(
        cells(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            binding
        ),
        json!([
            "read",
            "ClusterRole/view",
            "3d",
            "jane, joe",
            "devs",
            "build/ci"
        ])
    );
    for kind in ["Role", "ClusterRole"] {
        let role = registry::by_kind("rbac.authorization.k8s.io", "v1", kind).expect("served");
        assert!(
            role.strategy.printer().is_none(),
            "{kind} prints the default table"
        );
    }
    assert_eq!(
        columns("apiregistration.k8s.io", "v1", "APIService").0,
        ["Name", "Service", "Available", "Age"]
    );
    let local = json!({"metadata": {"name": "v1.apps"}, "spec": {"group": "apps", "version": "v1", "groupPriorityMinimum": 17800, "versionPriority": 15},
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]}});
    assert_eq!(
        cells("apiregistration.k8s.io", "v1", "APIService", local),
        json!(["v1.apps", "Local", "True", "3d"])
    );
    let remote = json!({"metadata": {"name": "v1beta1.metrics.k8s.io"}, "spec": {"groupPriorityMinimum": 100, "versionPriority": 100,
        "service": {"namespace": "kube-system", "name": "metrics-server"}},
        "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}});
    assert_eq!(
        cells("apiregistration.k8s.io", "v1", "APIService", remote),
        json!([
            "v1beta1.metrics.k8s.io",
            "kube-system/metrics-server",
            "False (MissingEndpoints)",
            "3d"
        ])
    );
}
