//! The controllers across an API server restart: `keelson up
//! --controllers=` and a `keelson controller-manager` as processes of
//! their own, stand-in nodes in the test running the pods. A Deployment
//! rolls out; the API server is restarted under the manager; its watches
//! resume: nothing is created twice, and the next change is acted on.
//! Every process is killed when the test ends, also when it fails.

use std::time::{Duration, Instant};

use keelson_api::k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_apiserver::stand_in::StandIn;
use keelson_harness::keelson::KeelsonProcess;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;

async fn client(kubeconfig: &std::path::Path) -> Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(kubeconfig).expect("the kubeconfig");
    let options = kube::config::KubeConfigOptions::default();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("a client configuration");
    Client::try_from(config).expect("a client")
}

/// The live pods of `app=web` (not being deleted), once `check` holds of
/// them and the ReplicaSets (at most 20 s; requests failing meanwhile, as
/// while the server restarts, are tried again).
async fn until(
    client: &Client,
    what: &str,
    check: impl Fn(&[Pod], &[ReplicaSet]) -> bool,
) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let start = Instant::now();
    loop {
        let listed = pods.list(&ListParams::default().labels("app=web")).await;
        let owned = sets.list(&ListParams::default()).await;
        if let (Ok(listed), Ok(owned)) = (listed, owned) {
            let live: Vec<Pod> = listed
                .items
                .into_iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .collect();
            if check(&live, &owned.items) {
                return live;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: not within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_api_server_restart_the_watches_resume_and_nothing_is_made_twice() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let mut up = KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "up")
        .data_dir(root.path().join("up"))
        .arg("--controllers=")
        .start()
        .await
        .unwrap_or_else(|err| panic!("keelson up did not start: {err}"));
    let kubeconfig = up.kubeconfig();
    let _manager = KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "controller-manager")
        .data_dir(root.path().join("manager"))
        .writes_kubeconfig(false)
        .probes_plain_http(true)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--leader-elect=false")
        .start()
        .await
        .unwrap_or_else(|err| panic!("keelson controller-manager did not start: {err}"));
    let client = client(&kubeconfig).await;
    let _nodes = StandIn::start(client.clone(), &["n1"])
        .await
        .expect("stand-in nodes");
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "app:1"}]}}
        }
    }))
    .expect("a Deployment");
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .expect("created");
    let before = until(&client, "three pods", |pods, sets| {
        pods.len() == 3 && sets.len() == 1
    })
    .await;

    up.restart()
        .await
        .unwrap_or_else(|err| panic!("keelson up did not restart: {err}"));
    // The manager relists after its watches broke: the same pods, no more.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = until(&client, "the same three pods", |pods, sets| {
        pods.len() == 3 && sets.len() == 1
    })
    .await;
    let names = |pods: &[Pod]| {
        let mut names: Vec<String> = pods.iter().map(|p| p.name_any()).collect();
        names.sort();
        names
    };
    assert_eq!(
        names(&before),
        names(&after),
        "nothing made or deleted by the restart"
    );

    // And it still acts.
    let scale = json!({"spec": {"replicas": 4}});
    deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(&scale))
        .await
        .expect("scaled");
    until(&client, "four pods", |pods, sets| {
        pods.len() == 4 && sets.len() == 1
    })
    .await;
}
