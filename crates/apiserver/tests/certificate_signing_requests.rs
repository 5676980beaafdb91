//! CertificateSigningRequests through the HTTP API: a request with a real
//! PEM CSR is stored with its requester, bad requests are refused with
//! upstream's 422s, and the `approval` subresource approves or denies it,
//! never both.

use keelson_apiserver::auth::{AuthConfig, AuthorizationMode, TokenFile};
use keelson_apiserver::testing::{Answer, Backend, Server, failure, server_with};
use serde_json::{Value, json};

const ADMIN: &str = "Bearer admin-token";
const CSRS: &str = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

async fn server() -> Server {
    let tokens = TokenFile::parse("admin-token,admin,1,system:masters\n", "tokens.csv")
        .expect("a token file");
    let config = keelson_apiserver::Config {
        auth: Some(AuthConfig {
            anonymous: false,
            tokens,
            mode: AuthorizationMode::Rbac,
        }),
        ..Default::default()
    };
    server_with(Backend::Embedded, config).await
}

async fn send(server: &Server, method: &str, path: &str, body: &Value) -> Answer {
    server
        .json_with(method, path, &[("authorization", ADMIN)], body)
        .await
}

/// `spec.request` as the API carries it: base64 of a PEM CSR.
fn pem_request() -> Value {
    let key = rcgen::KeyPair::generate().expect("a key");
    let params = rcgen::CertificateParams::new(vec!["alice.example".to_string()]).expect("params");
    let pem = params
        .serialize_request(&key)
        .expect("a CSR")
        .pem()
        .expect("PEM");
    serde_json::to_value(k8s_openapi::ByteString(pem.into_bytes())).expect("base64")
}

fn csr(name: &str, request: Value) -> Value {
    json!({
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": request,
            "signerName": "example.com/client",
            "usages": ["digital signature", "client auth"],
            "username": "mallory",
            "groups": ["system:masters"],
        },
        "status": {"conditions": [{"type": "Approved", "status": "True"}]},
    })
}

fn causes(answer: &Answer) -> Vec<(String, String)> {
    let body = failure(answer, 422);
    body["details"]["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or("").to_string();
            (text("field"), text("message"))
        })
        .collect()
}

/// Sets the conditions of `name` through `subresource`, as kubectl does:
/// a PUT of the whole object.
async fn put_conditions(
    server: &Server,
    name: &str,
    subresource: &str,
    conditions: Value,
) -> Answer {
    let mut object = send(server, "GET", &format!("{CSRS}/{name}"), &Value::Null)
        .await
        .body;
    object["status"]["conditions"] = conditions;
    send(
        server,
        "PUT",
        &format!("{CSRS}/{name}/{subresource}"),
        &object,
    )
    .await
}

fn condition(kind: &str) -> Value {
    json!({"type": kind, "status": "True", "reason": "Test", "message": "by the test"})
}

#[tokio::test]
async fn a_new_request_records_its_requester_and_starts_pending() {
    let server = server().await;
    let created = send(&server, "POST", CSRS, &csr("a", pem_request())).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let spec = &created.body["spec"];
    assert_eq!(spec["username"], "admin", "{spec}");
    assert_eq!(spec["uid"], "1", "{spec}");
    let groups = spec["groups"].as_array().expect("groups");
    assert!(groups.contains(&json!("system:authenticated")), "{spec}");
    assert_eq!(created.body["status"], json!({}), "{}", created.body);
}

#[tokio::test]
async fn bad_requests_are_refused() {
    let server = server().await;
    let not_pem = serde_json::to_value(k8s_openapi::ByteString(b"hello".to_vec())).expect("b64");
    let answer = send(&server, "POST", CSRS, &csr("bad", not_pem)).await;
    assert_eq!(
        causes(&answer),
        [(
            "spec.request".to_string(),
            "Invalid value: \"aGVsbG8=\": PEM block type must be CERTIFICATE REQUEST".to_string()
        )]
    );
    let mut object = csr("bad", pem_request());
    object["spec"]["signerName"] = json!("nodomain");
    object["spec"]["usages"] = json!(["client auth", "flying", "client auth"]);
    object["spec"]["expirationSeconds"] = json!(60);
    let answer = send(&server, "POST", CSRS, &object).await;
    let fields: Vec<String> = causes(&answer).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "spec.usages[1]",
            "spec.usages[2]",
            "spec.signerName",
            "spec.expirationSeconds"
        ],
        "{}",
        answer.body
    );
    let mut object = csr("bad", pem_request());
    object["spec"]
        .as_object_mut()
        .expect("a spec")
        .remove("signerName");
    let answer = send(&server, "POST", CSRS, &object).await;
    assert_eq!(
        causes(&answer),
        [("spec.signerName".to_string(), "Required value".to_string())]
    );
}

#[tokio::test]
async fn approval_approves_once_and_never_denies_too() {
    let server = server().await;
    let created = send(&server, "POST", CSRS, &csr("a", pem_request())).await;
    assert_eq!(created.code, 201, "{}", created.body);

    let approved = put_conditions(&server, "a", "approval", json!([condition("Approved")])).await;
    assert_eq!(approved.code, 200, "{}", approved.body);
    assert_eq!(approved.body["status"]["conditions"][0]["type"], "Approved");

    let both = json!([condition("Approved"), condition("Denied")]);
    let answer = put_conditions(&server, "a", "approval", both).await;
    assert_eq!(
        causes(&answer),
        [(
            "status.conditions[1].type".to_string(),
            "Invalid value: \"Denied\": Denied condition may not be set when Approved condition exists"
                .to_string()
        )]
    );
    let answer = put_conditions(&server, "a", "approval", json!([condition("Denied")])).await;
    let messages: Vec<String> = causes(&answer).into_iter().map(|(_, m)| m).collect();
    assert_eq!(
        messages,
        ["Forbidden: updates may not remove a condition of type \"Approved\""]
    );

    // A main-resource update keeps the status it is sent without, and
    // the request as it was made.
    let mut object = approved.body.clone();
    object["status"] = json!({});
    object["spec"]["signerName"] = json!("example.com/other");
    object["metadata"]["labels"] = json!({"team": "a"});
    let updated = send(&server, "PUT", &format!("{CSRS}/a"), &object).await;
    assert_eq!(updated.code, 200, "{}", updated.body);
    assert_eq!(updated.body["status"]["conditions"][0]["type"], "Approved");
    assert_eq!(updated.body["spec"]["signerName"], "example.com/client");
    assert_eq!(updated.body["metadata"]["labels"]["team"], "a");
}

#[tokio::test]
async fn denial_is_true_and_final() {
    let server = server().await;
    let created = send(&server, "POST", CSRS, &csr("d", pem_request())).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let mut not_true = condition("Denied");
    not_true["status"] = json!("False");
    let answer = put_conditions(&server, "d", "approval", json!([not_true])).await;
    let fields: Vec<String> = causes(&answer).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["status.conditions[0].status"]);

    let denied = put_conditions(&server, "d", "approval", json!([condition("Denied")])).await;
    assert_eq!(denied.code, 200, "{}", denied.body);
    let answer = put_conditions(&server, "d", "approval", json!([condition("Approved")])).await;
    assert_eq!(answer.code, 422, "{}", answer.body);

    let by_signer = format!("{CSRS}?fieldSelector=spec.signerName%3Dexample.com%2Fclient");
    let listed = send(&server, "GET", &by_signer, &Value::Null).await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.body
    );
    let other = format!("{CSRS}?fieldSelector=spec.signerName%3Dexample.com%2Fother");
    let listed = send(&server, "GET", &other, &Value::Null).await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        listed.body
    );

    let table = "application/json;as=Table;v=v1;g=meta.k8s.io";
    let headers = [("authorization", ADMIN), ("accept", table)];
    let table = server.json_with("GET", CSRS, &headers, &Value::Null).await;
    assert_eq!(table.code, 200, "{}", table.body);
    let cells = table.body["rows"][0]["cells"].as_array().expect("cells");
    assert_eq!(
        cells[2..],
        [
            json!("example.com/client"),
            json!("admin"),
            json!("<none>"),
            json!("Denied")
        ],
        "{cells:?}"
    );
}

#[tokio::test]
async fn status_and_approval_each_write_only_their_conditions() {
    let server = server().await;
    let created = send(&server, "POST", CSRS, &csr("s", pem_request())).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let through_status = json!([condition("Approved"), condition("Failed")]);
    let answer = put_conditions(&server, "s", "status", through_status).await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    let conditions = &answer.body["status"]["conditions"];
    assert_eq!(conditions.as_array().map(Vec::len), Some(1), "{conditions}");
    assert_eq!(conditions[0]["type"], "Failed", "{conditions}");
    assert!(
        conditions[0]["lastTransitionTime"].is_string(),
        "{conditions}"
    );

    let answer = put_conditions(&server, "s", "approval", json!([condition("Approved")])).await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    let types: Vec<&str> = answer.body["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    assert_eq!(types, ["Approved", "Failed"], "{}", answer.body);
}
