//! A node's identity against `keelson up`, through the real kubectl: a
//! kubeconfig for `system:node:n1` from `keelson kubeconfig user`, and
//! what the Node authorizer and NodeRestriction let it do: its own Node
//! and Lease, the secrets of pods bound to it, their deletion and tokens,
//! and upstream's 403 for everything else.

mod support;

use support::{Run, Server};

/// A kubeconfig for node `name`, written beside the server's data.
fn node_kubeconfig(server: &Server, name: &str) -> String {
    let data_dir = server.kubeconfig();
    let data_dir = data_dir
        .parent()
        .expect("the kubeconfig is in the data dir");
    let run = server.keelson(&[
        "kubeconfig",
        "user",
        "--client-name",
        &format!("system:node:{name}"),
        "--org",
        "system:nodes",
        "--data-dir",
        data_dir.to_str().unwrap_or_default(),
    ]);
    assert!(run.status.success(), "{run}");
    server.manifest(&format!("{name}.kubeconfig"), &run.stdout)
}

fn refused(run: &Run, message: &str) {
    assert!(!run.status.success(), "expected a refusal\n{run}");
    assert!(run.stderr.contains(message), "expected {message:?}\n{run}");
}

#[test]
fn a_node_reads_and_writes_only_what_upstream_gives_a_kubelet() {
    let server = Server::start();
    let kubeconfig = node_kubeconfig(&server, "n1");
    let as_node = |args: &[&str]| {
        let mut all = vec!["--kubeconfig", kubeconfig.as_str()];
        all.extend_from_slice(args);
        server.kubectl(all.as_slice())
    };
    let whoami = as_node(&["auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"]);
    assert!(whoami.stdout.contains("system:nodes"), "{whoami}");

    // Its own Node, not another's; and not all of them.
    let node = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/hostname: {name}\n"
        )
    };
    let own = server.manifest("n1.yaml", &node("n1"));
    let run = as_node(&["create", "-f", &own]);
    assert!(run.status.success(), "{run}");
    let other = server.manifest("n2.yaml", &node("n2"));
    refused(
        &as_node(&["create", "-f", &other]),
        r#"nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2""#,
    );
    refused(
        &as_node(&["get", "nodes"]),
        r#"nodes is forbidden: User "system:node:n1" cannot list resource "nodes" in API group "" at the cluster scope: node 'n1' cannot read all nodes, only its own Node object"#,
    );
    let run = as_node(&["get", "node", "n1", "-o", "name"]);
    assert_eq!(run.stdout.trim(), "node/n1", "{run}");
    refused(
        &as_node(&["label", "node", "n1", "node-role.kubernetes.io/worker="]),
        "is not allowed to modify labels: node-role.kubernetes.io/worker",
    );
    let run = as_node(&["label", "node", "n1", "example.com/rack=r1"]);
    assert!(run.status.success(), "{run}");

    // The secrets of pods bound to it, and no others.
    server.ok(&["create", "secret", "generic", "used", "--from-literal=a=1"]);
    server.ok(&[
        "create",
        "secret",
        "generic",
        "unused",
        "--from-literal=a=1",
    ]);
    server.ok(&["create", "serviceaccount", "web-account"]);
    let pod = |name: &str, node: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  nodeName: {node}\n  serviceAccountName: web-account\n  containers:\n  - name: app\n    image: app\n  volumes:\n  - name: s\n    secret:\n      secretName: used\n"
        )
    };
    server.ok(&[
        "apply",
        "-f",
        &server.manifest("web.yaml", &pod("web", "n1")),
    ]);
    server.ok(&["apply", "-f", &server.manifest("db.yaml", &pod("db", "n2"))]);
    let run = as_node(&["get", "secret", "used", "-o", "jsonpath={.data.a}"]);
    assert_eq!(run.stdout.trim(), "MQ==", "{run}");
    refused(
        &as_node(&["get", "secret", "unused"]),
        r#"secrets "unused" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'n1' and this object"#,
    );
    let run = as_node(&[
        "get",
        "pods",
        "--field-selector",
        "spec.nodeName=n1",
        "-o",
        "name",
    ]);
    assert_eq!(run.stdout.trim(), "pod/web", "{run}");
    refused(
        &as_node(&["get", "pods"]),
        "can only list/watch pods with spec.nodeName field selector",
    );

    // Tokens only bound to its own pods.
    refused(
        &as_node(&["create", "token", "web-account"]),
        "node requested token not bound to a pod",
    );
    let uid = server.ok(&["get", "pod", "web", "-o", "jsonpath={.metadata.uid}"]);
    let run = as_node(&[
        "create",
        "token",
        "web-account",
        "--bound-object-kind",
        "Pod",
        "--bound-object-name",
        "web",
        "--bound-object-uid",
        uid.trim(),
    ]);
    assert!(
        run.status.success() && run.stdout.trim().starts_with("ey"),
        "{run}"
    );

    // Its pods' deletion, not other nodes' pods; no pods but mirror pods.
    refused(
        &as_node(&["delete", "pod", "db", "--wait=false"]),
        r#"node "n1" can only delete pods with spec.nodeName set to itself"#,
    );
    refused(
        &as_node(&[
            "create",
            "-f",
            &server.manifest("new.yaml", &pod("new", "n1")),
        ]),
        r#"pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods"#,
    );
    let run = as_node(&["delete", "pod", "web", "--wait=false"]);
    assert!(run.status.success(), "{run}");

    // Its own lease in kube-node-lease only.
    let lease = |name: &str, namespace: &str| {
        format!(
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  holderIdentity: {name}\n"
        )
    };
    let run = as_node(&[
        "create",
        "-f",
        &server.manifest("lease.yaml", &lease("n1", "kube-node-lease")),
    ]);
    assert!(run.status.success(), "{run}");
    refused(
        &as_node(&[
            "create",
            "-f",
            &server.manifest("lease2.yaml", &lease("n2", "kube-node-lease")),
        ]),
        "can only access node lease with the same name as the requesting node",
    );
}
