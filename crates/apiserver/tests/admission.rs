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

    // A pod of a ServiceAccount that does not exist is refused, as upstream's.
    let robot_pod = pod("robot", json!({"serviceAccountName": "robot"}));
    let missing = create_pod(&server, &robot_pod).await;
    let body = failure(&missing, 403);
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(
        body["message"],
        "pods \"robot\" is forbidden: error looking up service account default/robot: serviceaccount \"robot\" not found"
    );
    // Once the account is made, the pod is admitted.
    let account =
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}});
    let made = server
        .json(
            "POST",
            "/api/v1/namespaces/default/serviceaccounts",
            &account,
        )
        .await;
    assert_eq!(made.code, 201, "{}", made.body);
    let robot = create_pod(&server, &robot_pod).await;
    assert_eq!(robot.code, 201, "{}", robot.body);
    assert_eq!(
        robot.body["spec"]["serviceAccount"], "robot",
        "{}",
        robot.body
    );
}

#[tokio::test]
async fn a_new_namespaces_first_pod_waits_for_its_default_account() {
    let server = support::embedded().await;
    let made = server
        .json(
            "POST",
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}}),
        )
        .await;
    assert_eq!(made.code, 201, "{}", made.body);
    // At once: the default account comes a moment later (the stand-in
    // ServiceAccount controller), and the lookup waits for it.
    let first = server
        .json(
            "POST",
            "/api/v1/namespaces/fresh/pods",
            &pod("first", json!({})),
        )
        .await;
    assert_eq!(first.code, 201, "{}", first.body);
    let quiet = json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "quiet"}, "automountServiceAccountToken": false});
    let made = server
        .json("POST", "/api/v1/namespaces/fresh/serviceaccounts", &quiet)
        .await;
    assert_eq!(made.code, 201, "{}", made.body);
    let tokenless = server
        .json(
            "POST",
            "/api/v1/namespaces/fresh/pods",
            &pod("tokenless", json!({"serviceAccountName": "quiet"})),
        )
        .await;
    assert_eq!(tokenless.code, 201, "{}", tokenless.body);
    assert!(
        tokenless.body["spec"].get("volumes").is_none(),
        "{}",
        tokenless.body
    );
    // Mirror pods are not looked up.
    let mut mirror = pod(
        "mirror",
        json!({"serviceAccountName": "nobody", "nodeName": "n1"}),
    );
    mirror["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "x"});
    let mirrored = server
        .json("POST", "/api/v1/namespaces/fresh/pods", &mirror)
        .await;
    assert_ne!(mirrored.code, 403, "{}", mirrored.body);
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

#[tokio::test]
async fn priority_classes_resolve_and_only_one_is_the_default() {
    let server = support::embedded().await;
    let classes = "/apis/scheduling.k8s.io/v1/priorityclasses";
    let class = |name: &str, value: i64, default: bool, policy: &str| {
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
               "metadata": {"name": name}, "value": value, "globalDefault": default,
               "preemptionPolicy": policy})
    };
    let high = server
        .json("POST", classes, &class("high", 1000, false, "Never"))
        .await;
    assert_eq!(high.code, 201, "{}", high.body);
    let named = create_pod(&server, &pod("named", json!({"priorityClassName": "high"}))).await;
    assert_eq!(named.code, 201, "{}", named.body);
    assert_eq!(named.body["spec"]["priority"], 1000);
    assert_eq!(named.body["spec"]["preemptionPolicy"], "Never");
    let system = create_pod(
        &server,
        &pod(
            "critical",
            json!({"priorityClassName": "system-node-critical"}),
        ),
    )
    .await;
    assert_eq!(
        system.body["spec"]["priority"], 2000001000,
        "{}",
        system.body
    );

    let default = server
        .json(
            "POST",
            classes,
            &class("base", 10, true, "PreemptLowerPriority"),
        )
        .await;
    assert_eq!(default.code, 201, "{}", default.body);
    let plain = create_pod(&server, &pod("plain", json!({}))).await;
    assert_eq!(plain.body["spec"]["priorityClassName"], "base");
    assert_eq!(plain.body["spec"]["priority"], 10);
    let second = server
        .json(
            "POST",
            classes,
            &class("other", 20, true, "PreemptLowerPriority"),
        )
        .await;
    let body = failure(&second, 403);
    assert_eq!(
        body["message"],
        "priorityclasses.scheduling.k8s.io \"other\" is forbidden: PriorityClass base is already marked as default. Only one default can exist"
    );
}

#[tokio::test]
async fn claims_get_the_newest_default_storage_class() {
    let server = support::embedded().await;
    let class = |name: &str, default: bool| {
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
               "metadata": {"name": name, "annotations":
                   {"storageclass.kubernetes.io/is-default-class": default.to_string()}},
               "provisioner": "keelson.dev/local"})
    };
    for (name, default) in [("standard", true), ("slow", false)] {
        let created = server
            .json(
                "POST",
                "/apis/storage.k8s.io/v1/storageclasses",
                &class(name, default),
            )
            .await;
        assert_eq!(created.code, 201, "{}", created.body);
    }
    let claim = |name: &str, spec: Value| {
        let mut spec = spec;
        spec["accessModes"] = json!(["ReadWriteOnce"]);
        spec["resources"] = json!({"requests": {"storage": "1Gi"}});
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec})
    };
    let claims = "/api/v1/namespaces/default/persistentvolumeclaims";
    let defaulted = server.json("POST", claims, &claim("a", json!({}))).await;
    assert_eq!(defaulted.code, 201, "{}", defaulted.body);
    assert_eq!(defaulted.body["spec"]["storageClassName"], "standard");
    let none = server
        .json("POST", claims, &claim("b", json!({"storageClassName": ""})))
        .await;
    assert_eq!(none.body["spec"]["storageClassName"], "", "{}", none.body);
}
