//! The default admission chain runs on every write path: creates, updates,
//! patches and server-side apply see the same steps.

mod support;

use serde_json::{Value, json};
use support::{Server, failure};

on_every_backend!(pods_get_the_admission_fields, every_write_path_is_admitted);

fn pod(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["containers"] = json!([{"name": "a", "image": "busybox"}]);
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

async fn create_pod(server: &Server, object: &Value) -> support::Answer {
    server
        .json("POST", "/api/v1/namespaces/default/pods", object)
        .await
}

async fn pods_get_the_admission_fields(server: Server) {
    let created = create_pod(&server, &pod("plain", json!({}))).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let spec = &created.body["spec"];
    assert_eq!(spec["serviceAccountName"], "default");
    assert_eq!(spec["serviceAccount"], "default");
    assert_eq!(spec["priority"], 0);
    assert_eq!(spec["preemptionPolicy"], "PreemptLowerPriority");
    let tolerations: Vec<(&str, i64)> = spec["tolerations"]
        .as_array()
        .expect("tolerations")
        .iter()
        .map(|t| {
            assert_eq!(
                (&t["operator"], &t["effect"]),
                (&json!("Exists"), &json!("NoExecute"))
            );
            (
                t["key"].as_str().unwrap_or(""),
                t["tolerationSeconds"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        tolerations,
        [
            ("node.kubernetes.io/not-ready", 300),
            ("node.kubernetes.io/unreachable", 300)
        ]
    );

    let unknown = create_pod(
        &server,
        &pod("unknown", json!({"priorityClassName": "gold"})),
    )
    .await;
    let body = failure(&unknown, 403);
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(
        body["message"],
        "pods \"unknown\" is forbidden: no PriorityClass with name gold was found"
    );

    let given = create_pod(&server, &pod("given", json!({"priority": 9}))).await;
    let body = failure(&given, 403);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("the integer value of priority (9) must not be provided")),
        "{body}"
    );

    let robot = create_pod(
        &server,
        &pod("robot", json!({"serviceAccountName": "robot"})),
    )
    .await;
    assert_eq!(
        robot.body["spec"]["serviceAccount"], "robot",
        "{}",
        robot.body
    );
}

async fn every_write_path_is_admitted(server: Server) {
    let created = create_pod(&server, &pod("p", json!({}))).await;
    assert_eq!(created.code, 201, "{}", created.body);
    // A replace that leaves out what admission resolved keeps it.
    let mut replaced = created.body.clone();
    let spec = replaced["spec"].as_object_mut().expect("a spec");
    spec.remove("priority");
    spec.remove("preemptionPolicy");
    replaced["metadata"]["labels"] = json!({"a": "b"});
    let updated = server
        .json("PUT", "/api/v1/namespaces/default/pods/p", &replaced)
        .await;
    assert_eq!(updated.code, 200, "{}", updated.body);
    assert_eq!(updated.body["spec"]["priority"], 0);
    assert_eq!(
        updated.body["spec"]["preemptionPolicy"],
        "PreemptLowerPriority"
    );

    // Server-side apply creates through the same chain.
    let applied = server
        .raw(
            "PATCH",
            "/api/v1/namespaces/default/pods/applied?fieldManager=test",
            "application/apply-patch+yaml",
            serde_json::to_vec(&pod("applied", json!({}))).expect("json"),
        )
        .await;
    assert_eq!(applied.code, 201, "{}", applied.body);
    assert_eq!(applied.body["spec"]["serviceAccountName"], "default");
    assert_eq!(
        applied.body["spec"]["tolerations"].as_array().map(Vec::len),
        Some(2)
    );

    // A refused create through apply is the same refusal.
    let refused = server
        .raw(
            "PATCH",
            "/api/v1/namespaces/default/pods/gold?fieldManager=test",
            "application/apply-patch+yaml",
            serde_json::to_vec(&pod("gold", json!({"priorityClassName": "gold"}))).expect("json"),
        )
        .await;
    failure(&refused, 403);
}
