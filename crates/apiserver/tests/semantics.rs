//! Kubernetes object semantics as a client sees them over HTTP: names,
//! generation, the status subresource, defaults, validation, namespaces,
//! finalizers, graceful pod deletion, preconditions, dry runs,
//! managedFields, fieldValidation, and watches (selectors, initial events,
//! timeouts, slow watchers). Scenarios that lean on the store's contract
//! run on the embedded store and on a real etcd.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::{Server, embedded, failure, next_event, seen, watch};

on_every_backend!(
    generation_follows_spec_changes_only,
    namespaces_refuse_content_while_terminating,
    finalizers_hold_a_deleted_object_until_the_last_goes,
    a_bound_pod_is_deleted_gracefully,
    dry_runs_change_nothing,
    a_selector_watch_sees_objects_enter_and_leave,
);

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn config_map(name: &str) -> Value {
    json!({"metadata": {"name": name}, "data": {"k": "v"}})
}

fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
            },
        },
    })
}

fn pod(name: &str) -> Value {
    json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    })
}

/// Creates `object` at `collection` and returns it, asserting 201.
async fn create(server: &Server, collection: &str, object: Value) -> Value {
    let answer = server.json("POST", collection, &object).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    answer.body
}

async fn merge_patch(server: &Server, path: &str, patch: Value) -> support::Answer {
    let body = serde_json::to_vec(&patch).unwrap();
    server
        .raw("PATCH", path, "application/merge-patch+json", body)
        .await
}

fn meta<'a>(object: &'a Value, field: &str) -> &'a Value {
    &object["metadata"][field]
}

#[tokio::test]
async fn generate_name_makes_unique_names_and_a_name_is_required() {
    let server = embedded().await;
    let object = json!({"metadata": {"generateName": "web-"}, "data": {}});
    let a = create(&server, CONFIG_MAPS, object.clone()).await;
    let b = create(&server, CONFIG_MAPS, object).await;
    let (a, b) = (meta(&a, "name"), meta(&b, "name"));
    assert_ne!(a, b);
    for name in [a, b] {
        let name = name.as_str().unwrap();
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
    }

    let answer = server.json("POST", CONFIG_MAPS, &json!({"data": {}})).await;
    let status = failure(&answer, 422);
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(status["details"]["causes"][0]["field"], "metadata.name");
}

async fn generation_follows_spec_changes_only(server: Server) {
    let created = create(&server, DEPLOYMENTS, deployment("web")).await;
    assert_eq!(meta(&created, "generation"), 1);
    let path = format!("{DEPLOYMENTS}/web");

    let labelled = merge_patch(&server, &path, json!({"metadata": {"labels": {"a": "b"}}})).await;
    assert_eq!(meta(&labelled.body, "generation"), 1, "{}", labelled.body);
    // Leaving a defaulted field out is no spec change: the server fills it in.
    let unset = merge_patch(
        &server,
        &path,
        json!({"spec": {"progressDeadlineSeconds": null}}),
    )
    .await;
    assert_eq!(unset.body["spec"]["progressDeadlineSeconds"], 600);
    assert_eq!(meta(&unset.body, "generation"), 1, "{}", unset.body);
    let scaled = merge_patch(&server, &path, json!({"spec": {"replicas": 3}})).await;
    assert_eq!(meta(&scaled.body, "generation"), 2, "{}", scaled.body);

    let status = merge_patch(
        &server,
        &format!("{path}/status"),
        json!({"status": {"replicas": 3, "observedGeneration": 2}}),
    )
    .await;
    assert_eq!(status.code, 200, "{}", status.body);
    assert_eq!(status.body["status"]["replicas"], 3);
    assert_eq!(meta(&status.body, "generation"), 2);
}

#[tokio::test]
async fn the_status_subresource_is_written_apart_from_the_spec() {
    let server = embedded().await;
    create(&server, DEPLOYMENTS, deployment("web")).await;
    let path = format!("{DEPLOYMENTS}/web");

    // The main resource ignores status.
    let mut object = server.get(&path).await.body;
    object["status"] = json!({"replicas": 7});
    object["spec"]["replicas"] = json!(2);
    let updated = server.json("PUT", &path, &object).await;
    assert_eq!(updated.code, 200, "{}", updated.body);
    assert_eq!(updated.body["spec"]["replicas"], 2);
    assert!(
        updated.body["status"].get("replicas").is_none(),
        "{}",
        updated.body
    );

    // /status ignores everything else, by PUT ...
    let mut object = updated.body.clone();
    object["status"] = json!({"replicas": 5});
    object["spec"]["replicas"] = json!(9);
    object["metadata"]["labels"] = json!({"sneaky": "yes"});
    let put = server.json("PUT", &format!("{path}/status"), &object).await;
    assert_eq!(put.code, 200, "{}", put.body);
    assert_eq!(put.body["status"]["replicas"], 5);
    assert_eq!(put.body["spec"]["replicas"], 2);
    // ... and by merge patch.
    let patched = merge_patch(
        &server,
        &format!("{path}/status"),
        json!({"spec": {"replicas": 11}, "status": {"readyReplicas": 1}}),
    )
    .await;
    assert_eq!(patched.code, 200, "{}", patched.body);
    assert_eq!(patched.body["status"]["readyReplicas"], 1);
    assert_eq!(patched.body["status"]["replicas"], 5);
    let stored = server.get(&path).await.body;
    assert_eq!(stored["spec"]["replicas"], 2);
    assert_eq!(meta(&stored, "generation"), 2);
}

#[tokio::test]
async fn deployments_and_namespaces_are_defaulted() {
    let server = embedded().await;
    let mut object = deployment("web");
    object["spec"]["template"]["spec"]["containers"] = json!([
        {"name": "tagged", "image": "nginx:1.27"},
        {"name": "latest", "image": "nginx:latest"},
        {"name": "bare", "image": "nginx"},
    ]);
    let created = create(&server, DEPLOYMENTS, object).await;
    let spec = &created["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    let policies: Vec<&Value> = pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["imagePullPolicy"])
        .collect();
    assert_eq!(policies, ["IfNotPresent", "Always", "Always"]);

    let namespace = create(
        &server,
        "/api/v1/namespaces",
        json!({"metadata": {"name": "team"}}),
    )
    .await;
    assert_eq!(namespace["status"]["phase"], "Active");
    assert_eq!(namespace["spec"]["finalizers"], json!(["kubernetes"]));
}

#[tokio::test]
async fn invalid_objects_are_422_naming_the_field() {
    let server = embedded().await;
    let mut object = deployment("web");
    object["spec"]["replicas"] = json!(-1);
    let answer = server.json("POST", DEPLOYMENTS, &object).await;
    let status = failure(&answer, 422);
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(status["details"]["kind"], "Deployment");
    assert_eq!(status["details"]["causes"][0]["field"], "spec.replicas");

    create(&server, DEPLOYMENTS, deployment("web")).await;
    let answer = merge_patch(
        &server,
        &format!("{DEPLOYMENTS}/web"),
        json!({
            "spec": {
                "selector": {"matchLabels": {"app": "other"}},
                "template": {"metadata": {"labels": {"app": "other"}}},
            },
        }),
    )
    .await;
    let status = failure(&answer, 422);
    let causes = status["details"]["causes"].as_array().unwrap();
    assert!(
        causes.iter().any(|c| c["field"] == "spec.selector"
            && c["message"].as_str().unwrap().contains("immutable")),
        "{status}"
    );
}

async fn namespaces_refuse_content_while_terminating(server: Server) {
    let missing = server
        .json(
            "POST",
            "/api/v1/namespaces/nowhere/configmaps",
            &config_map("a"),
        )
        .await;
    assert_eq!(
        failure(&missing, 404)["message"],
        "namespaces \"nowhere\" not found"
    );

    create(
        &server,
        "/api/v1/namespaces",
        json!({"metadata": {"name": "team"}}),
    )
    .await;
    let deleted = server
        .json("DELETE", "/api/v1/namespaces/team", &Value::Null)
        .await;
    assert!(deleted.code < 300, "{}", deleted.body);
    let namespace = server.get("/api/v1/namespaces/team").await;
    assert_eq!(namespace.code, 200, "the kubernetes finalizer keeps it");
    assert!(meta(&namespace.body, "deletionTimestamp").is_string());
    assert_eq!(namespace.body["status"]["phase"], "Terminating");

    let refused = server
        .json(
            "POST",
            "/api/v1/namespaces/team/configmaps",
            &config_map("a"),
        )
        .await;
    let status = failure(&refused, 403);
    assert_eq!(status["reason"], "Forbidden");
    assert_eq!(
        status["message"],
        "configmaps \"a\" is forbidden: unable to create new content in namespace team because it is being terminated"
    );

    // Only namespaces/finalize lets the finalizers go; then it is gone.
    let mut finalized = namespace.body.clone();
    finalized["spec"]["finalizers"] = json!([]);
    let put = server
        .json("PUT", "/api/v1/namespaces/team", &finalized)
        .await;
    assert_eq!(put.code, 200, "{}", put.body);
    assert_eq!(put.body["spec"]["finalizers"], json!(["kubernetes"]));
    finalized["metadata"]["resourceVersion"] = Value::Null;
    let finalize = server
        .json("PUT", "/api/v1/namespaces/team/finalize", &finalized)
        .await;
    assert_eq!(finalize.code, 200, "{}", finalize.body);
    assert_eq!(server.get("/api/v1/namespaces/team").await.code, 404);
}

async fn finalizers_hold_a_deleted_object_until_the_last_goes(server: Server) {
    let mut object = config_map("held");
    object["metadata"]["finalizers"] = json!(["example.com/a", "example.com/b"]);
    create(&server, CONFIG_MAPS, object).await;
    let path = format!("{CONFIG_MAPS}/held");
    let mut events = watch(&server, &format!("{CONFIG_MAPS}?watch=true")).await;
    assert_eq!(
        seen(&next_event(&mut events).await),
        ("ADDED".into(), "held".into())
    );

    let deleted = server.json("DELETE", &path, &Value::Null).await;
    assert_eq!(deleted.code, 200, "as upstream: {}", deleted.body);
    assert_eq!(
        deleted.body["kind"], "ConfigMap",
        "the object, not a Status"
    );
    assert!(meta(&deleted.body, "deletionTimestamp").is_string());
    assert_eq!(server.get(&path).await.code, 200);
    assert_eq!(next_event(&mut events).await["type"], "MODIFIED");
    let again = server.json("DELETE", &path, &Value::Null).await;
    assert_eq!(again.code, 200);
    assert_eq!(
        meta(&again.body, "resourceVersion"),
        meta(&deleted.body, "resourceVersion"),
        "deleting again writes nothing"
    );

    let added = merge_patch(
        &server,
        &path,
        json!({"metadata": {"finalizers": ["example.com/a", "example.com/b", "example.com/c"]}}),
    )
    .await;
    let status = failure(&added, 422);
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "metadata.finalizers"
    );

    let one_left = merge_patch(
        &server,
        &path,
        json!({"metadata": {"finalizers": ["example.com/b"]}}),
    )
    .await;
    assert_eq!(one_left.code, 200, "{}", one_left.body);
    assert_eq!(server.get(&path).await.code, 200);
    assert_eq!(next_event(&mut events).await["type"], "MODIFIED");

    let none_left = merge_patch(&server, &path, json!({"metadata": {"finalizers": null}})).await;
    assert_eq!(none_left.code, 200, "{}", none_left.body);
    assert_eq!(server.get(&path).await.code, 404);
    assert_eq!(
        seen(&next_event(&mut events).await),
        ("DELETED".into(), "held".into())
    );
}

#[tokio::test]
async fn propagation_policies_add_their_finalizers() {
    let server = embedded().await;
    for (policy, finalizer) in [("Orphan", "orphan"), ("Foreground", "foregroundDeletion")] {
        let name = policy.to_lowercase();
        create(&server, DEPLOYMENTS, deployment(&name)).await;
        let path = format!("{DEPLOYMENTS}/{name}");
        let deleted = server
            .json("DELETE", &path, &json!({"propagationPolicy": policy}))
            .await;
        assert!(deleted.code < 300, "{}", deleted.body);
        let object = server.get(&path).await.body;
        assert_eq!(meta(&object, "finalizers"), &json!([finalizer]), "{object}");
        assert!(meta(&object, "deletionTimestamp").is_string());
        assert_eq!(meta(&object, "generation"), 2, "deletion bumps it");
    }
    // Background (the default) removes at once.
    create(&server, DEPLOYMENTS, deployment("background")).await;
    let path = format!("{DEPLOYMENTS}/background");
    let deleted = server
        .json(
            "DELETE",
            &format!("{path}?propagationPolicy=Background"),
            &Value::Null,
        )
        .await;
    assert_eq!(deleted.code, 200);
    assert_eq!(server.get(&path).await.code, 404);
}

async fn a_bound_pod_is_deleted_gracefully(server: Server) {
    create(&server, PODS, pod("loose")).await;
    let deleted = server
        .json("DELETE", &format!("{PODS}/loose"), &Value::Null)
        .await;
    assert_eq!(deleted.code, 200, "{}", deleted.body);
    assert_eq!(server.get(&format!("{PODS}/loose")).await.code, 404);

    create(&server, PODS, pod("web")).await;
    let path = format!("{PODS}/web");
    let binding = |node: &str| {
        json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"},
               "target": {"kind": "Node", "name": node}})
    };
    let bound = server
        .json("POST", &format!("{path}/binding"), &binding("n1"))
        .await;
    assert_eq!(bound.code, 201, "{}", bound.body);
    let bound = server.get(&path).await.body;
    assert_eq!(bound["spec"]["nodeName"], "n1");
    let scheduled = bound["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "PodScheduled")
        .cloned();
    assert_eq!(scheduled.map(|c| c["status"].clone()), Some(json!("True")));
    let again = server
        .json("POST", &format!("{path}/binding"), &binding("n2"))
        .await;
    failure(&again, 409);

    let deleted = server.json("DELETE", &path, &Value::Null).await;
    assert_eq!(deleted.code, 200, "{}", deleted.body);
    let pod = server.get(&path).await;
    assert_eq!(pod.code, 200, "a bound pod stays until its kubelet is done");
    assert!(meta(&pod.body, "deletionTimestamp").is_string());
    assert_eq!(meta(&pod.body, "deletionGracePeriodSeconds"), 30);

    // A later delete may shorten the grace period, never lengthen it.
    for (asked, kept) in [(5, 5), (60, 5)] {
        let answer = server
            .json(
                "DELETE",
                &format!("{path}?gracePeriodSeconds={asked}"),
                &Value::Null,
            )
            .await;
        assert_eq!(answer.code, 200, "{}", answer.body);
        assert_eq!(meta(&answer.body, "deletionGracePeriodSeconds"), kept);
    }

    let forced = server
        .json(
            "DELETE",
            &format!("{path}?gracePeriodSeconds=0"),
            &Value::Null,
        )
        .await;
    assert_eq!(forced.code, 200, "{}", forced.body);
    assert_eq!(server.get(&path).await.code, 404);
}

#[tokio::test]
async fn eviction_removes_an_unscheduled_pod() {
    let server = embedded().await;
    create(&server, PODS, pod("web")).await;
    let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction",
                          "metadata": {"name": "web", "namespace": "default"}});
    let dry = server
        .json(
            "POST",
            &format!("{PODS}/web/eviction?dryRun=All"),
            &eviction,
        )
        .await;
    assert_eq!(dry.code, 201, "{}", dry.body);
    assert_eq!(
        server.get(&format!("{PODS}/web")).await.code,
        200,
        "a dry run evicts nothing"
    );
    let evicted = server
        .json("POST", &format!("{PODS}/web/eviction"), &eviction)
        .await;
    assert_eq!(evicted.code, 201, "{}", evicted.body);
    assert_eq!(server.get(&format!("{PODS}/web")).await.code, 404);
}

#[tokio::test]
async fn delete_preconditions_that_fail_are_409() {
    let server = embedded().await;
    let created = create(&server, CONFIG_MAPS, config_map("a")).await;
    let path = format!("{CONFIG_MAPS}/a");
    for preconditions in [
        json!({"uid": "not-the-uid"}),
        json!({"resourceVersion": "1"}),
    ] {
        let answer = server
            .json("DELETE", &path, &json!({"preconditions": preconditions}))
            .await;
        assert!(
            failure(&answer, 409)["message"]
                .as_str()
                .unwrap()
                .contains("Precondition failed"),
            "{}",
            answer.body
        );
    }
    let matching = json!({"preconditions": {"uid": meta(&created, "uid"),
                          "resourceVersion": meta(&created, "resourceVersion")}});
    assert_eq!(server.json("DELETE", &path, &matching).await.code, 200);
}

async fn dry_runs_change_nothing(server: Server) {
    let dry = format!("{CONFIG_MAPS}?dryRun=All");
    let answer = server.json("POST", &dry, &config_map("ghost")).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert_eq!(answer.body["data"]["k"], "v", "the would-be object");
    assert_eq!(server.get(&format!("{CONFIG_MAPS}/ghost")).await.code, 404);

    let created = create(&server, CONFIG_MAPS, config_map("real")).await;
    let path = format!("{CONFIG_MAPS}/real");
    let mut changed = created.clone();
    changed["data"]["k"] = json!("put");
    let put = server
        .json("PUT", &format!("{path}?dryRun=All"), &changed)
        .await;
    assert_eq!((put.code, &put.body["data"]["k"]), (200, &json!("put")));
    let patched = server
        .raw(
            "PATCH",
            &format!("{path}?dryRun=All"),
            "application/merge-patch+json",
            br#"{"data": {"k": "patched"}}"#.to_vec(),
        )
        .await;
    assert_eq!(
        (patched.code, &patched.body["data"]["k"]),
        (200, &json!("patched"))
    );
    let deleted = server
        .json("DELETE", &format!("{path}?dryRun=All"), &Value::Null)
        .await;
    assert_eq!(deleted.code, 200, "{}", deleted.body);

    let stored = server.get(&path).await.body;
    assert_eq!(stored, created, "nothing was written");

    // A dryRun the server does not know must not turn into a real write.
    let unknown = server
        .json(
            "POST",
            &format!("{CONFIG_MAPS}?dryRun=true"),
            &config_map("oops"),
        )
        .await;
    failure(&unknown, 422);
    assert_eq!(server.get(&format!("{CONFIG_MAPS}/oops")).await.code, 404);
}

#[tokio::test]
async fn managed_fields_record_each_writer() {
    let server = embedded().await;
    let api: Api<Deployment> = Api::namespaced(server.client.clone(), "default");
    let object: Deployment = serde_json::from_value(deployment("web")).unwrap();
    let post = PostParams {
        field_manager: Some("alice".into()),
        ..PostParams::default()
    };
    api.create(&post, &object).await.unwrap();
    let patch = PatchParams {
        field_manager: Some("bob".into()),
        ..PatchParams::default()
    };
    api.patch_scale(
        "web",
        &patch,
        &Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await
    .unwrap();

    let object = server.get(&format!("{DEPLOYMENTS}/web")).await.body;
    let entries = meta(&object, "managedFields").as_array().unwrap();
    let entry = |manager: &str| {
        entries
            .iter()
            .find(|e| e["manager"] == manager)
            .unwrap_or_else(|| panic!("no entry for {manager}: {object}"))
    };
    let (alice, bob) = (entry("alice"), entry("bob"));
    assert_eq!(entries.len(), 2, "{object}");
    assert_eq!(
        (&alice["operation"], &bob["operation"]),
        (&json!("Update"), &json!("Update"))
    );
    assert_eq!(bob["subresource"], "scale");
    assert_eq!(bob["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    assert!(
        alice["fieldsV1"]["f:spec"].get("f:replicas").is_none(),
        "{alice}"
    );
    assert!(
        alice["fieldsV1"]["f:spec"].get("f:template").is_some(),
        "{alice}"
    );
}

#[tokio::test]
async fn field_validation_strict_warn_and_ignore() {
    let server = embedded().await;
    let mut object = deployment("web");
    object["spec"]["foo"] = json!(1);

    let strict = server
        .json(
            "POST",
            &format!("{DEPLOYMENTS}?fieldValidation=Strict"),
            &object,
        )
        .await;
    let status = failure(&strict, 400);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("unknown field \"spec.foo\""),
        "{status}"
    );

    let warned = server
        .json(
            "POST",
            &format!("{DEPLOYMENTS}?fieldValidation=Warn"),
            &object,
        )
        .await;
    assert_eq!(warned.code, 201, "{}", warned.body);
    let warning = warned.headers.get("warning").expect("a Warning header");
    assert!(
        warning
            .to_str()
            .unwrap()
            .contains("unknown field \\\"spec.foo\\\""),
        "{warning:?}"
    );
    assert!(
        warned.body["spec"].get("foo").is_none(),
        "unknown fields are dropped"
    );

    let path = format!("{DEPLOYMENTS}/web?fieldValidation=Ignore");
    let ignored = server
        .raw(
            "PATCH",
            &path,
            "application/merge-patch+json",
            br#"{"spec": {"bar": 1}}"#.to_vec(),
        )
        .await;
    assert_eq!(ignored.code, 200, "{}", ignored.body);
    assert!(ignored.headers.get("warning").is_none());

    // A field named twice in one object: Strict refuses, naming its path.
    let twice = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"twice"},"data":{"k":"1","k":"2"}}"#;
    let strict = server
        .raw(
            "POST",
            &format!("{CONFIG_MAPS}?fieldValidation=Strict"),
            "application/json",
            twice.to_vec(),
        )
        .await;
    let status = failure(&strict, 400);
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("duplicate field \"data.k\""),
        "{status}"
    );
}

async fn a_selector_watch_sees_objects_enter_and_leave(server: Server) {
    let mut object = config_map("a");
    object["metadata"]["labels"] = json!({"tier": "web"});
    create(&server, CONFIG_MAPS, object).await;
    let mut events = watch(
        &server,
        &format!("{CONFIG_MAPS}?watch=true&labelSelector=tier%3Dweb"),
    )
    .await;
    assert_eq!(
        seen(&next_event(&mut events).await),
        ("ADDED".into(), "a".into())
    );

    let path = format!("{CONFIG_MAPS}/a");
    merge_patch(
        &server,
        &path,
        json!({"metadata": {"labels": {"tier": "db"}}}),
    )
    .await;
    let left = next_event(&mut events).await;
    assert_eq!(seen(&left), ("DELETED".into(), "a".into()));
    merge_patch(&server, &path, json!({"data": {"k": "unseen"}})).await;
    merge_patch(
        &server,
        &path,
        json!({"metadata": {"labels": {"tier": "web"}}}),
    )
    .await;
    let back = next_event(&mut events).await;
    assert_eq!(seen(&back), ("ADDED".into(), "a".into()));
    assert_eq!(back["object"]["data"]["k"], "unseen", "the current object");
}

#[tokio::test]
async fn a_watch_with_initial_events_ends_them_with_a_bookmark() {
    let server = embedded().await;
    for name in ["a", "b"] {
        create(&server, CONFIG_MAPS, config_map(name)).await;
    }
    let path = format!(
        "{CONFIG_MAPS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
    );
    let mut events = watch(&server, &path).await;
    assert_eq!(
        seen(&next_event(&mut events).await),
        ("ADDED".into(), "a".into())
    );
    assert_eq!(
        seen(&next_event(&mut events).await),
        ("ADDED".into(), "b".into())
    );
    let bookmark = next_event(&mut events).await;
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(
        bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert!(bookmark["object"]["metadata"]["resourceVersion"].is_string());
}

#[tokio::test]
async fn a_watch_ends_after_its_timeout() {
    let server = embedded().await;
    let mut events = watch(
        &server,
        &format!("{CONFIG_MAPS}?watch=true&timeoutSeconds=1"),
    )
    .await;
    let end = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("the watch ends within 10s");
    assert!(end.is_none(), "no events, then the end: {end:?}");
}

/// Objects written while one watcher never reads.
const FLOOD: usize = 5000;

#[tokio::test]
async fn a_slow_watcher_does_not_stall_the_others() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = embedded().await;

    // A watcher that reads its response head and then nothing more.
    let mut slow = tokio::net::TcpStream::connect(server.address)
        .await
        .unwrap();
    let request = format!(
        "GET {CONFIG_MAPS}?watch=true HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.address
    );
    slow.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    slow.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");

    let mut fast = watch(&server, &format!("{CONFIG_MAPS}?watch=true")).await;
    let counter = tokio::spawn(async move {
        let mut added = 0;
        while added < FLOOD {
            let event = tokio::time::timeout(Duration::from_secs(30), fast.next())
                .await
                .unwrap_or_else(|_| panic!("stalled after {added} events"))
                .expect("the fast watch goes on");
            assert_eq!(event["type"], "ADDED", "{event}");
            added += 1;
        }
    });

    // Each object a few KiB, so that the slow watcher's socket buffers fill.
    let padding = "x".repeat(4096);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let client = server.client.clone();
            let padding = padding.clone();
            tokio::spawn(async move {
                for i in (w..FLOOD).step_by(8) {
                    let object = json!({"metadata": {"name": format!("cm{i:05}")},
                                        "data": {"padding": padding}});
                    let request = http::Request::post(CONFIG_MAPS)
                        .header("content-type", "application/json")
                        .body(serde_json::to_vec(&object).unwrap())
                        .unwrap();
                    client.request::<Value>(request).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    counter.await.unwrap();
    drop(slow);
}
