//! The custom plugin example against the API server in-process: its
//! profile keeps pods off nodes under maintenance, prefers fast ones, and
//! tries a rejected pod again when a node's labels change.

#[path = "../examples/custom_plugin.rs"]
mod example;
mod support;

use keelson_api::k8s_openapi::api::core::v1::Node;
use keelson_apiserver::testing;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_plugin_keeps_pods_off_nodes_under_maintenance() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    let labels = |labels: serde_json::Value| json!({"metadata": {"labels": labels}});
    node(
        &client,
        "closed",
        "4",
        labels(json!({"example.com/maintenance": "true", "example.com/tier": "fast"})),
    )
    .await;
    node(
        &client,
        "fast",
        "4",
        labels(json!({"example.com/tier": "fast"})),
    )
    .await;
    node(&client, "slow", "4", json!({})).await;
    let scheduler = Running(tokio::spawn(async move {
        example::run(client, std::future::pending())
            .await
            .expect("the example runs");
    }));
    let client = server.client.clone();
    let profile = json!({"spec": {"schedulerName": "maintenance-aware"}});
    pod(&client, "first", "1", profile.clone()).await;
    assert_eq!(bound(&client, "first").await, "fast");

    let nodes: Api<Node> = Api::all(client.clone());
    let close = json!({"metadata": {"labels": {"example.com/maintenance": "true"}}});
    for name in ["fast", "slow"] {
        nodes
            .patch(name, &PatchParams::default(), &Patch::Merge(&close))
            .await
            .expect("labelled");
    }
    // The scheduler's node watch sees the labels before the next pod.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    pod(&client, "second", "1", profile).await;
    let message = event(&client, "second", "FailedScheduling").await;
    assert!(
        message.starts_with("0/3 nodes are available: 3 node(s) were under maintenance."),
        "{message}"
    );
    let open = json!({"metadata": {"labels": {"example.com/maintenance": null}}});
    nodes
        .patch("slow", &PatchParams::default(), &Patch::Merge(&open))
        .await
        .expect("unlabelled");
    assert_eq!(bound(&client, "second").await, "slow");
    drop(scheduler);
}
