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
            json!({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}),
            "GET",
            "/api/v1/namespaces/dev/pods/web",
            false,
        ),
        // `*` after the slash is no wildcard, as upstream.
        (
            json!({"apiGroups": [""], "resources": ["pods/*"], "verbs": ["get"]}),
            "GET",
            "/api/v1/namespaces/dev/pods/web/log",
            false,
        ),
        (
            json!({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}),
            "GET",
            "/api/v1/namespaces/dev/pods/web/log",
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

/// Whether `subject` (JSON) of a binding in `namespace` names `user`,
/// as the walk over every binding decided it before bindings were
/// indexed by subject.
fn names(subject: &Value, user: &User, namespace: &str) -> bool {
    let field = |key: &str| subject[key].as_str().unwrap_or_default();
    match field("kind") {
        "User" => field("name") == user.name,
        "Group" => user.in_group(field("name")),
        "ServiceAccount" => {
            let sa_namespace = match field("namespace") {
                "" => namespace,
                explicit => explicit,
            };
            !sa_namespace.is_empty()
                && user.name == format!("system:serviceaccount:{sa_namespace}:{}", field("name"))
        }
        _ => false,
    }
}

/// [`Policy::rules_for`] by a walk over every binding, in order: the
/// ClusterRoleBindings, then the RoleBindings of `namespace`.
fn rules_of_every_binding(
    policy: &Policy,
    (cluster_bindings, bindings): (&[Value], &[Value]),
    user: &User,
    namespace: &str,
) -> (Vec<Rule>, Vec<String>) {
    let cluster = cluster_bindings.iter().map(|b| (b, ""));
    let local = bindings
        .iter()
        .filter(|b| !namespace.is_empty() && b["metadata"]["namespace"] == namespace)
        .map(|b| (b, namespace));
    let (mut rules, mut errors) = (Vec::new(), Vec::new());
    for (binding, namespace) in cluster.chain(local) {
        let subjects = binding["subjects"].as_array().cloned().unwrap_or_default();
        if !subjects.iter().any(|s| names(s, user, namespace)) {
            continue;
        }
        let role_ref = serde_json::from_value(binding["roleRef"].clone()).expect("a roleRef");
        match policy.role_ref_rules(&role_ref, namespace) {
            Ok(found) => rules.extend_from_slice(found),
            Err(err) => errors.push(err),
        }
    }
    (rules, errors)
}

#[test]
fn the_subject_index_finds_what_a_walk_over_every_binding_finds() {
    let role = |name: &str, resource: &str| {
        json!({"metadata": {"name": name}, "rules": [
            {"apiGroups": [""], "resources": [resource], "verbs": ["get"]}]})
    };
    let cluster_roles = vec![
        role("pods", "pods"),
        role("nodes", "nodes"),
        role("secrets", "secrets"),
    ];
    let roles = vec![
        json!({"metadata": {"name": "local", "namespace": "dev"}, "rules": [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]}),
    ];
    let binding = |name: &str, namespace: &str, role: (&str, &str), subjects: Value| {
        json!({"metadata": {"name": name, "namespace": namespace},
            "roleRef": {"kind": role.0, "name": role.1}, "subjects": subjects})
    };
    let (user, group) = (
        |name: &str| json!({"kind": "User", "name": name}),
        |name: &str| json!({"kind": "Group", "name": name}),
    );
    let sa = |namespace: &str, name: &str| json!({"kind": "ServiceAccount", "namespace": namespace, "name": name});
    let cluster_bindings = vec![
        binding("a", "", ("ClusterRole", "pods"), json!([group("ops")])),
        binding("b", "", ("ClusterRole", "gone"), json!([user("jane")])),
        // Named twice, by name and by group: found once.
        binding(
            "c",
            "",
            ("ClusterRole", "nodes"),
            json!([user("jane"), group("ops")]),
        ),
        // A ServiceAccount without a namespace names none at cluster scope.
        binding("d", "", ("ClusterRole", "secrets"), json!([sa("", "bot")])),
        binding(
            "e",
            "",
            ("ClusterRole", "secrets"),
            json!([sa("dev", "bot")]),
        ),
        binding(
            "f",
            "",
            ("ClusterRole", "pods"),
            json!([{"kind": "Robot", "name": "jane"}]),
        ),
        binding("g", "", ("ClusterRole", "missing"), json!([group("ops")])),
    ];
    let bindings = vec![
        binding("h", "dev", ("Role", "local"), json!([user("jane")])),
        binding(
            "i",
            "dev",
            ("ClusterRole", "secrets"),
            json!([sa("", "bot")]),
        ),
        binding(
            "j",
            "dev",
            ("Role", "absent"),
            json!([group("ops"), user("jane")]),
        ),
        binding(
            "k",
            "qa",
            ("ClusterRole", "nodes"),
            json!([sa("dev", "bot"), group("qa")]),
        ),
        binding(
            "l",
            "qa",
            ("Role", "local"),
            json!([user("system:serviceaccount:qa:bot")]),
        ),
    ];
    let policy = Policy::build(&cluster_roles, &roles, &cluster_bindings, &bindings);
    let users = [
        User::new("jane", &["ops", "system:authenticated"]),
        User::new("olga", &["ops"]),
        User::new("quinn", &["qa", "ops"]),
        User::new("system:serviceaccount:dev:bot", &["system:serviceaccounts"]),
        User::new("system:serviceaccount:qa:bot", &[]),
        User::new("system:serviceaccount::bot", &[]),
        User::new("nobody", &[]),
    ];
    for user in &users {
        for namespace in ["", "dev", "qa", "prod"] {
            let indexed = policy.rules_for(user, namespace);
            let walked =
                rules_of_every_binding(&policy, (&cluster_bindings, &bindings), user, namespace);
            assert_eq!(indexed, walked, "{} in {namespace:?}", user.name);
        }
    }
    // The cases above do find bindings, and errors in binding order.
    let (rules, errors) = policy.rules_for(&users[0], "dev");
    assert_eq!(rules.len(), 3, "{rules:?}");
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("\"gone\"") && errors[2].contains("\"absent\""));
}
