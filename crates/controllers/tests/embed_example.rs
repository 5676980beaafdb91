//! The embedding example, run against the API server in-process with
//! stand-in nodes: it installs its CRD, and a `Website` becomes a
//! Deployment it owns, whose pods the built-in controllers make.

#[path = "../examples/embed.rs"]
mod embed;

use std::time::Duration;

use embed::{Website, WebsiteSpec};
use keelson_api::k8s_openapi::api::apps::v1::Deployment;
use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_apiserver::stand_in::StandIn;
use keelson_apiserver::testing;
use kube::api::{Api, ListParams, PostParams};

#[tokio::test]
async fn the_example_operator_makes_a_deployment_of_each_website() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    let _nodes = StandIn::start(client.clone(), &["n1"])
        .await
        .expect("stand-in nodes");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(embed::run(client.clone(), async {
        let _ = stopped.await;
    }));
    let websites: Api<Website> = Api::namespaced(client.clone(), "default");
    let site = Website::new(
        "blog",
        WebsiteSpec {
            image: "blog:1".into(),
            replicas: 2,
        },
    );
    // The kind is served once the example has installed its CRD.
    let mut made = None;
    for _ in 0..200 {
        if let Ok(site) = websites.create(&PostParams::default(), &site).await {
            made = Some(site);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let made = made.expect("the Website kind was served within 10 s");
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let mut ready = 0;
    for _ in 0..300 {
        ready = pods
            .list(&ListParams::default().labels("app.kubernetes.io/name=blog"))
            .await
            .expect("pods")
            .items
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count();
        if ready == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready, 2, "the Website's two pods run");
    let deployment = deployments.get("blog").await.expect("the Deployment");
    let owner = &deployment.metadata.owner_references.expect("an owner")[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("Website", made.metadata.uid.as_deref().unwrap_or(""))
    );
    // A clean shutdown.
    let _ = stop.send(());
    let ended = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the manager stopped within 10 s")
        .expect("the manager's task");
    ended.expect("the manager ended without error");
}
