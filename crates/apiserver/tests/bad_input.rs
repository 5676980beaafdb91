//! Bad requests get a `Status` with the right code and a message, never a
//! bare string, a 500 or a crash: oversized and malformed bodies, bodies
//! that do not fit their URL, unknown paths, and bad query parameters.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::{Answer, Server, embedded, failure};

on_every_backend!(an_object_too_large_to_store_is_413);

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";

fn config_map(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

/// Asserts a failure `Status` whose message contains `needle`.
fn refused(answer: &Answer, code: u16, needle: &str) {
    let message = failure(answer, code)["message"].as_str().unwrap();
    assert!(message.contains(needle), "{needle:?} not in {message:?}");
}

/// The server still answers after whatever came before.
async fn still_ready(server: &Server) {
    let answer = server.raw("GET", "/readyz", "text/plain", Vec::new()).await;
    assert_eq!(answer.code, 200);
}

#[tokio::test]
async fn a_body_over_3_mib_is_413() {
    let server = embedded().await;
    let mut object = config_map("big");
    object["data"]["k"] = json!("x".repeat(3 * 1024 * 1024 + 1));
    let answer = server.json("POST", CONFIG_MAPS, &object).await;
    assert_eq!(failure(&answer, 413)["reason"], "RequestEntityTooLarge");
    assert_eq!(server.get(&format!("{CONFIG_MAPS}/big")).await.code, 404);
    still_ready(&server).await;
}

async fn an_object_too_large_to_store_is_413(server: Server) {
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    let deployment = |name: &str, arg: String| {
        json!({
            "metadata": {"name": name},
            "spec": {
                "selector": {"matchLabels": {"app": "big"}},
                "template": {
                    "metadata": {"labels": {"app": "big"}},
                    "spec": {"containers": [{"name": "c", "image": "i", "args": [arg]}]},
                },
            },
        })
    };
    // Under the body limit, over what the store keeps (1.5 MiB).
    let big = "x".repeat(2 * 1024 * 1024);
    let mut object = deployment("big", big.clone());
    object["metadata"]["annotations"] = json!({"padding": "y".repeat(200 * 1024)});
    let answer = server.json("POST", deployments, &object).await;
    assert_eq!(failure(&answer, 413)["reason"], "RequestEntityTooLarge");
    assert_eq!(server.get(&format!("{deployments}/big")).await.code, 404);

    // The same by update.
    let small = server
        .json("POST", deployments, &deployment("small", "a".into()))
        .await;
    assert_eq!(small.code, 201, "{}", small.body);
    let answer = server
        .json(
            "PUT",
            &format!("{deployments}/small"),
            &deployment("small", big),
        )
        .await;
    failure(&answer, 413);

    // A ConfigMap's own limit (1 MiB of data) comes first: 422, as upstream.
    let mut object = config_map("big");
    object["data"]["k"] = json!("x".repeat(2 * 1024 * 1024));
    failure(&server.json("POST", CONFIG_MAPS, &object).await, 422);
    still_ready(&server).await;
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let server = embedded().await;
    let post = |content_type: &'static str, body: Vec<u8>| {
        let server = &server;
        async move { server.raw("POST", CONFIG_MAPS, content_type, body).await }
    };
    let json = "application/json";
    refused(&post(json, b"{\"metadata\": ".to_vec()).await, 400, "JSON");
    refused(
        &post(json, b"{\"a\": 1} trailing".to_vec()).await,
        400,
        "JSON",
    );
    refused(
        &post(json, vec![b'{', 0xff, 0xfe, b'}']).await,
        400,
        "UTF-8",
    );
    refused(&post(json, b"  ".to_vec()).await, 400, "empty");
    refused(
        &post("application/yaml", b"metadata: [a".to_vec()).await,
        400,
        "YAML",
    );
    refused(
        &post("application/yaml", b"a: b\n c: d\n".to_vec()).await,
        400,
        "YAML",
    );

    for levels in [101, 127, 129, 100_000] {
        let deep = format!(
            "{{\"metadata\": {{\"name\": \"d\"}}, \"data\": {}{}}}",
            "[".repeat(levels),
            "]".repeat(levels)
        );
        let answer = post(json, deep.into_bytes()).await;
        failure(&answer, 400);
    }
    // 100,000 levels, in flow and in block style: refused by the parser
    // at the depth limit, before it builds anything.
    let deep_yaml = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    failure(&post("application/yaml", deep_yaml.into_bytes()).await, 400);
    let deep_block = format!("a:\n{}x\n", "- ".repeat(100_000));
    refused(
        &post("application/yaml", deep_block.into_bytes()).await,
        400,
        "not valid YAML",
    );
    // Under the limit, a deep body is read (and its unknown field dropped).
    let deep_enough = format!("metadata:\n  name: deep\nx:\n{}x\n", "- ".repeat(90));
    let answer = post("application/yaml", deep_enough.into_bytes()).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    // Aliases that would expand to billions of nodes.
    let mut bomb = String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for (prev, next) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let refs = vec![format!("*{prev}"); 9].join(",");
        bomb.push_str(&format!("{next}: &{next} [{refs}]\n"));
    }
    failure(&post("application/yaml", bomb.into_bytes()).await, 400);

    refused(
        &post(json, b"[{\"metadata\": {\"name\": \"x\"}}]".to_vec()).await,
        400,
        "cannot unmarshal array into Go value of type v1.ConfigMap",
    );
    refused(
        &post(json, b"\"a string\"".to_vec()).await,
        400,
        "cannot unmarshal string into Go value of type v1.ConfigMap",
    );
    refused(
        &post(json, b"{\"data\": {\"k\": 1e400}}".to_vec()).await,
        400,
        "JSON",
    );
    failure(&post("text/plain", b"hello".to_vec()).await, 415);
    still_ready(&server).await;
}

#[tokio::test]
async fn bodies_that_do_not_fit_their_url_are_400() {
    let server = embedded().await;
    let mut pod = config_map("x");
    pod["kind"] = json!("Pod");
    refused(&server.json("POST", CONFIG_MAPS, &pod).await, 400, "kind");
    let mut other_version = config_map("x");
    other_version["apiVersion"] = json!("v2");
    refused(
        &server.json("POST", CONFIG_MAPS, &other_version).await,
        400,
        "API version",
    );

    let mut elsewhere = config_map("x");
    elsewhere["metadata"]["namespace"] = json!("kube-system");
    refused(
        &server.json("POST", CONFIG_MAPS, &elsewhere).await,
        400,
        "namespace",
    );

    let created = server.json("POST", CONFIG_MAPS, &config_map("a")).await;
    assert_eq!(created.code, 201);
    let path = format!("{CONFIG_MAPS}/a");
    let mut renamed = created.body.clone();
    renamed["metadata"]["name"] = json!("b");
    refused(&server.json("PUT", &path, &renamed).await, 400, "name");
    let mut moved = created.body.clone();
    moved["metadata"]["namespace"] = json!("kube-system");
    refused(&server.json("PUT", &path, &moved).await, 400, "namespace");

    let patch = |body: &'static str, content_type: &'static str| {
        let (server, path) = (&server, &path);
        async move {
            server
                .raw("PATCH", path, content_type, body.as_bytes().to_vec())
                .await
        }
    };
    failure(&patch("[1, 2]", "application/merge-patch+json").await, 400);
    failure(
        &patch("{\"op\": \"add\"}", "application/json-patch+json").await,
        400,
    );
    let removes_all = r#"[{"op": "replace", "path": "", "value": 7}]"#;
    failure(
        &patch(removes_all, "application/json-patch+json").await,
        400,
    );
    let renames = r#"[{"op": "replace", "path": "/metadata/name", "value": "b"}]"#;
    refused(
        &patch(renames, "application/json-patch+json").await,
        400,
        "name",
    );
    failure(&patch("{}", "application/x-unknown").await, 415);
    let kept = server.get(&path).await.body;
    assert_eq!(kept, created.body, "nothing changed");
    still_ready(&server).await;
}

#[tokio::test]
async fn unknown_paths_are_404_status() {
    let server = embedded().await;
    for path in [
        "/api/v1/widgets",
        "/api/v1/namespaces/default/widgets/x",
        "/apis/example.com/v1/things",
        "/apis/apps/v2/deployments",
        "/apis/apps/v1/namespaces/default/deployments/x/bogus",
        "/api/v1/namespaces/default/pods/a/b/c",
        "/api/v1/namespaces/default/configmaps/a/status",
        "/nothing/here",
    ] {
        let answer = server.get(path).await;
        assert_eq!(failure(&answer, 404)["reason"], "NotFound", "{path}");
    }
    still_ready(&server).await;
}

#[tokio::test]
async fn bad_query_parameters_are_refused_naming_the_problem() {
    let server = embedded().await;
    let list = |query: &str| {
        let (server, path) = (&server, format!("{CONFIG_MAPS}?{query}"));
        async move { server.get(&path).await }
    };
    refused(
        &list("labelSelector=a%20in%20(").await,
        400,
        "unable to parse requirement",
    );
    refused(
        &list("labelSelector=a%3D%3D%3Db").await,
        400,
        "unable to parse",
    );
    refused(
        &list("fieldSelector=metadata.name").await,
        400,
        "metadata.name",
    );
    refused(&list("fieldSelector=spec.foo%3Dbar").await, 400, "spec.foo");
    refused(&list("limit=abc").await, 400, "limit");
    // As upstream, a limit below 1 means no limit.
    assert_eq!(list("limit=-1").await.code, 200);
    refused(&list("resourceVersion=abc").await, 400, "resource version");
    // As upstream's ValidateListOptions: 422 on ListOptions.
    let answer = list("resourceVersionMatch=Exact").await;
    let status = failure(&answer, 422);
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "resourceVersionMatch"
    );
    refused(
        &answer,
        422,
        "resourceVersionMatch is forbidden unless resourceVersion is provided",
    );
    // Field managers: at most 128 bytes, printable; force only for apply.
    let long = "m".repeat(129);
    let answer = server
        .json(
            "POST",
            &format!("{CONFIG_MAPS}?fieldManager={long}"),
            &json!({"metadata": {"name": "fm"}}),
        )
        .await;
    refused(&answer, 422, "fieldManager: Too long");
    let answer = server
        .raw(
            "PATCH",
            &format!("{CONFIG_MAPS}/fm?force=true"),
            "application/merge-patch+json",
            b"{}".to_vec(),
        )
        .await;
    refused(&answer, 422, "may not be specified for non-apply patch");
    // Watches: resourceVersionMatch only with sendInitialEvents, and that
    // only with NotOlderThan.
    refused(
        &list("watch=true&resourceVersionMatch=NotOlderThan").await,
        422,
        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
    );
    refused(
        &list("watch=true&sendInitialEvents=true").await,
        422,
        "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
    );
    failure(
        &list("resourceVersion=1&resourceVersionMatch=Sometimes").await,
        422,
    );
    refused(
        &list("watch=true&labelSelector=a%20in%20(").await,
        400,
        "unable to parse",
    );
    refused(
        &list("watch=true&fieldSelector=spec.foo%3Dbar").await,
        400,
        "spec.foo",
    );
    refused(
        &list("watch=true&timeoutSeconds=soon").await,
        400,
        "timeoutSeconds",
    );
    refused(
        &list("watch=true&resourceVersion=abc").await,
        400,
        "resource version",
    );
    let strictish = server
        .json(
            "POST",
            &format!("{CONFIG_MAPS}?fieldValidation=Loose"),
            &config_map("a"),
        )
        .await;
    refused(&strictish, 400, "fieldValidation");
    still_ready(&server).await;
}
