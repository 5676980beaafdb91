//! Validation of the policy, scheduling, storage, events, networking,
//! autoscaling, core controller and quota, RBAC and apiregistration kinds:
//! ordinary objects pass, and each rule rejects with upstream's field path
//! and message.

use keelson_api::defaults::apply_defaults;
use keelson_api::registry::{self, ResourceInfo};
use keelson_api::validate::field_errors;
use serde_json::{Value, json};

fn resource(group: &str, version: &str, kind: &str) -> &'static ResourceInfo {
    registry::by_kind(group, version, kind).expect("the kind is served")
}

/// The rendered errors of creating `object` as `(group, version, kind)`,
/// defaulted first.
fn errors(kind: (&str, &str, &str), mut object: Value) -> Vec<String> {
    let resource = resource(kind.0, kind.1, kind.2);
    apply_defaults(resource, &mut object);
    field_errors(resource, &object, None)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The rendered errors of updating `old` to `new`.
fn update_errors(kind: (&str, &str, &str), mut old: Value, mut new: Value) -> Vec<String> {
    let resource = resource(kind.0, kind.1, kind.2);
    apply_defaults(resource, &mut old);
    apply_defaults(resource, &mut new);
    field_errors(resource, &new, Some(&old))
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// `base` with `patch` merged in (RFC 7386: `null` removes).
fn with(base: &Value, patch: Value) -> Value {
    let mut out = base.clone();
    merge(&mut out, patch);
    out
}

fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = json!({});
            }
            for (key, value) in fields {
                if value.is_null() {
                    target.as_object_mut().map(|m| m.remove(&key));
                } else {
                    merge(&mut target[&key], value);
                }
            }
        }
        other => *target = other,
    }
}

/// Asserts each `(patch, expected errors)` case against `base`, which is
/// valid.
fn check(kind: (&str, &str, &str), base: Value, cases: Vec<(Value, Vec<&str>)>) {
    assert_eq!(
        errors(kind, base.clone()),
        Vec::<String>::new(),
        "{kind:?} base"
    );
    for (patch, expected) in cases {
        let object = with(&base, patch.clone());
        assert_eq!(errors(kind, object), expected, "{kind:?} with {patch}");
    }
}

const PDB: (&str, &str, &str) = ("policy", "v1", "PodDisruptionBudget");
const PRIORITY_CLASS: (&str, &str, &str) = ("scheduling.k8s.io", "v1", "PriorityClass");
const STORAGE_CLASS: (&str, &str, &str) = ("storage.k8s.io", "v1", "StorageClass");
const EVENT: (&str, &str, &str) = ("events.k8s.io", "v1", "Event");
const INGRESS: (&str, &str, &str) = ("networking.k8s.io", "v1", "Ingress");
const INGRESS_CLASS: (&str, &str, &str) = ("networking.k8s.io", "v1", "IngressClass");
const NETWORK_POLICY: (&str, &str, &str) = ("networking.k8s.io", "v1", "NetworkPolicy");
const SERVICE_CIDR: (&str, &str, &str) = ("networking.k8s.io", "v1", "ServiceCIDR");
const IP_ADDRESS: (&str, &str, &str) = ("networking.k8s.io", "v1", "IPAddress");
const HPA: (&str, &str, &str) = ("autoscaling", "v2", "HorizontalPodAutoscaler");
const POD_TEMPLATE: (&str, &str, &str) = ("", "v1", "PodTemplate");
const RC: (&str, &str, &str) = ("", "v1", "ReplicationController");
const LIMIT_RANGE: (&str, &str, &str) = ("", "v1", "LimitRange");
const QUOTA: (&str, &str, &str) = ("", "v1", "ResourceQuota");
const ROLE: (&str, &str, &str) = ("rbac.authorization.k8s.io", "v1", "Role");
const CLUSTER_ROLE: (&str, &str, &str) = ("rbac.authorization.k8s.io", "v1", "ClusterRole");
const ROLE_BINDING: (&str, &str, &str) = ("rbac.authorization.k8s.io", "v1", "RoleBinding");
const CLUSTER_ROLE_BINDING: (&str, &str, &str) =
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding");
const API_SERVICE: (&str, &str, &str) = ("apiregistration.k8s.io", "v1", "APIService");

fn named(name: &str) -> Value {
    json!({"metadata": {"name": name, "namespace": "default"}})
}

#[test]
fn pod_disruption_budgets() {
    let base = with(
        &named("web"),
        json!({"spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
    );
    check(
        PDB,
        base,
        vec![
            (
                json!({"spec": {"maxUnavailable": "10%"}}),
                vec![
                    "spec: Invalid value: {\"maxUnavailable\":\"10%\",\"minAvailable\":1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}: minAvailable and maxUnavailable cannot be both set",
                ],
            ),
            (
                json!({"spec": {"minAvailable": "120%"}}),
                vec!["spec.minAvailable: Invalid value: \"120%\": must not be greater than 100%"],
            ),
            (
                json!({"spec": {"minAvailable": -1}}),
                vec!["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"],
            ),
            (
                json!({"spec": {"unhealthyPodEvictionPolicy": "Never"}}),
                vec![
                    "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Never\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\"",
                ],
            ),
        ],
    );
    let old = with(&named("web"), json!({"spec": {"minAvailable": 1}}));
    let negative = with(&old, json!({"status": {"disruptionsAllowed": -1}}));
    assert_eq!(
        update_errors(PDB, old, negative),
        ["status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0",]
    );
}

#[test]
fn priority_classes() {
    let base = json!({"metadata": {"name": "high"}, "value": 1000});
    check(
        PRIORITY_CLASS,
        base.clone(),
        vec![
            (
                json!({"value": 2_000_000_000}),
                vec![
                    "value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
                ],
            ),
            (
                json!({"metadata": {"name": "system-mine"}}),
                vec![
                    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
                ],
            ),
            (
                json!({"preemptionPolicy": "Sometimes"}),
                vec![
                    "preemptionPolicy: Unsupported value: \"Sometimes\": supported values: \"PreemptLowerPriority\", \"Never\"",
                ],
            ),
        ],
    );
    let system = json!({"metadata": {"name": "system-node-critical"}, "value": 2_000_001_000});
    assert_eq!(errors(PRIORITY_CLASS, system), Vec::<String>::new());
    assert_eq!(
        update_errors(
            PRIORITY_CLASS,
            base.clone(),
            with(&base, json!({"value": 5}))
        ),
        ["value: Forbidden: may not be changed in an update.",]
    );
}

#[test]
fn storage_classes() {
    let base = json!({"metadata": {"name": "fast"}, "provisioner": "kubernetes.io/no-provisioner"});
    check(
        STORAGE_CLASS,
        base.clone(),
        vec![
            (
                json!({"provisioner": null}),
                vec!["provisioner: Required value"],
            ),
            (
                json!({"reclaimPolicy": "Recycle"}),
                vec![
                    "reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"",
                ],
            ),
            (
                json!({"volumeBindingMode": "Later"}),
                vec![
                    "volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\"",
                ],
            ),
            (
                json!({"allowedTopologies": [{"matchLabelExpressions": [{"key": "zone", "values": []}]}]}),
                vec!["allowedTopologies[0].matchLabelExpressions[0].values: Required value"],
            ),
        ],
    );
    let changed = with(&base, json!({"parameters": {"type": "ssd"}}));
    assert_eq!(
        update_errors(STORAGE_CLASS, base, changed),
        ["parameters: Forbidden: updates to parameters are forbidden.",]
    );
}

#[test]
fn events_k8s_io_events_are_checked_strictly() {
    let base = with(
        &named("web.1"),
        json!({
            "eventTime": "2025-01-01T00:00:00.000000Z", "type": "Normal",
            "reportingController": "example.com/ctl", "reportingInstance": "ctl-1",
            "action": "Scale", "reason": "Scaled", "note": "scaled up",
            "regarding": {"kind": "Deployment", "name": "web", "namespace": "default"},
        }),
    );
    check(
        EVENT,
        base.clone(),
        vec![
            (
                json!({"eventTime": null}),
                vec!["eventTime: Required value"],
            ),
            (
                json!({"eventTime": null, "regarding": {"namespace": "other"}}),
                vec![
                    "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace",
                    "eventTime: Required value",
                ],
            ),
            (
                json!({"type": "Fatal"}),
                vec!["type: Invalid value: \"\": has invalid value: Fatal"],
            ),
            (
                json!({"reportingController": null, "action": null}),
                vec![
                    "reportingController: Required value",
                    "reportingController: Invalid value: \"\": name part must be non-empty",
                    "reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                    "action: Required value",
                ],
            ),
            (
                json!({"deprecatedCount": 2}),
                vec!["count: Invalid value: \"\": needs to be unset"],
            ),
            (
                json!({"series": {"count": 1}}),
                vec![
                    "series.count: Invalid value: \"\": should be at least 2",
                    "series.lastObservedTime: Required value",
                ],
            ),
        ],
    );
    let noted = with(&base, json!({"note": "other"}));
    assert_eq!(
        update_errors(EVENT, base, noted),
        ["message: Invalid value: \"other\": field is immutable",]
    );
}

#[test]
fn ingresses() {
    let rule = json!({"host": "example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}});
    let base = with(&named("web"), json!({"spec": {"rules": [rule]}}));
    check(
        INGRESS,
        base,
        vec![
            (
                json!({"spec": {"rules": null}}),
                vec![
                    "spec: Invalid value: null: either `defaultBackend` or `rules` must be specified",
                ],
            ),
            (
                json!({"spec": {"rules": [{"host": "10.0.0.1"}]}}),
                vec![
                    "spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address",
                ],
            ),
            (
                json!({"spec": {"rules": [{"host": "*.Example.com"}]}}),
                vec![
                    "spec.rules[0].host: Invalid value: \"*.Example.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                ],
            ),
            (
                json!({"spec": {"rules": [{"http": {"paths": [{"path": "a", "pathType": "Exact",
            "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
                vec![
                    "spec.rules[0].http.paths[0].path: Invalid value: \"a\": must be an absolute path",
                ],
            ),
            (
                json!({"spec": {"rules": [{"http": {"paths": [{"path": "/", "backend": {}}]}}]}}),
                vec![
                    "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
                ],
            ),
            (
                json!({"spec": {"defaultBackend": {"service": {"name": "web", "port": {}}}}}),
                vec!["spec.defaultBackend: Required value: port name or number is required"],
            ),
            (
                json!({"spec": {"ingressClassName": "Nginx"}}),
                vec![
                    "spec.ingressClassName: Invalid value: \"Nginx\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                ],
            ),
        ],
    );
}

#[test]
fn ingress_classes() {
    let base =
        json!({"metadata": {"name": "nginx"}, "spec": {"controller": "example.com/ingress"}});
    check(
        INGRESS_CLASS,
        base.clone(),
        vec![
            (
                json!({"spec": {"controller": "nginx"}}),
                vec![
                    "spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")",
                ],
            ),
            (
                json!({"spec": {"parameters": {"kind": "Config", "name": "c", "scope": "Namespace"}}}),
                vec![
                    "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
                ],
            ),
        ],
    );
    let moved = with(&base, json!({"spec": {"controller": "example.com/other"}}));
    assert_eq!(
        update_errors(INGRESS_CLASS, base, moved),
        ["spec.controller: Invalid value: \"example.com/other\": field is immutable",]
    );
}

#[test]
fn network_policies() {
    let base = with(&named("deny"), json!({"spec": {"podSelector": {}}}));
    check(
        NETWORK_POLICY,
        base,
        vec![
            (
                json!({"spec": {"ingress": [{"ports": [{"port": 80, "endPort": 70}]}]}}),
                vec![
                    "spec.ingress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`",
                ],
            ),
            (
                json!({"spec": {"egress": [{"to": [{}]}]}}),
                vec!["spec.egress[0].to[0]: Required value: must specify a peer"],
            ),
            (
                json!({"spec": {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}}]}]}}),
                vec![
                    "spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \"11.0.0.0/16\": must be a strict subset of `cidr`",
                ],
            ),
            (
                json!({"spec": {"policyTypes": ["Sideways"]}}),
                vec![
                    "spec.policyTypes[0]: Unsupported value: \"Sideways\": supported values: \"Ingress\", \"Egress\"",
                ],
            ),
        ],
    );
}

#[test]
fn service_cidrs_and_ip_addresses() {
    let base = json!({"metadata": {"name": "extra"}, "spec": {"cidrs": ["10.96.0.0/16"]}});
    check(
        SERVICE_CIDR,
        base.clone(),
        vec![
            (
                json!({"spec": {"cidrs": []}}),
                vec!["spec.cidrs: Required value: at least one CIDR required"],
            ),
            (
                json!({"spec": {"cidrs": ["10.96.1.0/16"]}}),
                vec![
                    "spec.cidrs[0]: Invalid value: \"10.96.1.0/16\": must be in canonical form (\"10.96.0.0/16\")",
                ],
            ),
        ],
    );
    let address = json!({"metadata": {"name": "10.96.0.10"},
        "spec": {"parentRef": {"group": "", "resource": "services", "name": "dns", "namespace": "kube-system"}}});
    check(
        IP_ADDRESS,
        address,
        vec![
            (
                json!({"metadata": {"name": "010.96.0.10"}}),
                vec!["metadata.name: Invalid value: \"010.96.0.10\": must not have leading 0s"],
            ),
            (
                json!({"spec": {"parentRef": {"resource": null}}}),
                vec!["spec.parentRef.resource: Required value"],
            ),
        ],
    );
}

#[test]
fn horizontal_pod_autoscalers() {
    let base = with(
        &named("web"),
        json!({"spec": {"maxReplicas": 5,
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
    );
    check(
        HPA,
        base,
        vec![
            (
                json!({"spec": {"minReplicas": 0}}),
                vec![
                    "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
                    "spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas",
                ],
            ),
            (
                json!({"spec": {"minReplicas": 6}}),
                vec![
                    "spec.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`",
                ],
            ),
            (
                json!({"spec": {"scaleTargetRef": {"name": null}}}),
                vec!["spec.scaleTargetRef.name: Required value"],
            ),
            (
                json!({"spec": {"metrics": [{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 0}}}]}}),
                vec![
                    "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0",
                ],
            ),
            (
                json!({"spec": {"metrics": [{"type": "Pods"}]}}),
                vec![
                    "spec.metrics[0].pods: Required value: must populate information for the given metric source",
                ],
            ),
            (
                json!({"spec": {"behavior": {"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 3600}]}}}}),
                vec![
                    "spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 3600: must be less than or equal to 1800",
                ],
            ),
        ],
    );
}

fn template() -> Value {
    json!({"metadata": {"labels": {"app": "web"}},
           "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}})
}

#[test]
fn pod_templates_and_replication_controllers() {
    let base = with(&named("web"), json!({"template": template()}));
    check(
        POD_TEMPLATE,
        base,
        vec![(
            json!({"template": {"spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 0}]}]}}}),
            vec!["template.spec.containers[0].ports[0].containerPort: Required value"],
        )],
    );
    let base = with(&named("web"), json!({"spec": {"template": template()}}));
    check(
        RC,
        base,
        vec![
            (
                json!({"spec": {"selector": {"app": "db"}}}),
                vec![
                    "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
                ],
            ),
            (
                json!({"spec": {"replicas": -1}}),
                vec!["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
            ),
            (
                json!({"spec": {"template": {"spec": {"restartPolicy": "Never"}}}}),
                vec![
                    "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
                ],
            ),
        ],
    );
    let bare = with(&named("web"), json!({"spec": {}}));
    assert_eq!(
        errors(RC, bare),
        [
            "spec.selector: Required value",
            "spec.template: Required value"
        ]
    );
}

#[test]
fn limit_ranges_and_resource_quotas() {
    let base = with(
        &named("limits"),
        json!({"spec": {"limits": [
        {"type": "Container", "max": {"cpu": "2"}, "min": {"cpu": "100m"}}]}}),
    );
    check(
        LIMIT_RANGE,
        base,
        vec![
            (
                json!({"spec": {"limits": [{"type": "Container", "min": {"cpu": "3"}, "max": {"cpu": "2"}}]}}),
                vec![
                    "spec.limits[0].min[cpu]: Invalid value: \"3\": min value 3 is greater than max value 2",
                    "spec.limits[0].defaultRequest[cpu]: Invalid value: \"2\": min value 3 is greater than default request value 2",
                    "spec.limits[0].default[cpu]: Invalid value: \"3\": min value 3 is greater than default value 2",
                ],
            ),
            (
                json!({"spec": {"limits": [{"type": "Node"}]}}),
                vec![
                    "spec.limits[0].type: Invalid value: \"Node\": must be a standard limit type or fully qualified",
                ],
            ),
            (
                json!({"spec": {"limits": [{"type": "Pod", "default": {"cpu": "1"}}]}}),
                vec![
                    "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'",
                ],
            ),
        ],
    );
    let quota = with(
        &named("quota"),
        json!({"spec": {"hard": {"pods": "10", "requests.cpu": "4"}}}),
    );
    check(
        QUOTA,
        quota,
        vec![
            (
                json!({"spec": {"hard": {"pods": "1.5"}}}),
                vec!["spec.hard[pods]: Invalid value: \"1500m\": must be an integer"],
            ),
            (
                json!({"spec": {"hard": {"widgets": "1"}}}),
                vec![
                    "spec.hard[widgets]: Invalid value: \"widgets\": must be a standard resource type or fully qualified",
                ],
            ),
            (
                json!({"spec": {"scopes": ["BestEffort", "NotBestEffort"], "hard": {"requests.cpu": null}}}),
                vec![
                    "spec.scopes: Invalid value: []string{\"BestEffort\", \"NotBestEffort\"}: conflicting scopes",
                ],
            ),
            (
                json!({"spec": {"scopes": ["BestEffort"]}}),
                vec![
                    "spec.scopes: Invalid value: []string{\"BestEffort\"}: unsupported scope applied to resource",
                ],
            ),
        ],
    );
}

#[test]
fn roles_and_bindings() {
    let rule = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]});
    let role = with(&named("reader"), json!({"rules": [rule]}));
    check(
        ROLE,
        role,
        vec![
            (
                json!({"rules": [{"apiGroups": [""], "resources": ["pods"]}]}),
                vec!["rules[0].verbs: Required value: verbs must contain at least one value"],
            ),
            (
                json!({"rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}),
                vec![
                    "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs",
                ],
            ),
            (
                json!({"metadata": {"name": "a/b"}}),
                vec!["metadata.name: Invalid value: \"a/b\": may not contain '/'"],
            ),
        ],
    );
    let cluster_role = json!({"metadata": {"name": "system:reader"}, "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]});
    check(
        CLUSTER_ROLE,
        cluster_role,
        vec![(
            json!({"aggregationRule": {"clusterRoleSelectors": []}}),
            vec![
                "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil",
            ],
        )],
    );
    let binding = with(
        &named("read"),
        json!({"roleRef": {"kind": "Role", "name": "reader"},
        "subjects": [{"kind": "User", "name": "jane"}, {"kind": "ServiceAccount", "name": "ci"}]}),
    );
    check(
        ROLE_BINDING,
        binding.clone(),
        vec![
            (
                json!({"roleRef": {"kind": "Pod"}}),
                vec![
                    "roleRef.kind: Unsupported value: \"Pod\": supported values: \"Role\", \"ClusterRole\"",
                ],
            ),
            (
                json!({"subjects": [{"kind": "Robot", "name": "r"}]}),
                vec![
                    "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
                ],
            ),
        ],
    );
    let rebound = with(&binding, json!({"roleRef": {"name": "writer"}}));
    assert_eq!(update_errors(ROLE_BINDING, binding, rebound).len(), 1);
    let cluster_binding = json!({"metadata": {"name": "read"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "ci"}]});
    assert_eq!(
        errors(CLUSTER_ROLE_BINDING, cluster_binding),
        ["subjects[0].namespace: Required value"]
    );
}

#[test]
fn api_services() {
    let base = json!({"metadata": {"name": "v1.example.com"}, "spec": {"group": "example.com", "version": "v1",
        "groupPriorityMinimum": 1000, "versionPriority": 15,
        "service": {"namespace": "default", "name": "api"}}});
    check(
        API_SERVICE,
        base,
        vec![
            (
                json!({"metadata": {"name": "v2.example.com"}}),
                vec![
                    "metadata.name: Invalid value: \"v2.example.com\": must be `spec.version+\".\"+spec.group`: \"v1.example.com\"",
                ],
            ),
            (
                json!({"spec": {"versionPriority": 0}}),
                vec!["spec.versionPriority: Invalid value: 0: must be positive and less than 1000"],
            ),
            (
                json!({"spec": {"service": {"name": null}}}),
                vec!["spec.service.name: Required value"],
            ),
            (
                json!({"spec": {"service": null, "insecureSkipTLSVerify": true}}),
                vec![
                    "spec.insecureSkipTLSVerify: Invalid value: true: local APIServices may not have insecureSkipTLSVerify",
                ],
            ),
        ],
    );
}
