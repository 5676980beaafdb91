//! `serviceaccounts/NAME/token` (TokenRequest, `kubectl create token`): a
//! token signed by the server for an existing ServiceAccount, with the
//! audiences and lifetime asked for and, when asked, bound to a Pod, Secret
//! or Node that must exist with the uid given; bad requests get upstream's
//! answers.

#![allow(clippy::unwrap_used)]

mod support;

use base64::Engine;
use serde_json::{Value, json};
use support::{embedded, failure};

const NS: &str = "/api/v1/namespaces/default";

/// The claims in the middle of a JWT.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn request(spec: Value) -> Value {
    json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
}

#[tokio::test]
async fn a_token_for_a_service_account_names_it_and_expires() {
    let server = embedded().await;
    let account = server
        .json(
            "POST",
            &format!("{NS}/serviceaccounts"),
            &json!({"metadata": {"name": "builder"}}),
        )
        .await;
    assert_eq!(account.code, 201, "{}", account.body);
    let path = format!("{NS}/serviceaccounts/builder/token");
    let answer = server.json("POST", &path, &request(json!({}))).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert_eq!(answer.body["kind"], "TokenRequest");
    assert_eq!(answer.body["spec"]["expirationSeconds"], 3600);
    let token = answer.body["status"]["token"].as_str().unwrap();
    let claims = claims_of(token);
    assert_eq!(claims["sub"], "system:serviceaccount:default:builder");
    assert_eq!(
        claims["iss"],
        "https://kubernetes.default.svc.cluster.local"
    );
    assert_eq!(
        claims["aud"],
        json!(["https://kubernetes.default.svc.cluster.local"])
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(
        claims["kubernetes.io"]["serviceaccount"]["uid"],
        account.body["metadata"]["uid"]
    );
    assert!(
        answer.body["status"]["expirationTimestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let asked = request(json!({"audiences": ["https://vault.example"], "expirationSeconds": 7200}));
    let answer = server.json("POST", &path, &asked).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    let claims = claims_of(answer.body["status"]["token"].as_str().unwrap());
    assert_eq!(claims["aud"], json!(["https://vault.example"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7200
    );
}

#[tokio::test]
async fn a_bound_token_names_its_pod_and_its_node() {
    let server = embedded().await;
    let created = server
        .json(
            "POST",
            &format!("{NS}/serviceaccounts"),
            &json!({"metadata": {"name": "runner"}}),
        )
        .await;
    assert_eq!(created.code, 201);
    let node = server
        .json(
            "POST",
            "/api/v1/nodes",
            &json!({"metadata": {"name": "n1"}}),
        )
        .await;
    assert_eq!(node.code, 201, "{}", node.body);
    let pod = json!({
        "metadata": {"name": "p"},
        "spec": {"nodeName": "n1", "serviceAccountName": "runner", "containers": [{"name": "c", "image": "i"}]},
    });
    let pod = server.json("POST", &format!("{NS}/pods"), &pod).await;
    assert_eq!(pod.code, 201, "{}", pod.body);
    let uid = pod.body["metadata"]["uid"].as_str().unwrap();
    let path = format!("{NS}/serviceaccounts/runner/token");
    let bound = request(
        json!({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": uid}}),
    );
    let answer = server.json("POST", &path, &bound).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    let claims = claims_of(answer.body["status"]["token"].as_str().unwrap());
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], "p");
    assert_eq!(claims["kubernetes.io"]["pod"]["uid"], uid);
    assert_eq!(claims["kubernetes.io"]["node"]["name"], "n1");

    let stale = request(
        json!({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": "not-it"}}),
    );
    let answer = server.json("POST", &path, &stale).await;
    let message = failure(&answer, 409)["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("does not match the UID in record"),
        "{message}"
    );
    let absent =
        request(json!({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "gone"}}));
    failure(&server.json("POST", &path, &absent).await, 404);
    let odd =
        request(json!({"boundObjectRef": {"kind": "Deployment", "apiVersion": "v1", "name": "p"}}));
    failure(&server.json("POST", &path, &odd).await, 422);
}

#[tokio::test]
async fn bad_token_requests_get_upstreams_answers() {
    let server = embedded().await;
    let absent = server
        .json(
            "POST",
            &format!("{NS}/serviceaccounts/nobody/token"),
            &request(json!({})),
        )
        .await;
    let body = failure(&absent, 404);
    assert_eq!(body["message"], "serviceaccounts \"nobody\" not found");
    let path = format!("{NS}/serviceaccounts/nobody/token");
    let short = server
        .json("POST", &path, &request(json!({"expirationSeconds": 60})))
        .await;
    let message = failure(&short, 422)["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"),
        "{message}"
    );
}

/// A server with authentication and RBAC on, where only the token file's
/// admin (in system:masters) may do everything.
async fn secured() -> support::Server {
    use keelson_apiserver::auth::{AuthConfig, AuthorizationMode, TokenFile};
    let tokens = TokenFile::parse("admin-token,admin,1,system:masters\n", "tokens.csv")
        .expect("a token file");
    let config = keelson_apiserver::Config {
        auth: Some(AuthConfig {
            anonymous: true,
            tokens,
            mode: AuthorizationMode::Rbac,
        }),
        ..Default::default()
    };
    support::server_with(support::Backend::Embedded, config).await
}

const ADMIN: &str = "Bearer admin-token";

#[tokio::test]
async fn a_service_account_token_authenticates_until_its_objects_go() {
    let server = secured().await;
    let admin = |method: &'static str, path: String, body: Value| {
        let server = &server;
        async move {
            server
                .json_with(method, &path, &[("authorization", ADMIN)], &body)
                .await
        }
    };
    let made = admin(
        "POST",
        format!("{NS}/serviceaccounts"),
        json!({"metadata": {"name": "reader"}}),
    )
    .await;
    assert_eq!(made.code, 201, "{}", made.body);
    let binding = json!({
        "metadata": {"name": "reader-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "default"}],
    });
    let bound = admin(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings".to_string(),
        binding,
    )
    .await;
    assert_eq!(bound.code, 201, "{}", bound.body);
    let pod =
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
    let pod = admin("POST", format!("{NS}/pods"), pod).await;
    assert_eq!(pod.code, 201, "{}", pod.body);
    let bound_to_pod =
        request(json!({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p"}}));
    let issued = admin(
        "POST",
        format!("{NS}/serviceaccounts/reader/token"),
        bound_to_pod,
    )
    .await;
    assert_eq!(issued.code, 201, "{}", issued.body);
    let token = format!(
        "Bearer {}",
        issued.body["status"]["token"].as_str().unwrap()
    );
    let as_reader = |path: String| {
        let server = &server;
        let token = token.clone();
        async move {
            server
                .json_with(
                    "GET",
                    &path,
                    &[("authorization", token.as_str())],
                    &Value::Null,
                )
                .await
        }
    };
    let pods = as_reader(format!("{NS}/pods")).await;
    assert_eq!(pods.code, 200, "{}", pods.body);
    // A TokenReview says whom the token is, for the server's audience only.
    let reviews = "/apis/authentication.k8s.io/v1/tokenreviews".to_string();
    let raw = issued.body["status"]["token"].as_str().unwrap();
    let review = |spec: Value| json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec});
    let reviewed = admin("POST", reviews.clone(), review(json!({"token": raw}))).await;
    assert_eq!(reviewed.code, 201, "{}", reviewed.body);
    let status = &reviewed.body["status"];
    assert_eq!(status["authenticated"], true, "{status}");
    assert_eq!(
        status["user"]["username"],
        "system:serviceaccount:default:reader"
    );
    assert_eq!(
        status["user"]["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:default",
            "system:authenticated"
        ])
    );
    assert_eq!(
        status["user"]["extra"]["authentication.kubernetes.io/pod-name"],
        json!(["p"])
    );
    let elsewhere = admin(
        "POST",
        reviews.clone(),
        review(json!({"token": raw, "audiences": ["https://vault.example"]})),
    )
    .await;
    assert_eq!(
        elsewhere.body["status"]["authenticated"],
        Value::Null,
        "{}",
        elsewhere.body
    );
    let forged = admin("POST", reviews.clone(), review(json!({"token": "a.b.c"}))).await;
    assert_eq!(forged.body["status"]["error"], "invalid bearer token");
    let secrets = as_reader(format!("{NS}/secrets")).await;
    assert_eq!(
        failure(&secrets, 403)["message"],
        "secrets is forbidden: User \"system:serviceaccount:default:reader\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\""
    );
    // Deleting the pod the token is bound to revokes it.
    let deleted = admin(
        "DELETE",
        format!("{NS}/pods/p?gracePeriodSeconds=0"),
        Value::Null,
    )
    .await;
    assert!(
        deleted.code == 200 || deleted.code == 202,
        "{}",
        deleted.body
    );
    let mut refused = None;
    for _ in 0..50 {
        let answer = as_reader(format!("{NS}/pods")).await;
        if answer.code == 401 {
            refused = Some(answer);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let refused = refused.expect("the token is refused once its pod is gone");
    assert_eq!(failure(&refused, 401)["message"], "Unauthorized");
    let forged = server
        .json_with(
            "GET",
            &format!("{NS}/pods"),
            &[("authorization", "Bearer a.b.c")],
            &Value::Null,
        )
        .await;
    failure(&forged, 401);
}

#[tokio::test]
async fn the_issuer_publishes_its_discovery_document_and_key() {
    let server = embedded().await;
    let discovery = server.get("/.well-known/openid-configuration").await;
    assert_eq!(discovery.code, 200, "{}", discovery.body);
    assert_eq!(
        discovery.body["issuer"],
        "https://kubernetes.default.svc.cluster.local"
    );
    assert_eq!(
        discovery.body["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    let keys = server.get("/openid/v1/jwks").await;
    assert_eq!(keys.code, 200, "{}", keys.body);
    assert_eq!(keys.headers["content-type"], "application/jwk-set+json");
    let key = &keys.body["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    // The key id is the one tokens name in their header.
    let account = server
        .json(
            "POST",
            &format!("{NS}/serviceaccounts"),
            &json!({"metadata": {"name": "k"}}),
        )
        .await;
    assert_eq!(account.code, 201);
    let token = server
        .json(
            "POST",
            &format!("{NS}/serviceaccounts/k/token"),
            &request(json!({})),
        )
        .await;
    let header = token.body["status"]["token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(header["alg"], "ES256");
}
