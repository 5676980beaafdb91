//! Server-side apply as clients see it: kube-rs `Patch::Apply` with two
//! managers (conflict, then force) on every backend, and over raw HTTP the
//! options upstream checks, creation, dry runs, the status subresource,
//! ownership shared with Update managers, and kubectl's rewrite of
//! managedFields when it upgrades from client-side apply.

#![allow(clippy::unwrap_used)]

mod support;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use support::{Server, embedded, failure};

on_every_backend!(two_appliers_conflict_then_force_merges_their_fields);

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const APPLY: &str = "application/apply-patch+yaml";

fn config_map(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": data})
}

/// `manager`'s managedFields entry of `object` (panics if missing).
fn entry<'a>(object: &'a Value, manager: &str) -> &'a Value {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["manager"] == manager)
        .unwrap_or_else(|| panic!("no entry of {manager}: {object}"))
}

fn managers(object: &Value) -> Vec<String> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{}/{}",
                e["manager"].as_str().unwrap(),
                e["operation"].as_str().unwrap()
            )
        })
        .collect()
}

async fn apply(server: &Server, path: &str, query: &str, body: &Value) -> support::Answer {
    let uri = format!("{path}?{query}");
    server
        .raw("PATCH", &uri, APPLY, serde_json::to_vec(body).unwrap())
        .await
}

async fn two_appliers_conflict_then_force_merges_their_fields(server: Server) {
    let api: Api<ConfigMap> = Api::default_namespaced(server.client.clone());
    let as_value = |cm: &ConfigMap| serde_json::to_value(cm).unwrap();

    let first = Patch::Apply(config_map(json!({"owner": "a", "shared": "s"})));
    let created = api
        .patch("cm", &PatchParams::apply("alice"), &first)
        .await
        .unwrap();
    let created = as_value(&created);
    assert_eq!(managers(&created), ["alice/Apply"]);
    assert_eq!(
        entry(&created, "alice")["fieldsV1"],
        json!({"f:data": {"f:owner": {}, "f:shared": {}}})
    );

    // bob changes a key alice owns: 409 naming alice and the field.
    let second = Patch::Apply(config_map(
        json!({"owner": "b", "shared": "s", "extra": "e"}),
    ));
    let err = api
        .patch("cm", &PatchParams::apply("bob"), &second)
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("expected a Status, got {err}")
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"alice\": .data.owner"
    );
    let answer = apply(
        &server,
        &format!("{CONFIG_MAPS}/cm"),
        "fieldManager=bob",
        &config_map(json!({"owner": "b"})),
    )
    .await;
    let body = failure(&answer, 409);
    assert_eq!(
        body["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"alice\"", "field": ".data.owner"}])
    );
    let unchanged = as_value(&api.get("cm").await.unwrap());
    assert_eq!(
        unchanged["data"]["owner"], "a",
        "a conflict changes nothing"
    );

    // With force bob takes the key; the value both set is shared.
    let forced = api
        .patch("cm", &PatchParams::apply("bob").force(), &second)
        .await
        .unwrap();
    let forced = as_value(&forced);
    assert_eq!(
        forced["data"],
        json!({"owner": "b", "shared": "s", "extra": "e"})
    );
    assert_eq!(
        entry(&forced, "alice")["fieldsV1"],
        json!({"f:data": {"f:shared": {}}})
    );
    assert_eq!(
        entry(&forced, "bob")["fieldsV1"],
        json!({"f:data": {"f:extra": {}, "f:owner": {}, "f:shared": {}}})
    );

    // alice drops `shared`: bob still owns it, so it stays; her entry goes.
    let mut nothing = config_map(Value::Null);
    nothing.as_object_mut().unwrap().remove("data");
    let dropped = api
        .patch("cm", &PatchParams::apply("alice"), &Patch::Apply(nothing))
        .await
        .unwrap();
    let dropped = as_value(&dropped);
    assert_eq!(dropped["data"]["shared"], "s");
    assert_eq!(managers(&dropped), ["bob/Apply"]);
    // bob drops `extra`, which only he owned: it goes.
    let removed = api
        .patch(
            "cm",
            &PatchParams::apply("bob"),
            &Patch::Apply(config_map(json!({"owner": "b", "shared": "s"}))),
        )
        .await
        .unwrap();
    assert_eq!(
        as_value(&removed)["data"],
        json!({"owner": "b", "shared": "s"})
    );
}

#[tokio::test]
async fn apply_creates_with_201_then_updates_with_200_and_accepts_yaml() {
    let server = embedded().await;
    let path = format!("{CONFIG_MAPS}/cm");
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n";
    let created = server
        .raw("PATCH", &format!("{path}?fieldManager=m"), APPLY, yaml)
        .await;
    assert_eq!(created.code, 201, "{}", created.body);
    assert_eq!(created.body["data"], json!({"k": "v"}));
    assert!(created.body["metadata"]["uid"].is_string());
    let updated = apply(
        &server,
        &path,
        "fieldManager=m",
        &config_map(json!({"k": "w"})),
    )
    .await;
    assert_eq!(updated.code, 200, "{}", updated.body);
    assert_eq!(updated.body["data"], json!({"k": "w"}));
}

#[tokio::test]
async fn apply_options_are_checked_as_upstream() {
    let server = embedded().await;
    let path = format!("{CONFIG_MAPS}/cm");
    let body = config_map(json!({"k": "v"}));
    let answer = apply(&server, &path, "", &body).await;
    let status = failure(&answer, 422);
    assert_eq!(
        status["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let answer = apply(&server, &path, "fieldManager=m&force=maybe", &body).await;
    failure(&answer, 400);
    let mut named = body.clone();
    named["metadata"]["name"] = json!("other");
    let answer = apply(&server, &path, "fieldManager=m", &named).await;
    failure(&answer, 400);
    let mut with_fields = body.clone();
    with_fields["metadata"]["managedFields"] = json!([]);
    let answer = apply(&server, &path, "fieldManager=m", &with_fields).await;
    assert_eq!(
        failure(&answer, 400)["message"],
        "metadata.managedFields must be nil"
    );
    let answer = apply(&server, &path, "fieldManager=m", &json!({"data": {}})).await;
    failure(&answer, 400);
    // Absent namespace: 404, as a create there.
    let answer = apply(
        &server,
        "/api/v1/namespaces/nowhere/configmaps/cm",
        "fieldManager=m",
        &body,
    )
    .await;
    failure(&answer, 404);
}

#[tokio::test]
async fn a_dry_run_apply_answers_the_result_and_stores_nothing() {
    let server = embedded().await;
    let path = format!("{CONFIG_MAPS}/cm");
    let body = config_map(json!({"k": "v"}));
    let answer = apply(&server, &path, "fieldManager=m&dryRun=All", &body).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    assert_eq!(answer.body["data"], json!({"k": "v"}));
    failure(&server.get(&path).await, 404);

    apply(&server, &path, "fieldManager=m", &body).await;
    let changed = config_map(json!({"k": "dry"}));
    let answer = apply(&server, &path, "fieldManager=m&dryRun=All", &changed).await;
    assert_eq!(answer.body["data"], json!({"k": "dry"}));
    assert_eq!(server.get(&path).await.body["data"], json!({"k": "v"}));
}

fn deployment(replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    })
}

#[tokio::test]
async fn an_applier_owns_what_it_applied_not_the_defaults() {
    let server = embedded().await;
    let path = format!("{DEPLOYMENTS}/web");
    let created = apply(&server, &path, "fieldManager=m", &deployment(2)).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let object = &created.body;
    assert_eq!(
        object["spec"]["strategy"]["type"], "RollingUpdate",
        "defaulted"
    );
    assert_eq!(object["metadata"]["generation"], 1);
    assert_eq!(
        entry(object, "m")["fieldsV1"],
        json!({"f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}},
            },
        }})
    );
    assert_eq!(entry(object, "m")["operation"], "Apply");
    let again = apply(&server, &path, "fieldManager=m", &deployment(3)).await;
    assert_eq!(again.body["metadata"]["generation"], 2);
}

#[tokio::test]
async fn an_update_manager_keeps_its_fields_until_an_apply_is_forced() {
    let server = embedded().await;
    let path = format!("{DEPLOYMENTS}/web");
    apply(&server, &path, "fieldManager=m", &deployment(2)).await;
    let scaled = server
        .raw(
            "PATCH",
            &format!("{path}?fieldManager=scaler"),
            "application/merge-patch+json",
            serde_json::to_vec(&json!({"spec": {"replicas": 5}})).unwrap(),
        )
        .await;
    assert_eq!(scaled.code, 200, "{}", scaled.body);
    let answer = apply(&server, &path, "fieldManager=m", &deployment(2)).await;
    let status = failure(&answer, 409);
    assert_eq!(
        status["message"],
        "Apply failed with 1 conflict: conflict with \"scaler\" using apps/v1: .spec.replicas"
    );
    let forced = apply(&server, &path, "fieldManager=m&force=true", &deployment(2)).await;
    assert_eq!(forced.code, 200, "{}", forced.body);
    assert_eq!(forced.body["spec"]["replicas"], 2);
    assert_eq!(
        managers(&forced.body),
        ["m/Apply"],
        "scaler lost its only field"
    );
}

#[tokio::test]
async fn status_is_applied_through_its_subresource() {
    let server = embedded().await;
    let path = format!("{DEPLOYMENTS}/web");
    apply(&server, &path, "fieldManager=m", &deployment(1)).await;
    let mut status = deployment(7);
    status["status"] =
        json!({"replicas": 1, "conditions": [{"type": "Available", "status": "True"}]});
    let answer = apply(
        &server,
        &format!("{path}/status"),
        "fieldManager=ctl",
        &status,
    )
    .await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    assert_eq!(answer.body["status"]["replicas"], 1);
    assert_eq!(answer.body["spec"]["replicas"], 1, "status writes no spec");
    let ctl = entry(&answer.body, "ctl");
    assert_eq!(ctl["subresource"], "status");
    assert_eq!(
        ctl["fieldsV1"],
        json!({"f:status": {"f:replicas": {}, "f:conditions": {"k:{\"type\":\"Available\"}": {".": {}, "f:type": {}, "f:status": {}}}}})
    );
    // The main resource's appliers own no status.
    assert!(
        entry(&answer.body, "m")["fieldsV1"]
            .get("f:status")
            .is_none()
    );
}

#[tokio::test]
async fn a_client_may_rewrite_managed_fields_as_kubectl_does_when_it_upgrades() {
    let server = embedded().await;
    let created = server
        .json(
            "POST",
            &format!("{CONFIG_MAPS}?fieldManager=kubectl-client-side-apply"),
            &config_map(json!({"k": "v"})),
        )
        .await;
    assert_eq!(created.code, 201, "{}", created.body);
    let moved = json!([{
        "manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
        "time": "2025-01-01T00:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:k": {}}},
    }]);
    let patch = json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": created.body["metadata"]["resourceVersion"]},
        {"op": "replace", "path": "/metadata/managedFields", "value": moved},
    ]);
    let answer = server
        .raw(
            "PATCH",
            &format!("{CONFIG_MAPS}/cm"),
            "application/json-patch+json",
            serde_json::to_vec(&patch).unwrap(),
        )
        .await;
    assert_eq!(answer.code, 200, "{}", answer.body);
    assert_eq!(answer.body["metadata"]["managedFields"], moved);
    // kubectl now owns k as an applier: leaving it out removes it.
    let answer = apply(
        &server,
        &format!("{CONFIG_MAPS}/cm"),
        "fieldManager=kubectl",
        &config_map(json!({"other": "x"})),
    )
    .await;
    assert_eq!(
        answer.body["data"],
        json!({"other": "x"}),
        "{}",
        answer.body
    );
}
