//! Malformed requests get upstream's answers, each a `Status`: a bad
//! boolean is a 400, a method a path does not take a 405, a body shorter
//! than it announced a 400 (not "too large"), a status path of a resource
//! without status a 404.

mod support;

use support::{embedded, failure};

#[tokio::test]
async fn malformed_requests_get_upstreams_answers() {
    let server = embedded().await;
    let answer = server
        .get("/api/v1/namespaces/default/configmaps?watch=notabool")
        .await;
    let body = failure(&answer, 400);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("ParseBool")),
        "{body}"
    );
    let answer = server
        .get("/api/v1/namespaces/default/configmaps?watch=false")
        .await;
    assert_eq!(answer.code, 200, "{}", answer.body);

    for path in ["/api/v1", "/apis/apps", "/apis/apps/v1"] {
        let answer = server.json("POST", path, &serde_json::json!({})).await;
        failure(&answer, 405);
    }
    for path in ["/version", "/healthz", "/openapi/v3"] {
        let answer = server.json("POST", path, &serde_json::json!({})).await;
        let body = failure(&answer, 405);
        assert_eq!(body["reason"], "MethodNotAllowed", "{path}: {body}");
    }
    let answer = server
        .get("/api/v1/namespaces/default/configmaps/x/status")
        .await;
    failure(&answer, 404);
}

#[tokio::test]
async fn a_body_shorter_than_announced_is_a_400() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = embedded().await;
    let mut stream = tokio::net::TcpStream::connect(server.address)
        .await
        .expect("a connection");
    let request = "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"metadata\":";
    stream.write_all(request.as_bytes()).await.expect("sent");
    stream.shutdown().await.expect("half-closed");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"reason\":\"BadRequest\""), "{answer}");
}

#[tokio::test]
async fn json_patches_are_bounded() {
    let server = embedded().await;
    let config = serde_json::json!({"metadata": {"name": "grow"}, "data": {"a": "x".repeat(1000)}});
    let created = server
        .json("POST", "/api/v1/namespaces/default/configmaps", &config)
        .await;
    assert_eq!(created.code, 201, "{}", created.body);
    // Each copy doubles the annotations: 1 KB becomes 256 MB after 18.
    let seed = serde_json::json!({"s": "x".repeat(1000)});
    let mut ops =
        vec![serde_json::json!({"op": "add", "path": "/metadata/annotations", "value": seed})];
    ops.extend((0..18).map(|i| {
        serde_json::json!({"op": "copy", "from": "/metadata/annotations",
                           "path": format!("/metadata/annotations/c{i}")})
    }));
    let answer = server
        .raw(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/grow",
            "application/json-patch+json",
            serde_json::to_vec(&ops).expect("json"),
        )
        .await;
    assert_eq!(answer.code, 413, "the doubling patch was not refused");
    let body = failure(&answer, 413);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("accumulated size increase of copy")),
        "{body}"
    );
    let many: Vec<serde_json::Value> = (0..10_001)
        .map(|_| serde_json::json!({"op": "test", "path": "/metadata/name", "value": "grow"}))
        .collect();
    let answer = server
        .raw(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/grow",
            "application/json-patch+json",
            serde_json::to_vec(&many).expect("json"),
        )
        .await;
    let body = failure(&answer, 413);
    assert_eq!(
        body["message"],
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
    );
}

#[tokio::test]
async fn an_unknown_patch_directive_is_a_400_with_its_message() {
    let server = embedded().await;
    let config_map = serde_json::json!({"metadata": {"name": "c"}, "data": {"k": "v"}});
    let path = "/api/v1/namespaces/default/configmaps";
    assert_eq!(server.json("POST", path, &config_map).await.code, 201);
    for patch in [r#"{"$patch": "foo"}"#, r#"{"data": {"$patch": "foo"}}"#] {
        let answer = server
            .raw(
                "PATCH",
                &format!("{path}/c"),
                "application/strategic-merge-patch+json",
                patch.as_bytes().to_vec(),
            )
            .await;
        let body = failure(&answer, 400);
        assert_eq!(body["reason"], "BadRequest", "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("unknown patch type: foo"), "{message}");
    }
    let unchanged = server.get(&format!("{path}/c")).await;
    assert_eq!(unchanged.body["data"], serde_json::json!({"k": "v"}));
}

/// One request on a connection of its own (the kube-rs client would
/// retry a 504), and the whole answer.
async fn exchange(server: &support::Server, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.address)
        .await
        .expect("a connection");
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    answer
}

#[tokio::test]
async fn a_request_past_its_deadline_is_a_504_and_a_bad_timeout_a_400() {
    let server = embedded().await;
    let body = r#"{"metadata": {"name": "late"}}"#;
    let request = format!(
        "POST /api/v1/namespaces/default/configmaps?timeout=1ns HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(&server, &request).await;
    assert!(answer.starts_with("HTTP/1.1 504"), "{answer}");
    assert!(answer.contains("\"reason\":\"Timeout\""), "{answer}");
    assert!(
        answer.contains("Timeout: request did not complete within 1ns"),
        "{answer}"
    );
    let path = "/api/v1/namespaces/default/configmaps";
    let answer = server.get(&format!("{path}?timeout=soon")).await;
    failure(&answer, 400);
    let answer = server.get(&format!("{path}?timeout=30s")).await;
    assert_eq!(answer.code, 200, "{}", answer.body);
}
