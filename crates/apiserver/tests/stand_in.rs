//! The stand-in nodes of controller tests: a pending pod is bound to one
//! of them and reported Running and Ready; a deleted one goes at once, as
//! after its grace period; a failed or completed one says so.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use keelson_apiserver::stand_in::StandIn;
use kube::api::{Api, DeleteParams, PostParams};

fn pod(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]}
    }))
    .expect("a pod")
}

/// Waits (at most 10 s) until `check` holds for the pod.
async fn until(pods: &Api<Pod>, name: &str, check: impl Fn(Option<&Pod>) -> bool) {
    for _ in 0..400 {
        let got = pods.get_opt(name).await.expect("a read");
        if check(got.as_ref()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "{name}: not as expected within 10 s: {:?}",
        pods.get_opt(name).await
    );
}

fn ready(pod: Option<&Pod>) -> bool {
    let status = pod.and_then(|p| p.status.as_ref());
    status.and_then(|s| s.phase.as_deref()) == Some("Running")
        && status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

#[tokio::test]
async fn stand_in_nodes_run_pods_to_their_end() {
    let server = support::embedded().await;
    let nodes = StandIn::start(server.client.clone(), &["n1", "n2"])
        .await
        .expect("the stand-in nodes start");
    let registered: Api<Node> = Api::all(server.client.clone());
    assert_eq!(
        registered
            .list(&Default::default())
            .await
            .expect("nodes")
            .items
            .len(),
        2
    );
    let pods: Api<Pod> = Api::namespaced(server.client.clone(), "default");
    for name in ["a", "b"] {
        pods.create(&PostParams::default(), &pod(name))
            .await
            .expect("a pod");
    }
    until(&pods, "a", ready).await;
    until(&pods, "b", ready).await;
    let a = pods.get("a").await.expect("a");
    let b = pods.get("b").await.expect("b");
    let node_of = |p: &Pod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default()
    };
    assert_ne!(node_of(&a), node_of(&b), "round robin over the nodes");

    // A graceful delete ends as the node agent's final delete ends it.
    pods.delete("a", &DeleteParams::default())
        .await
        .expect("a delete");
    until(&pods, "a", |p| p.is_none()).await;

    nodes.fail("default", "b").await.expect("b fails");
    until(&pods, "b", |p| {
        p.and_then(|p| p.status.as_ref())
            .and_then(|s| s.phase.as_deref())
            == Some("Failed")
    })
    .await;
    pods.create(&PostParams::default(), &pod("c"))
        .await
        .expect("c");
    until(&pods, "c", ready).await;
    nodes.complete("default", "c").await.expect("c completes");
    until(&pods, "c", |p| {
        p.and_then(|p| p.status.as_ref())
            .and_then(|s| s.phase.as_deref())
            == Some("Succeeded")
    })
    .await;
}
