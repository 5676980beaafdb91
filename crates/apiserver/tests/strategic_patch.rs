//! Strategic merge patch as kube-rs sends it (`Patch::Strategic`), on every
//! backend: containers merge by name, and the patching manager's
//! managedFields entry owns just what it changed.

#![allow(clippy::unwrap_used)]

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::Server;

on_every_backend!(a_strategic_patch_merges_containers_and_records_its_manager);

fn deployment() -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "a", "image": "nginx:1.27"},
                    {"name": "b", "image": "busybox:1"}
                ]}
            }
        }
    }))
    .unwrap()
}

async fn a_strategic_patch_merges_containers_and_records_its_manager(server: Server) {
    let api: Api<Deployment> = Api::default_namespaced(server.client.clone());
    api.create(&PostParams::default(), &deployment())
        .await
        .unwrap();

    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "b", "image": "busybox:2"}
    ]}}}});
    let params = PatchParams {
        field_manager: Some("patcher".into()),
        ..PatchParams::default()
    };
    let patched = api
        .patch("web", &params, &Patch::Strategic(patch))
        .await
        .unwrap();
    let patched = serde_json::to_value(patched).unwrap();
    let containers = &patched["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["name"], "a");
    assert_eq!(containers[0]["image"], "nginx:1.27", "container a is kept");
    assert_eq!(
        containers[1]["image"], "busybox:2",
        "container b is changed"
    );
    assert_eq!(patched["metadata"]["generation"], 2);

    let entries: Vec<&Value> = patched["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let patcher = entries
        .iter()
        .find(|e| e["manager"] == "patcher")
        .expect("an entry for the patching manager");
    assert_eq!(patcher["operation"], "Update");
    assert_eq!(
        patcher["fieldsV1"],
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"b\"}": {"f:image": {}}
        }}}}}),
        "the patcher owns only what it changed"
    );
    let creator = entries
        .iter()
        .find(|e| e["manager"] != "patcher")
        .expect("the creator's entry");
    let b = &creator["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"b\"}"];
    assert!(
        b.get("f:image").is_none(),
        "the creator no longer owns b's image: {b}"
    );
    assert!(b.get("f:name").is_some());
}
