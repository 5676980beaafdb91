//! Namespaces under `keelson up`, through the real kubectl: `kubectl
//! delete namespace` of a namespace with content finishes (the Namespace
//! controller empties it and takes its finalizer out) and the namespace is
//! gone; a pod naming a ServiceAccount that does not exist is refused, and
//! a deleted `default` ServiceAccount comes back, so that pods of it are
//! admitted again.

mod support;

use support::{Server, eventually};

#[test]
fn a_namespace_with_content_is_deleted() {
    let server = Server::start();
    server.ok(&["create", "namespace", "doomed"]);
    server.ok(&[
        "create",
        "configmap",
        "settings",
        "-n",
        "doomed",
        "--from-literal=a=b",
    ]);
    server.ok(&[
        "create",
        "secret",
        "generic",
        "password",
        "-n",
        "doomed",
        "--from-literal=p=q",
    ]);
    eventually(
        &server,
        &["get", "sa", "default", "-n", "doomed", "-o", "name"],
    );
    server.ok(&[
        "run",
        "app",
        "-n",
        "doomed",
        "--image",
        "nginx:1.27",
        "--restart",
        "Never",
    ]);
    // kubectl waits until the namespace is gone.
    server.ok(&["delete", "namespace", "doomed", "--timeout=60s"]);
    let gone = server.kubectl(&["get", "namespace", "doomed"]);
    assert!(!gone.status.success(), "{gone}");
    assert!(gone.stderr.contains("NotFound"), "{gone}");
}

#[test]
fn pods_need_their_service_account() {
    let server = Server::start();
    let refused = server.kubectl(&[
        "run",
        "robot",
        "--image",
        "nginx:1.27",
        "--restart",
        "Never",
        "--overrides",
        r#"{"spec": {"serviceAccountName": "robot"}}"#,
    ]);
    assert!(!refused.status.success(), "{refused}");
    assert!(
        refused.stderr.contains(
            "error looking up service account default/robot: serviceaccount \"robot\" not found"
        ),
        "{refused}"
    );
    // The default account, deleted, comes back, and its pods are admitted.
    eventually(&server, &["get", "sa", "default", "-o", "name"]);
    server.ok(&["delete", "sa", "default"]);
    eventually(&server, &["get", "sa", "default", "-o", "name"]);
    server.ok(&["run", "web", "--image", "nginx:1.27", "--restart", "Never"]);
}
