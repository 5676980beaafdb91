//! The garbage collector `keelson up` runs, through the real kubectl:
//! `kubectl delete --cascade=background|foreground|orphan` of a ConfigMap
//! that owns a ConfigMap and a Secret (ownership set by the test).

mod support;

use std::time::Duration;

use support::Server;

/// A ConfigMap `owner` and two dependents, `child` (ConfigMap) and
/// `child` (Secret), that block its foreground deletion.
fn family(server: &Server) {
    server.ok(&["create", "configmap", "owner"]);
    let uid = server.ok(&[
        "get",
        "configmap",
        "owner",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    let reference = format!(
        "  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: owner\n    uid: {}\n    blockOwnerDeletion: true\n",
        uid.trim()
    );
    let manifest = server.manifest(
        "children.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: child\n{reference}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: child\n{reference}"
        ),
    );
    server.ok(&["apply", "-f", &manifest]);
}

/// Whether `kubectl get KIND NAME` finds nothing.
fn absent(server: &Server, kind: &str, name: &str) -> bool {
    let run = server.kubectl(&["get", kind, name, "--ignore-not-found", "-o", "name"]);
    run.status.success() && run.stdout.trim().is_empty()
}

/// Waits (at most 20 s) until `check` holds.
fn until(server: &Server, what: &str, check: impl Fn(&Server) -> bool) {
    for _ in 0..100 {
        if check(server) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{what}: not within 20 s\n{}", server.log());
}

#[test]
fn cascade_background_deletes_the_dependents() {
    let server = Server::start();
    family(&server);
    server.ok(&["delete", "configmap", "owner", "--cascade=background"]);
    until(&server, "the dependents collected", |s| {
        absent(s, "configmap", "child") && absent(s, "secret", "child")
    });
}

#[test]
fn cascade_foreground_deletes_the_dependents_first() {
    let server = Server::start();
    family(&server);
    // kubectl waits for the owner, which goes only after its dependents.
    server.ok(&[
        "delete",
        "configmap",
        "owner",
        "--cascade=foreground",
        "--timeout=20s",
    ]);
    assert!(absent(&server, "configmap", "owner"));
    assert!(absent(&server, "configmap", "child"));
    assert!(absent(&server, "secret", "child"));
}

#[test]
fn cascade_orphan_keeps_the_dependents() {
    let server = Server::start();
    family(&server);
    server.ok(&[
        "delete",
        "configmap",
        "owner",
        "--cascade=orphan",
        "--timeout=20s",
    ]);
    until(&server, "the owner gone", |s| {
        absent(s, "configmap", "owner")
    });
    for kind in ["configmap", "secret"] {
        let owners = server.ok(&[
            "get",
            kind,
            "child",
            "-o",
            "jsonpath={.metadata.ownerReferences}",
        ]);
        assert_eq!(owners.trim(), "", "{kind} still owned");
    }
}
