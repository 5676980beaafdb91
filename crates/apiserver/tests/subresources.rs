//! Discovery and routing come from one table of subresources: every
//! subresource discovery advertises answers, and one it does not advertise
//! is a 404.

mod support;

use serde_json::{Value, json};
use support::{embedded, failure};

/// `(plural, [(subresource, verbs)])` of every resource in `/api/v1`.
async fn advertised(server: &support::Server) -> Vec<(String, String, Vec<String>)> {
    let list = server.get("/api/v1").await.body;
    let mut out = Vec::new();
    for resource in list["resources"].as_array().expect("resources") {
        let name = resource["name"].as_str().expect("a name");
        if let Some((plural, sub)) = name.split_once('/') {
            let verbs = resource["verbs"].as_array().expect("verbs");
            let verbs = verbs.iter().filter_map(Value::as_str).map(String::from);
            out.push((plural.to_string(), sub.to_string(), verbs.collect()));
        }
    }
    out
}

#[tokio::test]
async fn advertised_subresources_answer_and_others_are_404() {
    let server = embedded().await;
    let pod =
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}]}});
    let created = server
        .json("POST", "/api/v1/namespaces/default/pods", &pod)
        .await;
    assert_eq!(created.code, 201, "{}", created.body);
    let subresources = advertised(&server).await;
    let names: Vec<String> = subresources
        .iter()
        .map(|(plural, sub, _)| format!("{plural}/{sub}"))
        .collect();
    for expected in [
        "pods/status",
        "pods/binding",
        "pods/eviction",
        "namespaces/finalize",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected}: {names:?}"
        );
    }
    for unserved in ["pods/log", "pods/exec", "pods/attach", "nodes/proxy"] {
        assert!(
            !names.contains(&unserved.to_string()),
            "{unserved}: {names:?}"
        );
    }
    for (plural, sub, verbs) in &subresources {
        if plural != "pods" || !verbs.contains(&"get".to_string()) {
            continue;
        }
        let answer = server
            .get(&format!("/api/v1/namespaces/default/pods/p/{sub}"))
            .await;
        assert_eq!(answer.code, 200, "GET pods/p/{sub}: {}", answer.body);
    }
    for unserved in ["log", "exec", "attach", "portforward", "nosuch"] {
        let answer = server
            .get(&format!("/api/v1/namespaces/default/pods/p/{unserved}"))
            .await;
        failure(&answer, 404);
    }
}

#[tokio::test]
async fn finalize_changes_only_a_namespaces_finalizers() {
    let server = embedded().await;
    let created = server
        .json(
            "POST",
            "/api/v1/namespaces",
            &json!({"metadata": {"name": "gone"}}),
        )
        .await;
    assert_eq!(created.code, 201, "{}", created.body);
    let mut namespace = created.body;
    assert_eq!(namespace["spec"]["finalizers"], json!(["kubernetes"]));
    // A main-resource write cannot drop the finalizer...
    namespace["spec"]["finalizers"] = json!([]);
    namespace["metadata"]["labels"] = json!({"a": "b"});
    let updated = server
        .json("PUT", "/api/v1/namespaces/gone", &namespace)
        .await;
    assert_eq!(updated.code, 200, "{}", updated.body);
    assert_eq!(updated.body["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(updated.body["metadata"]["labels"]["a"], "b");
    // ...finalize can, and changes nothing else.
    let mut finalize = updated.body.clone();
    finalize["spec"]["finalizers"] = json!([]);
    finalize["metadata"]["labels"] = json!({"a": "c"});
    let finalized = server
        .json("PUT", "/api/v1/namespaces/gone/finalize", &finalize)
        .await;
    assert_eq!(finalized.code, 200, "{}", finalized.body);
    assert_eq!(finalized.body["spec"]["finalizers"], json!([]));
    assert_eq!(finalized.body["metadata"]["labels"]["a"], "b");
}
