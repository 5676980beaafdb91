//! Evictions honour disruption budgets as upstream's eviction subresource
//! does: a budget with room gives up one disruption (recorded in its
//! status), a budget without room or whose status lags its spec refuses
//! with 429, two budgets are a 500, and pods that are not running go
//! regardless. Budget statuses are written through `/status`, as the
//! disruption controller would.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Server, embedded, failure};

const PODS: &str = "/api/v1/namespaces/default/pods";
const BUDGETS: &str = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";

async fn post(server: &Server, path: &str, body: Value) -> Value {
    let answer = server.json("POST", path, &body).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    answer.body
}

/// A pod labelled `app: web`, running and ready unless `phase` says
/// otherwise.
async fn pod(server: &Server, name: &str, phase: &str) {
    let pod = json!({
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    });
    let mut created = post(server, PODS, pod).await;
    created["status"] = json!({"phase": phase, "conditions": [
        {"type": "Ready", "status": if phase == "Running" { "True" } else { "False" }},
    ]});
    let path = format!("{PODS}/{name}/status");
    let answer = server.json("PUT", &path, &created).await;
    assert_eq!(answer.code, 200, "{}", answer.body);
}

/// A budget over `app: web` whose status allows `allowed` disruptions and
/// has seen generation `observed`.
async fn budget(server: &Server, name: &str, allowed: i64, observed: i64) {
    let budget = json!({
        "metadata": {"name": name},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    });
    let mut created = post(server, BUDGETS, budget).await;
    assert_eq!(created["metadata"]["generation"], 1);
    created["status"] = json!({
        "observedGeneration": observed, "disruptionsAllowed": allowed,
        "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2,
    });
    let answer = server
        .json("PUT", &format!("{BUDGETS}/{name}/status"), &created)
        .await;
    assert_eq!(answer.code, 200, "{}", answer.body);
}

/// An eviction's answer, as status code and body. Sent by a client that
/// does not retry 429s (kube-rs's default client would wait the retry
/// hint out and ask again).
async fn evict(server: &Server, name: &str, query: &str) -> support::Answer {
    let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction",
                          "metadata": {"name": name, "namespace": "default"}});
    let mut config = kube::Config::new(format!("http://{}", server.address).parse().unwrap());
    config.default_retry = false;
    let client = kube::Client::try_from(config).unwrap();
    let request = http::Request::post(format!("{PODS}/{name}/eviction{query}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(kube::client::Body::from(
            serde_json::to_vec(&eviction).unwrap(),
        ))
        .unwrap();
    let response = client.send(request).await.unwrap();
    let code = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect_bytes().await.unwrap();
    support::Answer {
        code,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn exists(server: &Server, name: &str) -> bool {
    server.get(&format!("{PODS}/{name}")).await.code == 200
}

#[tokio::test]
async fn a_budget_gives_up_its_allowed_disruptions_then_refuses() {
    let server = embedded().await;
    pod(&server, "a", "Running").await;
    pod(&server, "b", "Running").await;
    budget(&server, "web", 1, 1).await;

    let dry = evict(&server, "a", "?dryRun=All").await;
    assert_eq!(dry.code, 201, "{}", dry.body);
    assert!(exists(&server, "a").await, "a dry run evicts nothing");
    let unchanged = server.get(&format!("{BUDGETS}/web")).await.body;
    assert_eq!(unchanged["status"]["disruptionsAllowed"], 1);

    let evicted = evict(&server, "a", "").await;
    assert_eq!(evicted.code, 201, "{}", evicted.body);
    assert!(!exists(&server, "a").await);
    let taken = server.get(&format!("{BUDGETS}/web")).await.body;
    assert_eq!(taken["status"]["disruptionsAllowed"], 0);
    assert!(taken["status"]["disruptedPods"]["a"].is_string(), "{taken}");
    assert_eq!(
        taken["status"]["conditions"][0]["reason"],
        "InsufficientPods"
    );

    let refused = evict(&server, "b", "").await;
    let status = failure(&refused, 429);
    assert_eq!(status["reason"], "TooManyRequests");
    assert_eq!(
        status["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(status["details"]["causes"][0]["reason"], "DisruptionBudget");
    assert_eq!(
        status["details"]["causes"][0]["message"],
        "The disruption budget web needs 1 healthy pods and has 2 currently"
    );
    assert!(exists(&server, "b").await);
}

#[tokio::test]
async fn a_budget_whose_status_lags_its_spec_refuses() {
    let server = embedded().await;
    pod(&server, "a", "Running").await;
    budget(&server, "web", 5, 0).await;
    let refused = evict(&server, "a", "").await;
    let status = failure(&refused, 429);
    assert_eq!(
        status["details"]["causes"][0]["message"],
        "The disruption budget web is still being processed by the server."
    );
    assert_eq!(status["details"]["retryAfterSeconds"], 10);
    assert!(exists(&server, "a").await);
}

#[tokio::test]
async fn two_budgets_over_one_pod_are_an_error() {
    let server = embedded().await;
    pod(&server, "a", "Running").await;
    budget(&server, "one", 1, 1).await;
    budget(&server, "two", 1, 1).await;
    let answer = evict(&server, "a", "").await;
    assert_eq!(answer.code, 500, "{}", answer.body);
    assert_eq!(
        answer.body["message"],
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
    );
    assert!(exists(&server, "a").await);
}

#[tokio::test]
async fn pods_that_are_not_running_go_regardless_of_budgets() {
    let server = embedded().await;
    pod(&server, "pending", "Pending").await;
    pod(&server, "done", "Succeeded").await;
    budget(&server, "web", 0, 1).await;
    for name in ["pending", "done"] {
        let answer = evict(&server, name, "").await;
        assert_eq!(answer.code, 201, "{name}: {}", answer.body);
        assert!(!exists(&server, name).await, "{name}");
    }
    let budget = server.get(&format!("{BUDGETS}/web")).await.body;
    assert!(budget["status"].get("disruptedPods").is_none(), "{budget}");
}

#[tokio::test]
async fn an_unready_pod_goes_while_its_budget_is_healthy() {
    let server = embedded().await;
    pod(&server, "a", "Running").await;
    let unready = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
    let answer = server
        .raw(
            "PATCH",
            &format!("{PODS}/a/status"),
            "application/merge-patch+json",
            serde_json::to_vec(&unready).unwrap(),
        )
        .await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    budget(&server, "web", 0, 1).await;
    let answer = evict(&server, "a", "").await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert!(!exists(&server, "a").await);
}
