//! Authentication and RBAC through the HTTP API: a server with a token
//! file and RBAC on, an admin in `system:masters`, and a second user
//! given one namespaced Role, as an operator would set them up.

use keelson_apiserver::auth::{AuthConfig, AuthorizationMode, TokenFile};
use keelson_apiserver::testing::{Answer, Backend, Server, failure, server_with};
use serde_json::{Value, json};

const ADMIN: &str = "Bearer admin-token";
const JANE: &str = "Bearer jane-token";
const BOB: &str = "Bearer bob-token";

async fn server(anonymous: bool) -> Server {
    let tokens = TokenFile::parse(
        "admin-token,admin,1,system:masters\njane-token,jane,2,\"dev-team\"\nbob-token,bob,3\n",
        "tokens.csv",
    )
    .expect("a token file");
    let config = keelson_apiserver::Config {
        auth: Some(AuthConfig {
            anonymous,
            tokens,
            mode: AuthorizationMode::Rbac,
        }),
        ..Default::default()
    };
    server_with(Backend::Embedded, config).await
}

async fn as_user(server: &Server, token: &str, method: &str, path: &str, body: &Value) -> Answer {
    server
        .json_with(method, path, &[("authorization", token)], body)
        .await
}

fn created(answer: &Answer) {
    assert!(
        matches!(answer.code, 200 | 201),
        "{}: {}",
        answer.code,
        answer.body
    );
}

/// Namespace `dev` with a Role that may read and create pods, bound to
/// jane.
async fn jane_can_work_with_pods_in_dev(server: &Server) {
    let ns = json!({"metadata": {"name": "dev"}});
    created(&as_user(server, ADMIN, "POST", "/api/v1/namespaces", &ns).await);
    let role = json!({
        "metadata": {"name": "pod-worker"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "create"]}],
    });
    let roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/roles";
    created(&as_user(server, ADMIN, "POST", roles, &role).await);
    let binding = json!({
        "metadata": {"name": "jane-pods"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-worker"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"}],
    });
    let bindings = "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings";
    created(&as_user(server, ADMIN, "POST", bindings, &binding).await);
}

fn pod(name: &str) -> Value {
    json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
}

#[tokio::test]
async fn a_role_user_may_do_its_verbs_and_nothing_else() {
    let server = server(true).await;
    jane_can_work_with_pods_in_dev(&server).await;
    let pods = "/api/v1/namespaces/dev/pods";
    created(&as_user(&server, JANE, "POST", pods, &pod("web")).await);
    let list = as_user(&server, JANE, "GET", pods, &Value::Null).await;
    assert_eq!(list.code, 200, "{}", list.body);
    assert_eq!(list.body["items"][0]["metadata"]["name"], "web");
    let got = as_user(&server, JANE, "GET", &format!("{pods}/web"), &Value::Null).await;
    assert_eq!(got.code, 200);

    let cases = [
        (
            "DELETE",
            format!("{pods}/web"),
            "pods \"web\" is forbidden: User \"jane\" cannot delete resource \"pods\" in API group \"\" in the namespace \"dev\"",
        ),
        (
            "GET",
            "/api/v1/namespaces/prod/pods".to_string(),
            "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"prod\"",
        ),
        (
            "GET",
            "/api/v1/pods".to_string(),
            "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" at the cluster scope",
        ),
        (
            "GET",
            format!("{pods}/web/log"),
            "pods \"web\" is forbidden: User \"jane\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"dev\"",
        ),
        (
            "GET",
            "/apis/apps/v1/namespaces/dev/deployments".to_string(),
            "deployments.apps is forbidden: User \"jane\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"dev\"",
        ),
        (
            "GET",
            "/metrics".to_string(),
            "forbidden: User \"jane\" cannot get path \"/metrics\"",
        ),
    ];
    for (method, path, message) in cases {
        let answer = as_user(&server, JANE, method, &path, &Value::Null).await;
        let status = failure(&answer, 403);
        assert_eq!(status["reason"], "Forbidden", "{path}");
        assert_eq!(status["message"], message, "{method} {path}");
    }
    // What every authenticated user may do: discovery and the version.
    for path in ["/api", "/apis", "/api/v1", "/version", "/healthz"] {
        let answer = as_user(&server, JANE, "GET", path, &Value::Null).await;
        assert_eq!(answer.code, 200, "{path}: {}", answer.body);
    }
    // Without her binding, at once, she may do nothing there.
    let binding = "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings/jane-pods";
    let deleted = as_user(&server, ADMIN, "DELETE", binding, &Value::Null).await;
    assert_eq!(deleted.code, 200, "{}", deleted.body);
    failure(
        &as_user(&server, JANE, "GET", pods, &Value::Null).await,
        403,
    );
}

#[tokio::test]
async fn bad_tokens_are_401_and_anonymous_sees_only_public_info() {
    let server = server(true).await;
    let answer = as_user(&server, "Bearer wrong", "GET", "/api/v1/pods", &Value::Null).await;
    let status = failure(&answer, 401);
    assert_eq!(status["message"], "Unauthorized");
    assert_eq!(status["reason"], "Unauthorized");
    // A bad token is refused even where anonymous requests are allowed.
    let answer = as_user(&server, "Bearer wrong", "GET", "/healthz", &Value::Null).await;
    failure(&answer, 401);
    for path in ["/healthz", "/livez", "/readyz", "/version"] {
        assert_eq!(server.get(path).await.code, 200, "{path}");
    }
    let answer = server.get("/api/v1/namespaces/default/pods").await;
    assert_eq!(
        failure(&answer, 403)["message"],
        "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    let answer = server.get("/apis").await;
    assert_eq!(
        failure(&answer, 403)["message"],
        "forbidden: User \"system:anonymous\" cannot get path \"/apis\""
    );

    let closed = self::server(false).await;
    let answer = closed.get("/healthz").await;
    assert_eq!(failure(&answer, 401)["message"], "Unauthorized");
    let answer = as_user(&closed, JANE, "GET", "/healthz", &Value::Null).await;
    assert_eq!(answer.code, 200);
}

#[tokio::test]
async fn impersonation_needs_the_impersonate_verb() {
    let server = server(true).await;
    jane_can_work_with_pods_in_dev(&server).await;
    let pods = "/api/v1/namespaces/dev/pods";
    // The admin acts as jane: jane's permissions, not the admin's.
    let as_jane = [("authorization", ADMIN), ("impersonate-user", "jane")];
    let answer = server.json_with("GET", pods, &as_jane, &Value::Null).await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    let answer = server
        .json_with("GET", "/api/v1/namespaces", &as_jane, &Value::Null)
        .await;
    assert_eq!(
        failure(&answer, 403)["message"],
        "namespaces is forbidden: User \"jane\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
    );
    // Jane may not impersonate anyone.
    let jane_as_admin = [("authorization", JANE), ("impersonate-user", "admin")];
    let answer = server
        .json_with("GET", pods, &jane_as_admin, &Value::Null)
        .await;
    assert_eq!(
        failure(&answer, 403)["message"],
        "users \"admin\" is forbidden: User \"jane\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
    let jane_as_masters = [
        ("authorization", JANE),
        ("impersonate-user", "jane"),
        ("impersonate-group", "system:masters"),
    ];
    let answer = server
        .json_with("GET", pods, &jane_as_masters, &Value::Null)
        .await;
    assert_eq!(
        failure(&answer, 403)["message"],
        "users \"jane\" is forbidden: User \"jane\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
    // Given the verb on users, bob may act as jane.
    let role = json!({
        "metadata": {"name": "impersonate-jane"},
        "rules": [{"apiGroups": [""], "resources": ["users"], "resourceNames": ["jane"], "verbs": ["impersonate"]}],
    });
    let roles = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
    created(&as_user(&server, ADMIN, "POST", roles, &role).await);
    let binding = json!({
        "metadata": {"name": "bob-as-jane"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonate-jane"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}],
    });
    let bindings = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
    created(&as_user(&server, ADMIN, "POST", bindings, &binding).await);
    let bob_as_jane = [("authorization", BOB), ("impersonate-user", "jane")];
    let answer = server
        .json_with("GET", pods, &bob_as_jane, &Value::Null)
        .await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    let bob_as_admin = [("authorization", BOB), ("impersonate-user", "admin")];
    let answer = server
        .json_with("GET", pods, &bob_as_admin, &Value::Null)
        .await;
    failure(&answer, 403);
}

#[tokio::test]
async fn roles_and_bindings_cannot_grant_more_than_their_writer_holds() {
    let server = server(true).await;
    jane_can_work_with_pods_in_dev(&server).await;
    // Jane may write Roles in dev (admin's power over RBAC, nothing more).
    let rbac_writer = json!({
        "metadata": {"name": "rbac-writer"},
        "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["create", "update", "get"]}],
    });
    let roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/roles";
    created(&as_user(&server, ADMIN, "POST", roles, &rbac_writer).await);
    let binding = json!({
        "metadata": {"name": "jane-rbac"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "rbac-writer"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"}],
    });
    let bindings = "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings";
    created(&as_user(&server, ADMIN, "POST", bindings, &binding).await);

    // A Role within jane's own permissions is fine.
    let reader = json!({
        "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    });
    created(&as_user(&server, JANE, "POST", roles, &reader).await);
    // One that grants deletes she lacks is not.
    let deleter = json!({
        "metadata": {"name": "pod-deleter"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "delete"]}],
    });
    let answer = as_user(&server, JANE, "POST", roles, &deleter).await;
    let message = failure(&answer, 403)["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        message.starts_with("roles.rbac.authorization.k8s.io \"pod-deleter\" is forbidden: user \"jane\" (groups=[\"dev-team\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}"),
        "{message}"
    );
    // Binding the admin role (which she does not hold) is refused; binding
    // the reader role is fine.
    let to_admin = json!({
        "metadata": {"name": "jane-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}],
    });
    let answer = as_user(&server, JANE, "POST", bindings, &to_admin).await;
    let message = failure(&answer, 403)["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        message.contains("is attempting to grant RBAC permissions not currently held"),
        "{message}"
    );
    let to_reader = json!({
        "metadata": {"name": "bob-reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}],
    });
    created(&as_user(&server, JANE, "POST", bindings, &to_reader).await);
    // And bob can use it at once.
    let answer = as_user(
        &server,
        BOB,
        "GET",
        "/api/v1/namespaces/dev/pods",
        &Value::Null,
    )
    .await;
    assert_eq!(answer.code, 200, "{}", answer.body);
}

#[tokio::test]
async fn reviews_answer_who_and_what() {
    let server = server(true).await;
    jane_can_work_with_pods_in_dev(&server).await;
    let whoami = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    let answer = as_user(&server, JANE, "POST", whoami, &json!({})).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert_eq!(answer.body["kind"], "SelfSubjectReview");
    assert_eq!(answer.body["status"]["userInfo"]["username"], "jane");
    assert_eq!(answer.body["status"]["userInfo"]["uid"], "2");
    assert_eq!(
        answer.body["status"]["userInfo"]["groups"],
        json!(["dev-team", "system:authenticated"])
    );
    // Anonymous users may not ask who they are, as upstream.
    failure(&server.json("POST", whoami, &json!({})).await, 403);

    let can_i = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let ask = |verb: &str, namespace: &str| json!({"spec": {"resourceAttributes": {"verb": verb, "resource": "pods", "namespace": namespace}}});
    for (verb, namespace, allowed) in [
        ("list", "dev", true),
        ("create", "dev", true),
        ("delete", "dev", false),
        ("list", "prod", false),
    ] {
        let answer = as_user(&server, JANE, "POST", can_i, &ask(verb, namespace)).await;
        assert_eq!(answer.code, 201, "{}", answer.body);
        assert_eq!(
            answer.body["status"]["allowed"], allowed,
            "{verb} in {namespace}"
        );
    }
    let bad = as_user(&server, JANE, "POST", can_i, &json!({"spec": {}})).await;
    let status = failure(&bad, 422);
    assert!(
        status["message"].as_str().is_some_and(
            |m| m.contains("exactly one of nonResourceAttributes or resourceAttributes")
        ),
        "{status}"
    );

    let list = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
    let answer = as_user(
        &server,
        JANE,
        "POST",
        list,
        &json!({"spec": {"namespace": "dev"}}),
    )
    .await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    let rules = answer.body["status"]["resourceRules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        rules.iter().any(|r| r["resources"] == json!(["pods"])),
        "{}",
        answer.body
    );

    // Asking about someone else needs create on subjectaccessreviews.
    let sar = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
    let about_jane = json!({"spec": {"user": "jane", "resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "dev"}}});
    failure(&as_user(&server, JANE, "POST", sar, &about_jane).await, 403);
    let answer = as_user(&server, ADMIN, "POST", sar, &about_jane).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert_eq!(answer.body["status"]["allowed"], true);
}

#[tokio::test]
async fn bind_and_escalate_verbs_and_aggregation_rules() {
    let server = server(true).await;
    jane_can_work_with_pods_in_dev(&server).await;
    let cluster_roles = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
    let cluster_bindings = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
    // Bob may create ClusterRoleBindings, and bind `view` (which he does
    // not hold) by the `bind` verb; and write ClusterRoles.
    let binder = json!({
        "metadata": {"name": "binder"},
        "rules": [
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterrolebindings", "clusterroles"], "verbs": ["create"]},
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "resourceNames": ["view"], "verbs": ["bind"]},
        ],
    });
    created(&as_user(&server, ADMIN, "POST", cluster_roles, &binder).await);
    let bob_binder = json!({
        "metadata": {"name": "bob-binder"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "binder"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}],
    });
    created(&as_user(&server, ADMIN, "POST", cluster_bindings, &bob_binder).await);
    let bind = |role: &str, name: &str| {
        json!({
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"}],
        })
    };
    created(
        &as_user(
            &server,
            BOB,
            "POST",
            cluster_bindings,
            &bind("view", "jane-view"),
        )
        .await,
    );
    let answer = as_user(
        &server,
        BOB,
        "POST",
        cluster_bindings,
        &bind("edit", "jane-edit"),
    )
    .await;
    failure(&answer, 403);
    let answer = as_user(
        &server,
        BOB,
        "POST",
        cluster_bindings,
        &bind("missing", "jane-x"),
    )
    .await;
    assert_eq!(
        failure(&answer, 403)["message"],
        "clusterrolebindings.rbac.authorization.k8s.io \"jane-x\" is forbidden: clusterrole.rbac.authorization.k8s.io \"missing\" not found"
    );
    // Jane now views every namespace.
    let answer = as_user(
        &server,
        JANE,
        "GET",
        "/api/v1/namespaces/default/pods",
        &Value::Null,
    )
    .await;
    assert_eq!(answer.code, 200, "{}", answer.body);

    // An aggregation rule can gather anything: only for cluster admins.
    let aggregated = json!({
        "metadata": {"name": "everything"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]},
    });
    let answer = as_user(&server, BOB, "POST", cluster_roles, &aggregated).await;
    assert!(
        failure(&answer, 403)["message"].as_str().is_some_and(
            |m| m.ends_with("must have cluster-admin privileges to use the aggregationRule")
        ),
        "{}",
        answer.body
    );
    // The admin's aggregated role takes its members' rules at once.
    created(&as_user(&server, ADMIN, "POST", cluster_roles, &aggregated).await);
    let member = json!({
        "metadata": {"name": "node-lister", "labels": {"x": "y"}},
        "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}],
    });
    created(&as_user(&server, ADMIN, "POST", cluster_roles, &member).await);
    created(
        &as_user(
            &server,
            ADMIN,
            "POST",
            cluster_bindings,
            &bind("everything", "jane-everything"),
        )
        .await,
    );
    let answer = as_user(&server, JANE, "GET", "/api/v1/nodes", &Value::Null).await;
    assert_eq!(answer.code, 200, "{}", answer.body);
}

#[tokio::test]
async fn impersonated_service_accounts_uids_and_extras() {
    let server = server(true).await;
    let whoami = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    let headers = [
        ("authorization", ADMIN),
        ("impersonate-user", "system:serviceaccount:dev:builder"),
        ("impersonate-uid", "abc-123"),
        ("impersonate-extra-scopes", "view"),
        ("impersonate-extra-scopes", "edit"),
    ];
    let answer = server.json_with("POST", whoami, &headers, &json!({})).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    let info = &answer.body["status"]["userInfo"];
    assert_eq!(info["username"], "system:serviceaccount:dev:builder");
    assert_eq!(info["uid"], "abc-123");
    assert_eq!(
        info["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:dev",
            "system:authenticated"
        ])
    );
    assert_eq!(info["extra"]["scopes"], json!(["view", "edit"]));
    // Groups without a user are refused.
    let headers = [("authorization", ADMIN), ("impersonate-group", "ops")];
    let answer = server.json_with("POST", whoami, &headers, &json!({})).await;
    failure(&answer, 500);
    // Jane may not act as a service account.
    let headers = [
        ("authorization", JANE),
        ("impersonate-user", "system:serviceaccount:dev:builder"),
    ];
    let answer = server.json_with("POST", whoami, &headers, &json!({})).await;
    assert_eq!(
        failure(&answer, 403)["message"],
        "serviceaccounts \"builder\" is forbidden: User \"jane\" cannot impersonate resource \"serviceaccounts\" in API group \"\" in the namespace \"dev\""
    );
}
