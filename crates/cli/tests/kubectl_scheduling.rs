//! The scheduler inside `keelson up`, through the real kubectl: Node
//! objects (no node agent), a pod that fits nowhere and one that fits.
//! `kubectl describe pod` shows the FailedScheduling event in upstream's
//! words, `kubectl get events` the `Scheduled` one, and `kubectl get pods
//! -o wide` the node.

mod support;

use support::Server;

const NODES: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: small
  labels: {kubernetes.io/hostname: small}
---
apiVersion: v1
kind: Node
metadata:
  name: cp1
  labels: {kubernetes.io/hostname: cp1}
spec:
  taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
---
apiVersion: v1
kind: Node
metadata:
  name: cp2
  labels: {kubernetes.io/hostname: cp2}
spec:
  taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
"#;

const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  containers:
  - name: app
    image: nginx:1.27
    resources: {requests: {cpu: "2"}}
---
apiVersion: v1
kind: Pod
metadata: {name: little}
spec:
  containers:
  - name: app
    image: nginx:1.27
    resources: {requests: {cpu: 100m}}
"#;

/// Runs kubectl until its output contains `expected` (at most 20 s).
fn until_contains(server: &Server, args: &[&str], expected: &str) -> String {
    for _ in 0..200 {
        let run = server.kubectl(args);
        if run.status.success() && run.stdout.contains(expected) {
            return run.stdout;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let run = server.kubectl(args);
    panic!("no {expected:?} within 20 s:\n{run}");
}

#[test]
fn kubectl_shows_why_a_pod_waits_and_where_one_went() {
    let server = Server::start();
    let nodes = server.manifest("nodes.yaml", NODES);
    server.ok(&["apply", "-f", &nodes]);
    for (name, cpu) in [("small", "1"), ("cp1", "8"), ("cp2", "8")] {
        let status = format!(
            r#"{{"status":{{"allocatable":{{"cpu":"{cpu}","memory":"8Gi","pods":"110"}},"capacity":{{"cpu":"{cpu}","memory":"8Gi","pods":"110"}}}}}}"#
        );
        server.ok(&[
            "patch",
            "node",
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status,
        ]);
    }
    until_contains(&server, &["get", "sa", "default", "-o", "name"], "default");
    let pods = server.manifest("pods.yaml", PODS);
    server.ok(&["apply", "-f", &pods]);

    let expected = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint \
        {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: \
        1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.";
    let described = until_contains(&server, &["describe", "pod", "big"], "FailedScheduling");
    assert!(described.contains(expected), "{described}");
    assert!(described.contains("default-scheduler"), "{described}");
    let condition = server.ok(&[
        "get",
        "pod",
        "big",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].reason}",
    ]);
    assert_eq!(condition.trim(), "Unschedulable");

    until_contains(
        &server,
        &[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=little",
        ],
        "Successfully assigned default/little to small",
    );
    let wide = server.ok(&["get", "pod", "little", "-o", "wide"]);
    assert!(support::row(&wide, "little").contains(&"small"), "{wide}");
}
