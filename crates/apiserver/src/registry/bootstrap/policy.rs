//! The bootstrap RBAC policy: upstream's default cluster roles (the
//! user-facing `cluster-admin`, `admin`, `edit` and `view`, the roles they
//! aggregate, and the `system:` roles of discovery, nodes and the control
//! plane's components) and the bindings of those roles to the groups and
//! users upstream binds them to. The data is a table of rules in code.

use serde_json::{Map, Value, json};

pub(super) const RBAC: &str = "rbac.authorization.k8s.io";
pub(super) const READ: &[&str] = &["get", "list", "watch"];
pub(super) const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
pub(super) const READ_WRITE: &[&str] = keelson_api::registry::ALL_VERBS;
pub(super) const CREATE: &[&str] = &["create"];
pub(super) const EVENT_WRITE: &[&str] = &["create", "patch", "update"];

/// A rule on resources of API groups.
pub(super) fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

/// A rule on resources of one name.
pub(super) fn named(groups: &[&str], resources: &[&str], names: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "resourceNames": names, "verbs": verbs})
}

/// A rule on non-resource URLs.
fn urls(paths: &[&str], verbs: &[&str]) -> Value {
    json!({"nonResourceURLs": paths, "verbs": verbs})
}

/// The labels of a bootstrap object, with an aggregation label when the
/// role aggregates into `into`.
fn labels(into: Option<&str>) -> Value {
    let mut labels = Map::new();
    labels.insert("kubernetes.io/bootstrapping".into(), json!("rbac-defaults"));
    if let Some(into) = into {
        labels.insert(format!("{RBAC}/aggregate-to-{into}"), json!("true"));
    }
    Value::Object(labels)
}

fn metadata(name: &str, into: Option<&str>) -> Value {
    json!({
        "name": name,
        "labels": labels(into),
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    })
}

/// A cluster role with its rules.
pub(super) fn role(name: &str, into: Option<&str>, rules: Vec<Value>) -> Value {
    json!({
        "apiVersion": format!("{RBAC}/v1"),
        "kind": "ClusterRole",
        "metadata": metadata(name, into),
        "rules": rules,
    })
}

/// A cluster role made of the roles labelled to aggregate into `from`.
fn aggregated(name: &str, into: Option<&str>, from: &str) -> Value {
    json!({
        "apiVersion": format!("{RBAC}/v1"),
        "kind": "ClusterRole",
        "metadata": metadata(name, into),
        "aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {format!("{RBAC}/aggregate-to-{from}"): "true"}},
        ]},
        "rules": [],
    })
}

/// The rules `edit` adds to `view` through `system:aggregate-to-edit`.
fn edit_rules() -> Vec<Value> {
    vec![
        rule(
            &[""],
            &[
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy",
            ],
            READ,
        ),
        rule(&[""], &["serviceaccounts"], &["impersonate"]),
        rule(
            &[""],
            &[
                "pods",
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
            ],
            WRITE,
        ),
        rule(&[""], &["pods/eviction"], CREATE),
        rule(
            &[""],
            &[
                "configmaps",
                "events",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "secrets",
                "serviceaccounts",
                "services",
                "services/proxy",
            ],
            WRITE,
        ),
        rule(&[""], &["serviceaccounts/token"], CREATE),
        rule(
            &["apps"],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale",
            ],
            WRITE,
        ),
        rule(&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
        rule(&["batch"], &["cronjobs", "jobs"], WRITE),
        rule(
            &["extensions"],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "ingresses",
                "networkpolicies",
                "replicasets",
                "replicasets/scale",
                "replicationcontrollers/scale",
            ],
            WRITE,
        ),
        rule(&["policy"], &["poddisruptionbudgets"], WRITE),
        rule(
            &["networking.k8s.io"],
            &["ingresses", "networkpolicies"],
            WRITE,
        ),
        rule(&["coordination.k8s.io"], &["leases"], READ_WRITE),
    ]
}

/// The rules of `view`, through `system:aggregate-to-view`.
fn view_rules() -> Vec<Value> {
    vec![
        rule(
            &[""],
            &[
                "configmaps",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
            ],
            READ,
        ),
        rule(
            &[""],
            &[
                "bindings",
                "events",
                "limitranges",
                "namespaces/status",
                "pods/log",
                "pods/status",
                "replicationcontrollers/status",
                "resourcequotas",
                "resourcequotas/status",
            ],
            READ,
        ),
        rule(&[""], &["namespaces"], READ),
        rule(&["discovery.k8s.io"], &["endpointslices"], READ),
        rule(
            &["apps"],
            &[
                "controllerrevisions",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
            ],
            READ,
        ),
        rule(
            &["autoscaling"],
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
            READ,
        ),
        rule(
            &["batch"],
            &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
            READ,
        ),
        rule(
            &["extensions"],
            &[
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "networkpolicies",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
            ],
            READ,
        ),
        rule(
            &["policy"],
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
            READ,
        ),
        rule(
            &["networking.k8s.io"],
            &["ingresses", "ingresses/status", "networkpolicies"],
            READ,
        ),
    ]
}

/// The rules of a component that records events and elects a leader on
/// the Lease called `lease`.
fn leader_rules(lease: &str) -> Vec<Value> {
    vec![
        rule(&["", "events.k8s.io"], &["events"], EVENT_WRITE),
        rule(&["coordination.k8s.io"], &["leases"], CREATE),
        named(
            &["coordination.k8s.io"],
            &["leases"],
            &[lease],
            &["get", "update"],
        ),
    ]
}

fn controller_manager_rules() -> Vec<Value> {
    let mut rules = leader_rules("kube-controller-manager");
    rules.extend([
        rule(&[""], &["secrets", "serviceaccounts"], CREATE),
        rule(&[""], &["secrets"], &["delete"]),
        rule(
            &[""],
            &["configmaps", "namespaces", "secrets", "serviceaccounts"],
            &["get"],
        ),
        rule(&[""], &["secrets", "serviceaccounts"], &["update"]),
        rule(&["authentication.k8s.io"], &["tokenreviews"], CREATE),
        rule(&["authorization.k8s.io"], &["subjectaccessreviews"], CREATE),
        rule(&["*"], &["*"], &["list", "watch"]),
        rule(&[""], &["serviceaccounts/token"], CREATE),
    ]);
    rules
}

fn scheduler_rules() -> Vec<Value> {
    let mut rules = leader_rules("kube-scheduler");
    rules.extend([
        rule(&[""], &["nodes"], READ),
        rule(&[""], &["pods"], &["delete", "get", "list", "watch"]),
        rule(&[""], &["bindings", "pods/binding"], CREATE),
        rule(&[""], &["pods/status"], &["patch", "update"]),
        rule(&[""], &["replicationcontrollers", "services"], READ),
        rule(&["apps", "extensions"], &["replicasets"], READ),
        rule(&["apps"], &["statefulsets"], READ),
        rule(&["policy"], &["poddisruptionbudgets"], READ),
        rule(
            &[""],
            &["persistentvolumeclaims", "persistentvolumes"],
            READ,
        ),
        rule(&["authentication.k8s.io"], &["tokenreviews"], CREATE),
        rule(&["authorization.k8s.io"], &["subjectaccessreviews"], CREATE),
        rule(&["storage.k8s.io"], &["csinodes"], READ),
        rule(&[""], &["namespaces"], READ),
        rule(&["storage.k8s.io"], &["csidrivers"], READ),
        rule(&["storage.k8s.io"], &["csistoragecapacities"], READ),
    ]);
    rules
}

pub(super) fn node_rules() -> Vec<Value> {
    vec![
        rule(&["authentication.k8s.io"], &["tokenreviews"], CREATE),
        rule(
            &["authorization.k8s.io"],
            &["localsubjectaccessreviews", "subjectaccessreviews"],
            CREATE,
        ),
        rule(&[""], &["services"], READ),
        rule(&[""], &["nodes"], &["create", "get", "list", "watch"]),
        rule(&[""], &["nodes/status"], &["patch", "update"]),
        rule(&[""], &["nodes"], &["patch", "update"]),
        rule(&[""], &["events"], EVENT_WRITE),
        rule(&[""], &["pods"], READ),
        rule(&[""], &["pods"], &["create", "delete"]),
        rule(&[""], &["pods/status"], &["patch", "update"]),
        rule(&[""], &["pods/eviction"], CREATE),
        rule(&[""], &["configmaps", "secrets"], READ),
        rule(
            &[""],
            &["persistentvolumeclaims", "persistentvolumes"],
            &["get"],
        ),
        rule(&[""], &["endpoints"], &["get"]),
        rule(
            &["certificates.k8s.io"],
            &["certificatesigningrequests"],
            &["create", "get", "list", "watch"],
        ),
        rule(
            &["coordination.k8s.io"],
            &["leases"],
            &["create", "delete", "get", "patch", "update"],
        ),
        rule(&["storage.k8s.io"], &["volumeattachments"], &["get"]),
        rule(&[""], &["serviceaccounts/token"], CREATE),
        rule(
            &[""],
            &["persistentvolumeclaims/status"],
            &["get", "patch", "update"],
        ),
        rule(&["storage.k8s.io"], &["csidrivers"], READ),
        rule(
            &["storage.k8s.io"],
            &["csinodes"],
            &["create", "delete", "get", "patch", "update"],
        ),
        rule(&["node.k8s.io"], &["runtimeclasses"], READ),
    ]
}

/// A role that approves certificate requests for one signer.
fn approver(name: &str, signer: &str) -> Value {
    let rules = vec![named(
        &["certificates.k8s.io"],
        &["signers"],
        &[signer],
        &["approve"],
    )];
    role(&format!("system:certificates.k8s.io:{name}"), None, rules)
}

/// The roles of the system's components and of everyone.
fn system_roles() -> Vec<Value> {
    vec![
        role(
            "system:auth-delegator",
            None,
            vec![
                rule(&["authentication.k8s.io"], &["tokenreviews"], CREATE),
                rule(&["authorization.k8s.io"], &["subjectaccessreviews"], CREATE),
            ],
        ),
        role(
            "system:basic-user",
            None,
            vec![
                rule(
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    CREATE,
                ),
                rule(&["authentication.k8s.io"], &["selfsubjectreviews"], CREATE),
            ],
        ),
        role(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            None,
            vec![rule(
                &["certificates.k8s.io"],
                &["certificatesigningrequests/nodeclient"],
                CREATE,
            )],
        ),
        role(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            None,
            vec![rule(
                &["certificates.k8s.io"],
                &["certificatesigningrequests/selfnodeclient"],
                CREATE,
            )],
        ),
        approver(
            "kube-apiserver-client-approver",
            "kubernetes.io/kube-apiserver-client",
        ),
        approver(
            "kube-apiserver-client-kubelet-approver",
            "kubernetes.io/kube-apiserver-client-kubelet",
        ),
        approver("kubelet-serving-approver", "kubernetes.io/kubelet-serving"),
        approver("legacy-unknown-approver", "kubernetes.io/legacy-unknown"),
        role(
            "system:discovery",
            None,
            vec![urls(
                &[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
                &["get"],
            )],
        ),
        role(
            "system:heapster",
            None,
            vec![
                rule(&[""], &["events", "namespaces", "nodes", "pods"], READ),
                rule(&["extensions"], &["deployments"], READ),
            ],
        ),
        role(
            "system:kube-aggregator",
            None,
            vec![rule(&[""], &["endpoints", "services"], READ)],
        ),
        role(
            "system:kube-controller-manager",
            None,
            controller_manager_rules(),
        ),
        role(
            "system:kube-dns",
            None,
            vec![rule(&[""], &["endpoints", "services"], &["list", "watch"])],
        ),
        role("system:kube-scheduler", None, scheduler_rules()),
        role(
            "system:kubelet-api-admin",
            None,
            vec![
                rule(&[""], &["nodes"], READ),
                rule(&[""], &["nodes"], &["proxy"]),
                rule(
                    &[""],
                    &["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"],
                    &["*"],
                ),
            ],
        ),
        role(
            "system:monitoring",
            None,
            vec![urls(
                &[
                    "/healthz",
                    "/healthz/*",
                    "/livez",
                    "/livez/*",
                    "/metrics",
                    "/metrics/slis",
                    "/readyz",
                    "/readyz/*",
                ],
                &["get"],
            )],
        ),
        role("system:node", None, node_rules()),
        role(
            "system:node-bootstrapper",
            None,
            vec![rule(
                &["certificates.k8s.io"],
                &["certificatesigningrequests"],
                &["create", "get", "list", "watch"],
            )],
        ),
        role(
            "system:node-problem-detector",
            None,
            vec![
                rule(&[""], &["nodes"], &["get"]),
                rule(&[""], &["nodes/status"], &["patch"]),
                rule(&["", "events.k8s.io"], &["events"], EVENT_WRITE),
            ],
        ),
        role(
            "system:node-proxier",
            None,
            vec![
                rule(&[""], &["endpoints", "services"], &["list", "watch"]),
                rule(&[""], &["nodes"], READ),
                rule(&["", "events.k8s.io"], &["events"], EVENT_WRITE),
                rule(
                    &["discovery.k8s.io"],
                    &["endpointslices"],
                    &["list", "watch"],
                ),
            ],
        ),
        role(
            "system:persistent-volume-provisioner",
            None,
            vec![
                rule(
                    &[""],
                    &["persistentvolumes"],
                    &["create", "delete", "get", "list", "watch"],
                ),
                rule(
                    &[""],
                    &["persistentvolumeclaims"],
                    &["get", "list", "update", "watch"],
                ),
                rule(&["storage.k8s.io"], &["storageclasses"], READ),
                rule(&[""], &["events"], &["watch"]),
                rule(&["", "events.k8s.io"], &["events"], EVENT_WRITE),
            ],
        ),
        role(
            "system:public-info-viewer",
            None,
            vec![urls(
                &["/healthz", "/livez", "/readyz", "/version", "/version/"],
                &["get"],
            )],
        ),
        role(
            "system:service-account-issuer-discovery",
            None,
            vec![urls(
                &["/.well-known/openid-configuration", "/openid/v1/jwks"],
                &["get"],
            )],
        ),
        role(
            "system:volume-scheduler",
            None,
            vec![
                rule(
                    &[""],
                    &["persistentvolumes"],
                    &["get", "list", "patch", "update", "watch"],
                ),
                rule(&["storage.k8s.io"], &["storageclasses"], READ),
                rule(
                    &[""],
                    &["persistentvolumeclaims"],
                    &["get", "list", "patch", "update", "watch"],
                ),
            ],
        ),
    ]
}

/// Every bootstrap cluster role, the aggregated ones with their rules
/// filled in (see [`aggregate`]).
pub(super) fn cluster_roles() -> Vec<Value> {
    let mut roles = vec![
        aggregated("admin", None, "admin"),
        role(
            "cluster-admin",
            None,
            vec![rule(&["*"], &["*"], &["*"]), urls(&["*"], &["*"])],
        ),
        aggregated("edit", Some("admin"), "edit"),
        role(
            "system:aggregate-to-admin",
            Some("admin"),
            vec![
                rule(
                    &["authorization.k8s.io"],
                    &["localsubjectaccessreviews"],
                    CREATE,
                ),
                rule(&[RBAC], &["rolebindings", "roles"], READ_WRITE),
            ],
        ),
        role("system:aggregate-to-edit", Some("edit"), edit_rules()),
        role("system:aggregate-to-view", Some("view"), view_rules()),
    ];
    roles.extend(system_roles());
    roles.extend(super::controllers::roles());
    roles.push(aggregated("view", Some("edit"), "view"));
    aggregate(&mut roles);
    roles
}

/// The label selector of an aggregated role, if it is one.
fn aggregation_label(role: &Value) -> Option<String> {
    let selector = role.pointer("/aggregationRule/clusterRoleSelectors/0/matchLabels")?;
    let (key, _) = selector.as_object()?.iter().next()?;
    Some(key.clone())
}

/// Fills each aggregated role's rules with those of the roles carrying its
/// label, as the aggregation controller does: the roles taken by name,
/// each rule once. `view` goes first so `edit` and then `admin` see the
/// rules they inherit.
fn aggregate(roles: &mut [Value]) {
    for name in ["view", "edit", "admin"] {
        let Some(index) = roles.iter().position(|r| r["metadata"]["name"] == name) else {
            continue;
        };
        let Some(label) = aggregation_label(&roles[index]) else {
            continue;
        };
        let mut sources: Vec<&Value> = roles
            .iter()
            .filter(|r| r["metadata"]["labels"].get(&label).is_some())
            .collect();
        sources.sort_by_key(|r| r["metadata"]["name"].as_str().unwrap_or("").to_string());
        let mut rules: Vec<Value> = Vec::new();
        for rule in sources
            .iter()
            .flat_map(|r| r["rules"].as_array().into_iter().flatten())
        {
            if !rules.contains(rule) {
                rules.push(rule.clone());
            }
        }
        roles[index]["rules"] = Value::from(rules);
    }
}

/// A subject of a binding: a group, a user or a service account.
pub(super) fn subject(kind: &str, name: &str) -> Value {
    match name.split_once('/') {
        Some((namespace, name)) if kind == "ServiceAccount" => {
            json!({"kind": kind, "name": name, "namespace": namespace})
        }
        _ => json!({"apiGroup": RBAC, "kind": kind, "name": name}),
    }
}

pub(super) fn binding(role: &str, subjects: Vec<Value>) -> Value {
    let mut binding = json!({
        "apiVersion": format!("{RBAC}/v1"),
        "kind": "ClusterRoleBinding",
        "metadata": metadata(role, None),
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
    });
    if !subjects.is_empty() {
        binding["subjects"] = Value::from(subjects);
    }
    binding
}

/// The bootstrap cluster role bindings.
pub(super) fn cluster_role_bindings() -> Vec<Value> {
    let group = |name| subject("Group", name);
    let user = |name| subject("User", name);
    vec![
        binding("cluster-admin", vec![group("system:masters")]),
        binding("system:basic-user", vec![group("system:authenticated")]),
        binding("system:discovery", vec![group("system:authenticated")]),
        binding(
            "system:kube-controller-manager",
            vec![user("system:kube-controller-manager")],
        ),
        binding(
            "system:kube-dns",
            vec![subject("ServiceAccount", "kube-system/kube-dns")],
        ),
        binding("system:kube-scheduler", vec![user("system:kube-scheduler")]),
        binding("system:monitoring", vec![group("system:monitoring")]),
        binding("system:node", vec![]),
        binding("system:node-proxier", vec![user("system:kube-proxy")]),
        binding(
            "system:public-info-viewer",
            vec![
                group("system:authenticated"),
                group("system:unauthenticated"),
            ],
        ),
        binding(
            "system:service-account-issuer-discovery",
            vec![group("system:serviceaccounts")],
        ),
        binding(
            "system:volume-scheduler",
            vec![user("system:kube-scheduler")],
        ),
    ]
    .into_iter()
    .chain(super::controllers::bindings())
    .collect()
}
