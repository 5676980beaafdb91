//! The Deployment controller with the ReplicaSet controller, against the
//! API server in-process with stand-in nodes running the pods: a
//! Deployment becomes Available, rolls out a new template to completion,
//! scales, pauses and resumes, prunes old revisions, recreates, and tells
//! a rollout that cannot progress by its deadline.

use std::time::Duration;

use keelson_api::k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_apiserver::stand_in::StandIn;
use keelson_apiserver::testing;
use keelson_controllers::manager::ControllerManager;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;

fn deployment(name: &str, replicas: i32, image: &str, extra: serde_json::Value) -> Deployment {
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]}}
        }
    });
    if let (Some(spec), Some(more)) = (d["spec"].as_object_mut(), extra.as_object()) {
        spec.extend(more.clone());
    }
    serde_json::from_value(d).expect("a Deployment")
}

struct Cluster {
    client: Client,
    deployments: Api<Deployment>,
    sets: Api<ReplicaSet>,
    _nodes: StandIn,
    controllers: tokio::task::JoinHandle<anyhow::Result<()>>,
    _server: testing::Server,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.controllers.abort();
    }
}

async fn cluster() -> Cluster {
    let server = testing::embedded().await;
    let client = server.client.clone();
    let nodes = StandIn::start(client.clone(), &["n1", "n2"])
        .await
        .expect("stand-in nodes");
    let controllers = tokio::spawn(
        ControllerManager::new(client.clone())
            .controllers(|name| matches!(name, "replicaset-controller" | "deployment-controller"))
            .run(),
    );
    Cluster {
        deployments: Api::namespaced(client.clone(), "default"),
        sets: Api::namespaced(client.clone(), "default"),
        client,
        _nodes: nodes,
        controllers,
        _server: server,
    }
}

impl Cluster {
    /// Waits (at most 20 s) until `check` holds of the Deployment and its
    /// ReplicaSets.
    async fn until(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&Deployment, &[ReplicaSet]) -> bool,
    ) {
        for _ in 0..400 {
            let d = self.deployments.get(name).await.expect("the Deployment");
            let sets = self.owned(&d).await;
            if check(&d, &sets) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let d = self.deployments.get(name).await.expect("the Deployment");
        let sets: Vec<_> = self
            .owned(&d)
            .await
            .iter()
            .map(|rs| (rs.name_any(), rs.spec.as_ref().and_then(|s| s.replicas)))
            .collect();
        panic!("{what}: not within 20 s: {:?} {sets:?}", d.status);
    }

    async fn owned(&self, d: &Deployment) -> Vec<ReplicaSet> {
        let mut sets: Vec<ReplicaSet> = self
            .sets
            .list(&ListParams::default())
            .await
            .expect("replica sets")
            .items
            .into_iter()
            .filter(|rs| {
                rs.owner_references()
                    .iter()
                    .any(|o| Some(&o.uid) == d.metadata.uid.as_ref())
            })
            .collect();
        sets.sort_by_key(revision);
        sets
    }

    async fn patch(&self, name: &str, patch: serde_json::Value) {
        self.deployments
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patched");
    }
}

fn revision(rs: &ReplicaSet) -> i64 {
    rs.annotations()
        .get("deployment.kubernetes.io/revision")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

/// Whether the rollout is complete: the status counts as `kubectl rollout
/// status` reads them, for the latest generation.
fn complete(d: &Deployment, want: i32) -> bool {
    let status = d.status.clone().unwrap_or_default();
    status.observed_generation == d.metadata.generation
        && status.updated_replicas == Some(want)
        && status.replicas == Some(want)
        && status.available_replicas == Some(want)
}

fn condition(d: &Deployment, type_: &str) -> Option<(String, String)> {
    let status = d.status.as_ref()?;
    let found = status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)?;
    Some((
        found.status.clone(),
        found.reason.clone().unwrap_or_default(),
    ))
}

#[tokio::test]
async fn a_deployment_rolls_out_scales_pauses_and_prunes_its_history() {
    let cluster = cluster().await;
    let d = deployment("web", 3, "app:1", json!({"revisionHistoryLimit": 1}));
    cluster
        .deployments
        .create(&PostParams::default(), &d)
        .await
        .expect("created");
    cluster
        .until("web", "available", |d, sets| {
            complete(d, 3) && sets.len() == 1
        })
        .await;
    let d = cluster.deployments.get("web").await.expect("web");
    assert_eq!(
        condition(&d, "Available"),
        Some(("True".into(), "MinimumReplicasAvailable".into()))
    );
    assert_eq!(
        condition(&d, "Progressing"),
        Some(("True".into(), "NewReplicaSetAvailable".into()))
    );
    assert_eq!(
        d.annotations()
            .get("deployment.kubernetes.io/revision")
            .map(String::as_str),
        Some("1")
    );
    let first = cluster.owned(&d).await.remove(0);
    let hash = first
        .labels()
        .get("pod-template-hash")
        .cloned()
        .expect("a hash label");
    assert_eq!(first.name_any(), format!("web-{hash}"));

    // A new template rolls out: the new ReplicaSet gets every replica,
    // the old one none.
    cluster
        .patch("web", json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}))
        .await;
    cluster
        .until("web", "rolled out", |d, sets| {
            complete(d, 3)
                && sets.len() == 2
                && replicas(&sets[0]) == 0
                && replicas(&sets[1]) == 3
                && revision(&sets[1]) == 2
        })
        .await;

    // Scaled: the new ReplicaSet follows.
    cluster.patch("web", json!({"spec": {"replicas": 5}})).await;
    cluster
        .until("web", "scaled to 5", |d, sets| {
            complete(d, 5) && sets.iter().map(replicas).sum::<i32>() == 5
        })
        .await;

    // Paused: a new template makes no ReplicaSet until resumed.
    cluster
        .patch("web", json!({"spec": {"paused": true}}))
        .await;
    cluster
        .until("web", "paused", |d, _| {
            condition(d, "Progressing").is_some_and(|(_, reason)| reason == "DeploymentPaused")
        })
        .await;
    cluster
        .patch("web", json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:3"}]}}}}))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let d = cluster.deployments.get("web").await.expect("web");
    let sets = cluster.owned(&d).await;
    // No new ReplicaSet while paused (the history limit may prune, as
    // upstream's paused sync does).
    assert!(
        sets.iter().all(|rs| revision(rs) <= 2),
        "no revision 3 while paused"
    );
    assert_eq!(sets.iter().map(replicas).sum::<i32>(), 5);
    cluster
        .patch("web", json!({"spec": {"paused": false}}))
        .await;
    // Resumed: revision 3 rolls out, and with a history limit of 1 only
    // one old ReplicaSet is kept.
    cluster
        .until("web", "resumed and rolled out", |d, sets| {
            complete(d, 5) && sets.len() == 2 && revision(&sets[1]) == 3 && replicas(&sets[1]) == 5
        })
        .await;

    // Its events, in upstream's words.
    let events: Api<keelson_api::k8s_openapi::api::core::v1::Event> =
        Api::namespaced(cluster.client.clone(), "default");
    let messages: Vec<String> = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("ScalingReplicaSet"))
        .filter_map(|e| e.message)
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m == &format!("Scaled up replica set web-{hash} from 0 to 3")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with(&format!("Scaled down replica set web-{hash} from 3 to"))),
        "{messages:?}"
    );
}

#[tokio::test]
async fn a_recreate_deployment_and_a_rollout_past_its_deadline() {
    let cluster = cluster().await;
    let recreate = deployment("db", 2, "db:1", json!({"strategy": {"type": "Recreate"}}));
    cluster
        .deployments
        .create(&PostParams::default(), &recreate)
        .await
        .expect("created");
    cluster
        .until("db", "available", |d, _| complete(d, 2))
        .await;
    cluster
        .patch("db", json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "db:2"}]}}}}))
        .await;
    cluster
        .until("db", "recreated", |d, sets| {
            complete(d, 2) && sets.len() == 2 && replicas(&sets[0]) == 0
        })
        .await;
    // Never more pods than replicas at once, old and new: the old ones
    // were gone before the new ones came.
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    let live = pods
        .list(&ListParams::default().labels("app=db"))
        .await
        .expect("pods");
    assert_eq!(live.items.len(), 2);

    // Pods that never become Ready: the rollout stops progressing, and
    // after its deadline says so.
    let stuck = deployment(
        "stuck",
        1,
        "app:unready",
        json!({"progressDeadlineSeconds": 1}),
    );
    cluster
        .deployments
        .create(&PostParams::default(), &stuck)
        .await
        .expect("created");
    cluster
        .until("stuck", "past its deadline", |d, _| {
            condition(d, "Progressing") == Some(("False".into(), "ProgressDeadlineExceeded".into()))
        })
        .await;
    let d = cluster.deployments.get("stuck").await.expect("stuck");
    assert_eq!(
        condition(&d, "Available"),
        Some(("False".into(), "MinimumReplicasUnavailable".into()))
    );
}
