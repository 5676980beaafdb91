//! The namespaced part of upstream's bootstrap policy: the Roles and
//! RoleBindings in `kube-system` and `kube-public` that let the control
//! plane's components take their leader locks, read the extension API
//! server's authentication ConfigMap, and let the bootstrap-signer,
//! cloud-provider and token-cleaner controllers do their work.

use serde_json::{Value, json};

use super::policy::{RBAC, READ, named, rule, subject};

const SYSTEM: &str = "kube-system";
const PUBLIC: &str = "kube-public";

fn metadata(name: &str, namespace: &str) -> Value {
    json!({
        "name": name,
        "namespace": namespace,
        "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    })
}

fn role(name: &str, namespace: &str, rules: Vec<Value>) -> (String, Value) {
    let role = json!({
        "apiVersion": format!("{RBAC}/v1"),
        "kind": "Role",
        "metadata": metadata(name, namespace),
        "rules": rules,
    });
    (namespace.to_string(), role)
}

fn binding(name: &str, role: &str, namespace: &str, subjects: Vec<Value>) -> (String, Value) {
    let binding = json!({
        "apiVersion": format!("{RBAC}/v1"),
        "kind": "RoleBinding",
        "metadata": metadata(name, namespace),
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": role},
        "subjects": subjects,
    });
    (namespace.to_string(), binding)
}

const EVENTS: &[&str] = &["create", "patch", "update"];

/// `(namespace, Role)` of the bootstrap Roles.
pub(super) fn roles() -> Vec<(String, Value)> {
    let leader_lock = |component: &str| {
        vec![
            rule(&[""], &["configmaps"], &["watch"]),
            named(&[""], &["configmaps"], &[component], &["get", "update"]),
        ]
    };
    vec![
        role(
            "extension-apiserver-authentication-reader",
            SYSTEM,
            vec![named(
                &[""],
                &["configmaps"],
                &["extension-apiserver-authentication"],
                READ,
            )],
        ),
        role(
            "system::leader-locking-kube-controller-manager",
            SYSTEM,
            leader_lock("kube-controller-manager"),
        ),
        role(
            "system::leader-locking-kube-scheduler",
            SYSTEM,
            leader_lock("kube-scheduler"),
        ),
        role(
            "system:controller:bootstrap-signer",
            SYSTEM,
            vec![rule(&[""], &["secrets"], READ)],
        ),
        role(
            "system:controller:cloud-provider",
            SYSTEM,
            vec![rule(
                &[""],
                &["configmaps"],
                &["create", "get", "list", "watch"],
            )],
        ),
        role(
            "system:controller:token-cleaner",
            SYSTEM,
            vec![
                rule(&[""], &["secrets"], &["delete", "get", "list", "watch"]),
                rule(&["", "events.k8s.io"], &["events"], EVENTS),
            ],
        ),
        role(
            "system:controller:bootstrap-signer",
            PUBLIC,
            vec![
                rule(&[""], &["configmaps"], READ),
                named(&[""], &["configmaps"], &["cluster-info"], &["update"]),
                rule(&["", "events.k8s.io"], &["events"], EVENTS),
            ],
        ),
    ]
}

/// `(namespace, RoleBinding)` of the bootstrap RoleBindings.
pub(super) fn role_bindings() -> Vec<(String, Value)> {
    let user = |name| subject("User", name);
    let account = |name| subject("ServiceAccount", name);
    vec![
        binding(
            "system::extension-apiserver-authentication-reader",
            "extension-apiserver-authentication-reader",
            SYSTEM,
            vec![
                user("system:kube-controller-manager"),
                user("system:kube-scheduler"),
            ],
        ),
        binding(
            "system::leader-locking-kube-controller-manager",
            "system::leader-locking-kube-controller-manager",
            SYSTEM,
            vec![
                user("system:kube-controller-manager"),
                account("kube-system/kube-controller-manager"),
            ],
        ),
        binding(
            "system::leader-locking-kube-scheduler",
            "system::leader-locking-kube-scheduler",
            SYSTEM,
            vec![
                user("system:kube-scheduler"),
                account("kube-system/kube-scheduler"),
            ],
        ),
        binding(
            "system:controller:bootstrap-signer",
            "system:controller:bootstrap-signer",
            SYSTEM,
            vec![account("kube-system/bootstrap-signer")],
        ),
        binding(
            "system:controller:cloud-provider",
            "system:controller:cloud-provider",
            SYSTEM,
            vec![account("kube-system/cloud-provider")],
        ),
        binding(
            "system:controller:token-cleaner",
            "system:controller:token-cleaner",
            SYSTEM,
            vec![account("kube-system/token-cleaner")],
        ),
        binding(
            "system:controller:bootstrap-signer",
            "system:controller:bootstrap-signer",
            PUBLIC,
            vec![account("kube-system/bootstrap-signer")],
        ),
    ]
}
