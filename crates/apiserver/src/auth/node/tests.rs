//! Table tests of the Node authorizer: what node `n1` may read and write
//! in a cluster with a pod on it, a pod on `n2`, and the objects they use.

use serde_json::{Value, json};

use super::{NodeAuthorizer, Verdict, node_of, references};
use crate::auth::request_info::parse;
use crate::auth::user::User;
use crate::watch::Caches;

fn pod(name: &str, node: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["nodeName"] = json!(node);
    spec["serviceAccountName"] = json!(format!("{name}-account"));
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "dev", "uid": format!("{name}-uid")},
        "spec": spec})
}

/// A cluster of two nodes: `web` on n1 uses a secret, a configmap, a
/// claim bound to a volume that names a secret of its own; `db` on n2
/// uses others.
async fn authorizer() -> (NodeAuthorizer, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = keelson_store::open(&format!("embedded:{}", dir.path().display()))
        .await
        .expect("a store");
    let web = pod(
        "web",
        "n1",
        json!({
            "imagePullSecrets": [{"name": "registry"}],
            "containers": [{"name": "app", "image": "app",
                "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "a"}}}],
                "envFrom": [{"secretRef": {"name": "env-secret"}}]}],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "cert", "projected": {"sources": [{"secret": {"name": "projected"}}]}},
                {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}
            ]
        }),
    );
    let db = pod(
        "db",
        "n2",
        json!({"containers": [{"name": "db", "image": "db"}],
            "volumes": [{"name": "s", "secret": {"secretName": "db-secret"}}]}),
    );
    let unbound = pod(
        "pending",
        "",
        json!({"containers": [{"name": "p", "image": "p"}],
            "volumes": [{"name": "s", "secret": {"secretName": "pending-secret"}}]}),
    );
    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "dev"}, "spec": {"volumeName": "pv-data"}});
    let volume = json!({"apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": "pv-data"},
        "spec": {"claimRef": {"namespace": "dev", "name": "data"},
            "csi": {"driver": "d", "volumeHandle": "h", "nodePublishSecretRef": {"name": "csi-secret", "namespace": "dev"}}}});
    let objects = [
        ("pods", "dev", "web", web),
        ("pods", "dev", "db", db),
        ("pods", "dev", "pending", unbound),
        ("persistentvolumeclaims", "dev", "data", claim),
        ("persistentvolumes", "", "pv-data", volume),
    ];
    for (plural, namespace, name, object) in objects {
        let resource = keelson_api::registry::by_resource("", plural).expect("served");
        let key = keelson_api::registry::storage_key(resource, namespace, name);
        let key = key.as_str();
        let bytes = serde_json::to_vec(&object).expect("json");
        store.create(key, bytes.into()).await.expect("stored");
    }
    let rules = crate::registry::bootstrap::node_rules();
    (NodeAuthorizer::new(Caches::new(store), rules), dir)
}

fn verdict(allowed: bool, reason: &str) -> Verdict {
    match allowed {
        true => Verdict::Allow,
        false => Verdict::NoOpinion(reason.to_string()),
    }
}

const NO_RELATION: &str = "no relationship found between node 'n1' and this object";

#[tokio::test]
async fn a_node_reads_what_its_pods_use_and_writes_what_is_its_own() {
    let (authorizer, _dir) = authorizer().await;
    let n1 = User::new("system:node:n1", &["system:nodes", "system:authenticated"]);
    let cases: &[(&str, &str, bool, &str)] = &[
        // What web, bound to n1, uses.
        ("GET", "/api/v1/namespaces/dev/secrets/registry", true, ""),
        ("GET", "/api/v1/namespaces/dev/secrets/env-secret", true, ""),
        ("GET", "/api/v1/namespaces/dev/secrets/projected", true, ""),
        (
            "GET",
            "/api/v1/namespaces/dev/configmaps/settings",
            true,
            "",
        ),
        (
            "GET",
            "/api/v1/namespaces/dev/persistentvolumeclaims/data",
            true,
            "",
        ),
        (
            "GET",
            "/api/v1/namespaces/dev/persistentvolumeclaims/web-scratch",
            true,
            "",
        ),
        ("GET", "/api/v1/persistentvolumes/pv-data", true, ""),
        // A secret the pod's volume names, through claim and volume.
        ("GET", "/api/v1/namespaces/dev/secrets/csi-secret", true, ""),
        // One object watched by name is a read of it.
        (
            "GET",
            "/api/v1/namespaces/dev/secrets?fieldSelector=metadata.name%3Dregistry&watch=true",
            true,
            "",
        ),
        (
            "POST",
            "/api/v1/namespaces/dev/serviceaccounts/web-account/token",
            true,
            "",
        ),
        ("GET", "/api/v1/namespaces/dev/pods/web", true, ""),
        // What other nodes' pods, or unbound ones, use.
        (
            "GET",
            "/api/v1/namespaces/dev/secrets/db-secret",
            false,
            NO_RELATION,
        ),
        (
            "GET",
            "/api/v1/namespaces/dev/secrets/pending-secret",
            false,
            NO_RELATION,
        ),
        (
            "GET",
            "/api/v1/namespaces/other/secrets/registry",
            false,
            NO_RELATION,
        ),
        ("GET", "/api/v1/namespaces/dev/pods/db", false, NO_RELATION),
        (
            "POST",
            "/api/v1/namespaces/dev/serviceaccounts/db-account/token",
            false,
            NO_RELATION,
        ),
        // Only reads of single objects.
        (
            "GET",
            "/api/v1/namespaces/dev/secrets",
            false,
            "No Object name found",
        ),
        (
            "GET",
            "/api/v1/secrets",
            false,
            "can only read namespaced object of this type",
        ),
        (
            "DELETE",
            "/api/v1/namespaces/dev/secrets/registry",
            false,
            "can only read resources of this type",
        ),
        (
            "PUT",
            "/api/v1/namespaces/dev/persistentvolumeclaims/data",
            false,
            "can only get individual resources of this type",
        ),
        (
            "PATCH",
            "/api/v1/namespaces/dev/persistentvolumeclaims/data/status",
            true,
            "",
        ),
        (
            "GET",
            "/api/v1/namespaces/dev/serviceaccounts/web-account",
            false,
            "can only create tokens for individual service accounts",
        ),
        (
            "POST",
            "/api/v1/namespaces/dev/serviceaccounts/web-account",
            false,
            "can only create token subresource of serviceaccount",
        ),
        // Pods: by field selector of the node, or one at a time.
        (
            "GET",
            "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1",
            true,
            "",
        ),
        (
            "GET",
            "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&watch=1",
            true,
            "",
        ),
        (
            "GET",
            "/api/v1/pods?fieldSelector=spec.nodeName%3Dn2",
            false,
            "can only list/watch pods with spec.nodeName field selector",
        ),
        (
            "GET",
            "/api/v1/pods",
            false,
            "can only list/watch pods with spec.nodeName field selector",
        ),
        ("POST", "/api/v1/namespaces/dev/pods", true, ""),
        ("DELETE", "/api/v1/namespaces/dev/pods/web", true, ""),
        ("PATCH", "/api/v1/namespaces/dev/pods/web/status", true, ""),
        ("POST", "/api/v1/namespaces/dev/pods/web/eviction", true, ""),
        ("PUT", "/api/v1/namespaces/dev/pods/web", false, ""),
        // Its own Node and Lease.
        ("GET", "/api/v1/nodes/n1", true, ""),
        (
            "GET",
            "/api/v1/nodes/n2",
            false,
            "node 'n1' cannot read 'n2', only its own Node object",
        ),
        (
            "GET",
            "/api/v1/nodes",
            false,
            "node 'n1' cannot read all nodes, only its own Node object",
        ),
        ("POST", "/api/v1/nodes", true, ""),
        ("PATCH", "/api/v1/nodes/n1/status", true, ""),
        ("DELETE", "/api/v1/nodes/n1", false, ""),
        (
            "PUT",
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1",
            true,
            "",
        ),
        (
            "POST",
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
            true,
            "",
        ),
        (
            "PUT",
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2",
            false,
            "can only access node lease with the same name as the requesting node",
        ),
        (
            "GET",
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/n1",
            false,
            "can only access leases in the \"kube-node-lease\" system namespace",
        ),
        (
            "GET",
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
            false,
            "can only get, create, update, patch, or delete a node lease",
        ),
        // The rest by the system:node role's rules.
        ("POST", "/api/v1/namespaces/dev/events", true, ""),
        ("GET", "/api/v1/services", true, ""),
        (
            "POST",
            "/apis/authentication.k8s.io/v1/tokenreviews",
            true,
            "",
        ),
        ("GET", "/apis/apps/v1/deployments", false, ""),
        (
            "POST",
            "/api/v1/namespaces/dev/configmaps",
            false,
            "can only read resources of this type",
        ),
    ];
    for (method, uri, allowed, reason) in cases {
        let (path, query) = match uri.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (*uri, None),
        };
        let request = parse(method, path, query);
        let got = authorizer
            .authorize(&n1, &request)
            .await
            .expect("a verdict");
        assert_eq!(got, verdict(*allowed, reason), "{method} {uri}");
    }
}

#[tokio::test]
async fn only_nodes_are_decided() {
    let (authorizer, _dir) = authorizer().await;
    let secret = parse("GET", "/api/v1/namespaces/dev/secrets/registry", None);
    let cases = [
        // A node name without the nodes group, or the group without a name.
        (User::new("system:node:n1", &["system:authenticated"]), ""),
        (User::new("jane", &["system:nodes"]), ""),
        (
            User::new("system:node:", &["system:nodes"]),
            "unknown node for user \"system:node:\"",
        ),
    ];
    for (user, reason) in cases {
        let got = authorizer
            .authorize(&user, &secret)
            .await
            .expect("a verdict");
        assert_eq!(got, Verdict::NoOpinion(reason.to_string()), "{}", user.name);
    }
    assert_eq!(
        node_of(&User::new("system:node:n1", &["system:nodes"])),
        Some("n1")
    );
}

#[test]
fn a_pods_references_cover_every_place_it_names_an_object() {
    let pod = json!({"metadata": {"name": "p"}, "spec": {
    "initContainers": [{"envFrom": [{"configMapRef": {"name": "init-cm"}}]}],
    "ephemeralContainers": [{"env": [{"valueFrom": {"secretKeyRef": {"name": "debug", "key": "k"}}}]}],
    "volumes": [
        {"name": "c", "configMap": {"name": "vol-cm"}},
        {"name": "f", "flexVolume": {"driver": "x", "secretRef": {"name": "flex"}}},
        {"name": "a", "azureFile": {"secretName": "azure", "shareName": "s"}},
        {"name": "e", "ephemeral": {}}
    ]}});
    let found = references(&pod);
    assert_eq!(found.secrets, ["debug", "flex", "azure"]);
    assert_eq!(found.config_maps, ["init-cm", "vol-cm"]);
    assert_eq!(found.claims, ["p-e"]);
}
