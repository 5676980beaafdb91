//! Table tests of RBAC: rules against requests, bindings and subjects,
//! aggregation, and the escalation check's coverage.

use serde_json::{Value, json};

use super::policy::Policy;
use super::rules::{Rule, covers};
use crate::auth::request_info::{Attributes, parse};
use crate::auth::user::User;

fn rule(value: Value) -> Rule {
    serde_json::from_value(value).expect("a rule")
}

fn request(method: &str, path: &str) -> Attributes {
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    parse(method, path, query)
}

#[test]
fn rules_allow_what_they_name() {
    let pods_read = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]});
    let cases = [
        (
            pods_read.clone(),
            "GET",
            "/api/v1/namespaces/dev/pods",
            true,
        ),
        (
            pods_read.clone(),
            "GET",
            "/api/v1/namespaces/dev/pods/web",
            true,
        ),
        (
            pods_read.clone(),
            "DELETE",
            "/api/v1/namespaces/dev/pods/web",
            false,
        ),
        (
            pods_read.clone(),
            "GET",
            "/api/v1/namespaces/dev/pods?watch=1",
            false,
        ),
        // A subresource is its own resource.
        (
            pods_read.clone(),
            "GET",
            "/api/v1/namespaces/dev/pods/web/log",
            false,
        ),
        (
            pods_read.clone(),
            "GET",
            "/apis/apps/v1/namespaces/dev/deployments",
            false,
        ),
        (
            json!({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}),
            "GET",
            "/api/v1/namespaces/dev/pods/web/log",
            true,
        ),
        (
            json!({"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]}),
            "GET",
            "/api/v1/nodes/n1/status",
            true,
        ),
        (
            json!({"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]}),
            "GET",
            "/api/v1/nodes/n1",
            false,
        ),
        (
            json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
            "DELETE",
            "/apis/apps/v1/namespaces/x/deployments",
            true,
        ),
        (
            json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"], "verbs": ["get"]}),
            "GET",
            "/api/v1/namespaces/dev/configmaps/a",
            true,
        ),
        (
            json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"], "verbs": ["get"]}),
            "GET",
            "/api/v1/namespaces/dev/configmaps/b",
            false,
        ),
        (
            json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"], "verbs": ["list"]}),
            "GET",
            "/api/v1/namespaces/dev/configmaps",
            false,
        ),
        (
            json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"], "verbs": ["list"]}),
            "GET",
            "/api/v1/namespaces/dev/configmaps?fieldSelector=metadata.name%3Da",
            true,
        ),
        // A typo'd verb allows nothing, and refuses nothing else.
        (
            json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["lsit"]}),
            "GET",
            "/api/v1/namespaces/dev/pods",
            false,
        ),
        (
            json!({"nonResourceURLs": ["/healthz", "/version"], "verbs": ["get"]}),
            "GET",
            "/healthz",
            true,
        ),
        (
            json!({"nonResourceURLs": ["/healthz"], "verbs": ["get"]}),
            "GET",
            "/healthz/etcd",
            false,
        ),
        (
            json!({"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}),
            "GET",
            "/apis/apps/v1",
            true,
        ),
        (
            json!({"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}),
            "POST",
            "/apis/apps/v1",
            false,
        ),
        (
            json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
            "PUT",
            "/anything",
            true,
        ),
        // Resource rules do not grant paths, nor path rules resources.
        (
            json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
            "GET",
            "/healthz",
            false,
        ),
        (
            json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
            "GET",
            "/api/v1/pods",
            false,
        ),
    ];
    for (rule_json, method, path, allowed) in cases {
        let r = rule(rule_json.clone());
        assert_eq!(
            r.allows(&request(method, path)),
            allowed,
            "{rule_json} {method} {path}"
        );
    }
}

fn policy() -> Policy {
    let labels =
        |key: &str| json!({format!("rbac.authorization.k8s.io/aggregate-to-{key}"): "true"});
    let cluster_roles = vec![
        json!({"metadata": {"name": "pod-reader"}, "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
        json!({"metadata": {"name": "monitoring"}, "aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": labels("monitoring")}]}, "rules": []}),
        json!({"metadata": {"name": "metrics", "labels": labels("monitoring")}, "rules": [
            {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]}),
        json!({"metadata": {"name": "nested", "labels": labels("monitoring")},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": labels("nested")}]}}),
        json!({"metadata": {"name": "leaf", "labels": labels("nested")}, "rules": [
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}]}),
    ];
    let roles = vec![
        json!({"metadata": {"name": "cm-editor", "namespace": "dev"}, "rules": [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]}),
    ];
    let subject = |kind: &str, name: &str| json!({"kind": kind, "name": name});
    let cluster_bindings = vec![
        json!({"metadata": {"name": "ops"}, "roleRef": {"kind": "ClusterRole", "name": "monitoring"},
            "subjects": [subject("Group", "ops")]}),
        json!({"metadata": {"name": "dangling"}, "roleRef": {"kind": "ClusterRole", "name": "gone"},
            "subjects": [subject("User", "ghost")]}),
    ];
    let bindings = vec![
        json!({"metadata": {"name": "jane", "namespace": "dev"},
            "roleRef": {"kind": "Role", "name": "cm-editor"}, "subjects": [subject("User", "jane")]}),
        json!({"metadata": {"name": "readers", "namespace": "dev"},
            "roleRef": {"kind": "ClusterRole", "name": "pod-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "bot"}]}),
    ];
    Policy::build(&cluster_roles, &roles, &cluster_bindings, &bindings)
}

#[test]
fn bindings_grant_their_roles_to_their_subjects() {
    let policy = policy();
    let jane = User::new("jane", &["system:authenticated"]);
    let bot = User::new("system:serviceaccount:dev:bot", &[]);
    let other_bot = User::new("system:serviceaccount:qa:bot", &[]);
    let ops = User::new("olga", &["ops"]);
    let cases = [
        (&jane, "POST", "/api/v1/namespaces/dev/configmaps", true),
        (&jane, "POST", "/api/v1/namespaces/prod/configmaps", false),
        (&jane, "GET", "/api/v1/configmaps", false),
        (&jane, "GET", "/api/v1/namespaces/dev/pods", false),
        (&bot, "GET", "/api/v1/namespaces/dev/pods", true),
        (&bot, "GET", "/api/v1/namespaces/qa/pods", false),
        (&other_bot, "GET", "/api/v1/namespaces/dev/pods", false),
        // Aggregated rules, transitively.
        (&ops, "GET", "/metrics", true),
        (&ops, "GET", "/api/v1/nodes", true),
        (&ops, "DELETE", "/api/v1/nodes", false),
    ];
    for (user, method, path, allowed) in cases {
        let decision = policy.authorize(user, &request(method, path));
        assert_eq!(decision.allowed, allowed, "{} {method} {path}", user.name);
    }
    let ghost = policy.authorize(&User::new("ghost", &[]), &request("GET", "/api/v1/pods"));
    assert_eq!(
        ghost.reason(),
        "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found"
    );
}

#[test]
fn coverage_of_granted_rules() {
    let owner = vec![
        rule(
            json!({"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list"]}),
        ),
        rule(json!({"apiGroups": ["apps"], "resources": ["*"], "verbs": ["*"]})),
        rule(json!({"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]})),
        rule(
            json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["s1"], "verbs": ["get"]}),
        ),
        rule(json!({"nonResourceURLs": ["/logs/*"], "verbs": ["get"]})),
    ];
    let cases = [
        (
            json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}),
            true,
        ),
        (
            json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "delete"]}),
            false,
        ),
        (
            json!({"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["*"]}),
            true,
        ),
        (
            json!({"apiGroups": ["*"], "resources": ["deployments"], "verbs": ["get"]}),
            false,
        ),
        (
            json!({"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["get"]}),
            true,
        ),
        (
            json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["s1"], "verbs": ["get"]}),
            true,
        ),
        (
            json!({"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["s2"], "verbs": ["get"]}),
            false,
        ),
        (
            json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}),
            false,
        ),
        (
            json!({"nonResourceURLs": ["/logs/kube"], "verbs": ["get"]}),
            true,
        ),
        (
            json!({"nonResourceURLs": ["/metrics"], "verbs": ["get"]}),
            false,
        ),
        (
            json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["lsit"]}),
            false,
        ),
    ];
    for (wanted, covered) in cases {
        let result = covers(&owner, &[rule(wanted.clone())]);
        assert_eq!(result.is_ok(), covered, "{wanted}");
    }
    let missing = covers(
        &owner,
        &[rule(json!(
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "delete", "watch"]}))],
    )
    .expect_err("not held");
    assert_eq!(missing.len(), 2);
}
