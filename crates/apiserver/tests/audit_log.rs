//! The audit log: one JSON line per request at the level the policy's
//! first matching rule gives, with its verb, objectRef and responseStatus;
//! bodies only at Request and RequestResponse; nothing for None; Secrets
//! only as metadata under the default policy.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use keelson_apiserver::Config;
use keelson_apiserver::audit::{AuditConfig, DEFAULT_POLICY};
use keelson_apiserver::testing::{self, Backend, Server};
use serde_json::{Value, json};

const MARKER: &str = "audit-plaintext-marker";

const POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ['/readyz*']
- level: None
  namespaces: [quiet]
- level: Metadata
  resources:
  - group: ''
    resources: [secrets]
- level: RequestResponse
  resources:
  - group: ''
    resources: [configmaps]
- level: Request
  verbs: [create]
- level: Metadata
";

async fn audited(policy: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let log = dir.path().join("audit.log");
    let config = Config {
        audit: Some(AuditConfig::with_policy(policy, &log).expect("a valid policy")),
        ..Config::default()
    };
    (testing::server_with(Backend::Embedded, config).await, dir)
}

/// The log's events once it holds `count` lines (it is written behind the
/// requests), checking that no more follow.
async fn events(dir: &Path, count: usize) -> Vec<Value> {
    let path = dir.join("audit.log");
    let read = || {
        std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
            .collect::<Vec<_>>()
    };
    for _ in 0..100 {
        if read().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let events = read();
    assert_eq!(events.len(), count, "{events:#?}");
    events
}

fn encoded(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn secret(name: &str) -> Value {
    json!({"metadata": {"name": name}, "data": {"password": encoded(MARKER)}})
}

#[tokio::test]
async fn each_request_is_one_line_at_its_rule_s_level() {
    let (server, dir) = audited(POLICY).await;
    let secrets = "/api/v1/namespaces/default/secrets";
    assert_eq!(server.json("POST", secrets, &secret("db")).await.code, 201);
    let got = server.get(&format!("{secrets}/db")).await;
    assert_eq!(got.code, 200);
    let audit_id = got.headers["audit-id"].to_str().expect("text").to_string();
    assert_eq!(server.get(&format!("{secrets}/missing")).await.code, 404);
    let map = json!({"metadata": {"name": "m"}, "data": {"k": "v"}});
    let maps = "/api/v1/namespaces/default/configmaps";
    assert_eq!(server.json("POST", maps, &map).await.code, 201);
    let pod = "/api/v1/namespaces/default/serviceaccounts";
    let account = json!({"metadata": {"name": "sa"}});
    assert_eq!(server.json("POST", pod, &account).await.code, 201);
    let yaml = "metadata:\n  name: sa2\n";
    let answer = server.raw("POST", pod, "application/yaml", yaml).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    // None: nothing at all.
    server.get("/readyz").await;
    server.get("/api/v1/namespaces/quiet/configmaps").await;

    let events = events(dir.path(), 6).await;
    for event in &events {
        assert_eq!(event["kind"], "Event");
        assert_eq!(event["apiVersion"], "audit.k8s.io/v1");
        assert_eq!(event["stage"], "ResponseComplete");
        assert_eq!(event["user"]["username"], "system:anonymous");
        assert!(event["auditID"].as_str().is_some_and(|id| id.len() == 36));
        assert!(event["requestReceivedTimestamp"].is_string());
        assert!(event["stageTimestamp"].is_string());
        assert!(!event.to_string().contains(&encoded(MARKER)), "{event}");
    }
    let [create, get, missing, map, account, yaml] = &events[..] else {
        unreachable!("six events")
    };
    assert_eq!(create["level"], "Metadata");
    assert_eq!(create["verb"], "create");
    assert_eq!(
        create["objectRef"],
        json!({"resource": "secrets", "namespace": "default", "apiVersion": "v1"})
    );
    assert_eq!(create["responseStatus"]["code"], 201);
    assert!(create.get("requestObject").is_none() && create.get("responseObject").is_none());
    assert_eq!(get["verb"], "get");
    assert_eq!(get["objectRef"]["name"], "db");
    assert_eq!(get["auditID"], audit_id.as_str());
    assert_eq!(get["requestURI"], "/api/v1/namespaces/default/secrets/db");
    assert_eq!(missing["responseStatus"]["code"], 404);
    assert_eq!(missing["responseStatus"]["reason"], "NotFound");
    assert_eq!(missing["responseStatus"]["status"], "Failure");
    assert_eq!(map["level"], "RequestResponse");
    assert_eq!(map["objectRef"]["name"], "m");
    assert_eq!(map["requestObject"]["data"]["k"], "v");
    assert_eq!(map["responseObject"]["kind"], "ConfigMap");
    assert_eq!(account["level"], "Request");
    assert_eq!(account["requestObject"]["metadata"]["name"], "sa");
    assert!(account.get("responseObject").is_none());
    assert_eq!(yaml["requestObject"]["metadata"]["name"], "sa2");
    assert_eq!(yaml["objectRef"]["name"], "sa2");
}

#[tokio::test]
async fn the_default_policy_logs_secrets_as_metadata_only() {
    let (server, dir) = audited(DEFAULT_POLICY).await;
    let secrets = "/api/v1/namespaces/default/secrets";
    assert_eq!(server.json("POST", secrets, &secret("db")).await.code, 201);
    let list = server.get(secrets).await;
    assert!(list.body.to_string().contains(&encoded(MARKER)));
    server.get("/readyz").await;
    let events = events(dir.path(), 2).await;
    assert!(events.iter().all(|e| e["level"] == "Metadata"));
    assert_eq!(events[1]["verb"], "list");
    let log = std::fs::read_to_string(dir.path().join("audit.log")).expect("the log");
    assert!(!log.contains(&encoded(MARKER)) && !log.contains(MARKER));
}

#[tokio::test]
async fn a_watch_is_logged_when_it_starts_and_when_it_ends() {
    let (server, dir) = audited(DEFAULT_POLICY).await;
    let events = testing::watch(&server, "/api/v1/namespaces/default/configmaps?watch=true").await;
    let started = self::events(dir.path(), 1).await;
    assert_eq!(started[0]["stage"], "ResponseStarted");
    assert_eq!(started[0]["verb"], "watch");
    assert_eq!(started[0]["responseStatus"]["code"], 200);
    drop(events);
    let ended = self::events(dir.path(), 2).await;
    assert_eq!(ended[1]["stage"], "ResponseComplete");
    assert_eq!(ended[1]["auditID"], ended[0]["auditID"]);
}

#[tokio::test]
async fn the_log_names_the_authenticated_user_and_records_refusals() {
    use keelson_apiserver::auth::{AuthConfig, AuthorizationMode, TokenFile};
    let dir = tempfile::tempdir().expect("a temp dir");
    let log = dir.path().join("audit.log");
    let tokens =
        TokenFile::parse("jane-token,jane,2,\"dev-team\"\n", "tokens.csv").expect("a token file");
    let config = Config {
        audit: Some(AuditConfig::with_policy("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: None\n  nonResourceURLs: ['/readyz*']\n- level: Metadata\n", &log).expect("a valid policy")),
        auth: Some(AuthConfig {
            anonymous: true,
            tokens,
            mode: AuthorizationMode::Rbac,
        }),
        ..Config::default()
    };
    let server = testing::server_with(Backend::Embedded, config).await;
    let answer = server
        .json_with(
            "GET",
            "/api/v1/namespaces/default/secrets",
            &[("authorization", "Bearer jane-token")],
            &Value::Null,
        )
        .await;
    assert_eq!(answer.code, 403, "{}", answer.body);
    let events = events(dir.path(), 1).await;
    assert_eq!(events[0]["user"]["username"], "jane");
    assert_eq!(
        events[0]["user"]["groups"],
        json!(["dev-team", "system:authenticated"])
    );
    assert_eq!(events[0]["responseStatus"]["code"], 403);
    assert_eq!(events[0]["verb"], "list");
    assert_eq!(events[0]["sourceIPs"], json!(["127.0.0.1"]));
}
