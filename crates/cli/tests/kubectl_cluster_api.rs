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
        "mountPath: /var/run/secrets/kubernetes.io/serviceaccount",
        "name: kube-root-ca.crt",
        "expirationSeconds: 3607",
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

const CLUSTER_MANIFEST: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: default}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-pods, namespace: default}
subjects:
- kind: ServiceAccount
  name: default
  namespace: default
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-reader}
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  rules:
  - host: web.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 70}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: web}
"#;

#[test]
fn manifests_with_rbac_ingress_and_hpa_apply() {
    let server = Server::start();
    let file = server.manifest("cluster.yaml", CLUSTER_MANIFEST);
    let out = server.ok(&["apply", "-f", &file]);
    for line in [
        "role.rbac.authorization.k8s.io/reader created",
        "rolebinding.rbac.authorization.k8s.io/read-pods created",
        "clusterrole.rbac.authorization.k8s.io/node-reader created",
        "ingress.networking.k8s.io/web created",
        "horizontalpodautoscaler.autoscaling/web created",
        "poddisruptionbudget.policy/web created",
    ] {
        assert!(out.contains(line), "{line:?} missing:\n{out}");
    }
    // Applying again changes nothing.
    let again = server.ok(&["apply", "-f", &file]);
    assert!(
        again.contains("ingress.networking.k8s.io/web unchanged"),
        "{again}"
    );
    let hpa = server.ok(&["get", "hpa", "web"]);
    assert_eq!(
        header(&hpa),
        [
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE"
        ]
    );
    assert_eq!(row(&hpa, "web")[1], "Deployment/web", "{hpa}");
    let ingress = server.ok(&["get", "ingress", "web"]);
    assert_eq!(row(&ingress, "web")[2], "web.example", "{ingress}");
    // Upstream's bootstrap roles are there.
    let roles = server.ok(&["get", "clusterroles"]);
    for role in ["cluster-admin", "admin", "edit", "view", "system:discovery"] {
        row(&roles, role);
    }
    let classes = server.ok(&["get", "priorityclasses"]);
    row(&classes, "system-node-critical");
}

#[test]
fn kubectl_create_token_gets_a_signed_token_that_lasts_across_restarts() {
    let mut server = Server::start();
    server.ok(&["create", "serviceaccount", "builder"]);
    let token = server.ok(&["create", "token", "builder", "--duration=20m"]);
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT: {token}");
    let claims = {
        use base64::Engine;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap_or_else(|err| panic!("not base64url ({err}): {token}"));
        json_of(&String::from_utf8_lossy(&payload))
    };
    assert_eq!(claims["sub"], "system:serviceaccount:default:builder");
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    assert_eq!(lifetime, 1200, "{claims}");
    let refused = server.kubectl(&["create", "token", "builder", "--duration=1m"]);
    assert!(
        refused
            .stderr
            .contains("may not specify a duration less than 10 minutes"),
        "{refused:?}"
    );
    // The signing key is kept in the data dir: the same key id after a restart.
    let kid = |token: &str| token.split('.').next().unwrap_or_default().to_string();
    server.restart();
    let again = server.ok(&["create", "token", "builder"]);
    assert_eq!(kid(again.trim()), kid(token));
}

#[test]
fn each_component_has_a_kubeconfig_of_its_own_with_upstreams_permissions() {
    let server = Server::start();
    let data_dir = server
        .kubeconfig()
        .parent()
        .expect("the kubeconfig is in the data dir")
        .to_path_buf();
    for (file, user, may, may_not) in [
        (
            "scheduler.kubeconfig",
            "system:kube-scheduler",
            ["list", "nodes"],
            ["get", "secrets"],
        ),
        (
            "controller-manager.kubeconfig",
            "system:kube-controller-manager",
            ["get", "secrets"],
            ["create", "clusterroles"],
        ),
    ] {
        let kubeconfig = data_dir.join(file);
        let whoami = server.ok(&[
            "--kubeconfig",
            kubeconfig.to_str().unwrap_or_default(),
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ]);
        assert_eq!(whoami.trim(), user, "{file}");
        let can = |verb: &str, resource: &str| {
            server
                .kubectl(&[
                    "--kubeconfig",
                    kubeconfig.to_str().unwrap_or_default(),
                    "auth",
                    "can-i",
                    verb,
                    resource,
                    "-A",
                ])
                .stdout
                .trim()
                .to_string()
        };
        assert_eq!(can(may[0], may[1]), "yes", "{user} may {may:?}");
        assert_eq!(
            can(may_not[0], may_not[1]),
            "no",
            "{user} may not {may_not:?}"
        );
    }
}
