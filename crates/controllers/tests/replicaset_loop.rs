//! The ReplicaSet controller's loop against the API server in-process,
//! with stand-in nodes running the pods: a ReplicaSet gets its pods, Ready
//! and available in its status, scales down to fewer (the stand-in nodes
//! finish the graceful deletions), and a pod deleted behind its back is
//! replaced.

use std::time::Duration;

use keelson_api::k8s_openapi::api::apps::v1::ReplicaSet;
use keelson_api::k8s_openapi::api::core::v1::{Pod, ReplicationController};
use keelson_apiserver::stand_in::StandIn;
use keelson_apiserver::testing;
use keelson_controllers::manager::ControllerManager;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};

fn replica_set(replicas: i32) -> ReplicaSet {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "app:1"}]}}
        }
    }))
    .expect("a ReplicaSet")
}

/// Waits (at most 15 s) until `check` holds of the ReplicaSet and its
/// active pods.
async fn until(
    sets: &Api<ReplicaSet>,
    pods: &Api<Pod>,
    what: &str,
    check: impl Fn(&ReplicaSet, &[Pod]) -> bool,
) {
    for _ in 0..300 {
        let rs = sets.get("web").await.expect("the ReplicaSet");
        let live: Vec<Pod> = pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .expect("pods")
            .items
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        if check(&rs, &live) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rs = sets.get("web").await.expect("the ReplicaSet");
    panic!("{what}: not within 15 s: {:?}", rs.status);
}

fn counts(rs: &ReplicaSet) -> (i32, i32, i32) {
    let status = rs.status.clone().unwrap_or_default();
    (
        status.replicas,
        status.ready_replicas.unwrap_or(0),
        status.available_replicas.unwrap_or(0),
    )
}

#[tokio::test]
async fn a_replica_set_keeps_its_pods() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    let _nodes = StandIn::start(client.clone(), &["n1", "n2"])
        .await
        .expect("stand-in nodes");
    let controller = tokio::spawn(
        ControllerManager::new(client.clone())
            .controllers(|name| name == "replicaset-controller")
            .run(),
    );
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    sets.create(&PostParams::default(), &replica_set(3))
        .await
        .expect("created");
    until(
        &sets,
        &pods,
        "three pods, ready and available",
        |rs, live| live.len() == 3 && counts(rs) == (3, 3, 3),
    )
    .await;
    let owned = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("pods");
    for pod in &owned.items {
        let owner = pod.owner_references().first().cloned().expect("an owner");
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.controller),
            ("ReplicaSet", "web", Some(true))
        );
        assert!(pod.name_any().starts_with("web-"), "{}", pod.name_any());
    }

    // Scaled down: two go, one stays.
    let scale = serde_json::json!({"spec": {"replicas": 1}});
    sets.patch("web", &PatchParams::default(), &Patch::Merge(&scale))
        .await
        .expect("scaled");
    until(&sets, &pods, "one pod", |rs, live| {
        live.len() == 1 && counts(rs) == (1, 1, 1)
    })
    .await;

    // A pod deleted behind its back is replaced.
    let left = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("pods")
        .items;
    let gone = left
        .iter()
        .find(|p| p.metadata.deletion_timestamp.is_none())
        .expect("one pod")
        .name_any();
    pods.delete(&gone, &DeleteParams::default())
        .await
        .expect("deleted");
    until(&sets, &pods, "a replacement", |_, live| {
        live.len() == 1 && live[0].name_any() != gone
    })
    .await;

    // Its events, in upstream's words.
    let events: Api<keelson_api::k8s_openapi::api::core::v1::Event> =
        Api::namespaced(client, "default");
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    assert!(
        reasons.iter().any(|r| r == "SuccessfulCreate"),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r == "SuccessfulDelete"),
        "{reasons:?}"
    );
    controller.abort();
}

#[tokio::test]
async fn a_replication_controller_runs_on_the_same_code() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    let _nodes = StandIn::start(client.clone(), &["n1"])
        .await
        .expect("stand-in nodes");
    let controller = tokio::spawn(
        ControllerManager::new(client.clone())
            .controllers(|name| name == "replicationcontroller-controller")
            .run(),
    );
    let controllers: Api<ReplicationController> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let rc: ReplicationController = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "old"},
        "spec": {
            "replicas": 2,
            "selector": {"app": "old"},
            "template": {"metadata": {"labels": {"app": "old"}},
                "spec": {"containers": [{"name": "app", "image": "app:1"}]}}
        }
    }))
    .expect("a ReplicationController");
    controllers
        .create(&PostParams::default(), &rc)
        .await
        .expect("created");
    for _ in 0..300 {
        let rc = controllers.get("old").await.expect("the controller");
        let status = rc.status.unwrap_or_default();
        if status.replicas == 2 && status.available_replicas == Some(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let owned = pods
        .list(&ListParams::default().labels("app=old"))
        .await
        .expect("pods")
        .items;
    assert_eq!(owned.len(), 2, "two pods");
    for pod in &owned {
        let owner = pod.owner_references().first().cloned().expect("an owner");
        assert_eq!(
            (
                owner.api_version.as_str(),
                owner.kind.as_str(),
                owner.name.as_str()
            ),
            ("v1", "ReplicationController", "old")
        );
    }
    let status = controllers
        .get("old")
        .await
        .expect("rc")
        .status
        .unwrap_or_default();
    assert_eq!(
        (
            status.replicas,
            status.ready_replicas,
            status.available_replicas
        ),
        (2, Some(2), Some(2))
    );
    controller.abort();
}

#[tokio::test]
async fn a_refused_create_is_told_in_an_event_and_a_condition_and_others_go_on() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    let _nodes = StandIn::start(client.clone(), &["n1"])
        .await
        .expect("stand-in nodes");
    let controller = tokio::spawn(
        ControllerManager::new(client.clone())
            .controllers(|name| name == "replicaset-controller")
            .run(),
    );
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    // Its pods name a ServiceAccount that does not exist: admission
    // refuses every create.
    let refused: ReplicaSet = serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "robots"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "robots"}},
            "template": {"metadata": {"labels": {"app": "robots"}},
                "spec": {"serviceAccountName": "missing",
                    "containers": [{"name": "app", "image": "app:1"}]}}
        }
    }))
    .expect("a ReplicaSet");
    sets.create(&PostParams::default(), &refused)
        .await
        .expect("created");
    sets.create(&PostParams::default(), &replica_set(1))
        .await
        .expect("created");
    // The other ReplicaSet is not held up.
    until(&sets, &pods, "web's pod", |rs, live| {
        live.len() == 1 && counts(rs) == (1, 1, 1)
    })
    .await;
    let mut condition = None;
    for _ in 0..200 {
        let rs = sets.get("robots").await.expect("robots");
        condition = rs
            .status
            .and_then(|s| s.conditions)
            .and_then(|c| c.into_iter().find(|c| c.type_ == "ReplicaFailure"));
        if condition.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let condition = condition.expect("a ReplicaFailure condition");
    let message = condition.message.clone().unwrap_or_default();
    assert_eq!(
        (condition.status.as_str(), condition.reason.as_deref()),
        ("True", Some("FailedCreate"))
    );
    assert!(
        message.contains("error looking up service account default/missing"),
        "{message}"
    );
    let events: Api<keelson_api::k8s_openapi::api::core::v1::Event> =
        Api::namespaced(client, "default");
    let failed: Vec<String> = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("FailedCreate"))
        .filter(|e| e.involved_object.name.as_deref() == Some("robots"))
        .filter_map(|e| e.message)
        .collect();
    assert!(
        failed.iter().any(|m| m.starts_with("Error creating: pods \"robots-\" is forbidden: error looking up service account default/missing")),
        "{failed:?}"
    );
    controller.abort();
}
