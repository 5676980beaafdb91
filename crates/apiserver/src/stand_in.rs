//! A stand-in for nodes, for tests of what runs above them (controllers)
//! before a scheduler and a node agent exist: test support only, not
//! product. It registers Ready Node objects, binds each pending pod to one
//! of them (round robin, through the `binding` subresource, as a scheduler
//! does), reports bound pods Running and Ready (as a node agent's status
//! updates do), can fail or complete a pod, and finishes graceful
//! deletions with the final delete of grace 0, as a node agent does once
//! a pod's containers have stopped.
//!
//! A pod whose containers all have images ending in `:unready` runs but
//! never becomes Ready (a rollout that cannot progress).
//!
//! It is an API client (kube-rs), so the server's admission, validation and
//! watch semantics apply to what it writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

/// The manager its writes are recorded under.
const MANAGER: &str = "keelson-stand-in-node";

/// Nodes standing in for node agents; they stop when this is dropped.
pub struct StandIn {
    client: Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The Node object of a stand-in node: Ready, with room for many pods.
fn node(name: &str) -> Node {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "capacity": {"cpu": "64", "memory": "256Gi", "pods": "10000"},
            "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "10000"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "stand-in node is posting ready status"}]
        }
    }))
    .expect("a Node reads as one")
}

impl StandIn {
    /// Registers `nodes` (creating their Node objects if missing) and
    /// starts running the cluster's pods on them.
    pub async fn start(client: Client, nodes: &[&str]) -> Result<StandIn, kube::Error> {
        let api: Api<Node> = Api::all(client.clone());
        for name in nodes {
            match api.create(&PostParams::default(), &node(name)).await {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 409 => {}
                Err(err) => return Err(err),
            }
            let status = json!({"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name}, "status": node(name).status});
            api.patch_status(
                name,
                &PatchParams::apply(MANAGER).force(),
                &Patch::Apply(&status),
            )
            .await?;
        }
        let names: Arc<Vec<String>> = Arc::new(nodes.iter().map(|n| n.to_string()).collect());
        let task = tokio::spawn(run(client.clone(), names));
        Ok(StandIn { client, task })
    }

    /// Marks the pod `namespace/name` Failed, as if its containers exited
    /// with an error.
    pub async fn fail(&self, namespace: &str, name: &str) -> Result<(), kube::Error> {
        self.finish(namespace, name, "Failed", 1).await
    }

    /// Marks the pod `namespace/name` Succeeded, as if its containers
    /// exited with 0.
    pub async fn complete(&self, namespace: &str, name: &str) -> Result<(), kube::Error> {
        self.finish(namespace, name, "Succeeded", 0).await
    }

    async fn finish(
        &self,
        namespace: &str,
        name: &str,
        phase: &str,
        exit_code: i32,
    ) -> Result<(), kube::Error> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let pod = pods.get(name).await?;
        let now = crate::meta::now_timestamp();
        let reason = if exit_code == 0 { "Completed" } else { "Error" };
        let stopped = json!({"terminated": {"exitCode": exit_code, "reason": reason,
            "startedAt": now, "finishedAt": now}});
        let containers = container_statuses(&pod, false, &stopped);
        let status = json!({"status": {
            "phase": phase,
            "conditions": conditions("False", &now),
            "containerStatuses": containers,
        }});
        pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await?;
        Ok(())
    }
}

/// The statuses of a pod's containers, all in `state` (running, or
/// terminated), ready and started while they run.
fn container_statuses(pod: &Pod, running: bool, state: &Value) -> Vec<Value> {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .map(|c| {
            json!({"name": c.name, "image": c.image, "imageID": "", "ready": running,
                "restartCount": 0, "started": running, "state": state})
        })
        .collect()
}

/// Whether every container's image ends in `:unready`.
fn never_ready(pod: &Pod) -> bool {
    let containers = pod.spec.iter().flat_map(|s| s.containers.iter());
    let mut images = containers.map(|c| c.image.as_deref().unwrap_or(""));
    images.all(|image| image.ends_with(":unready"))
}

/// The conditions of a pod that runs (`"True"`) or has stopped.
fn conditions(ready: &str, now: &str) -> Value {
    json!([
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
        {"type": "Initialized", "status": "True", "lastTransitionTime": now},
        {"type": "ContainersReady", "status": ready, "lastTransitionTime": now},
        {"type": "Ready", "status": ready, "lastTransitionTime": now},
    ])
}

/// Follows every pod: binds the pending ones, starts the bound ones and
/// ends the deleted ones. One failed write never stops it.
async fn run(client: Client, nodes: Arc<Vec<String>>) {
    let all: Api<Pod> = Api::all(client.clone());
    let next = AtomicUsize::new(0);
    let pods = watcher(all, watcher::Config::default()).filter_map(|event| async move {
        match event {
            Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => Some(pod),
            Ok(_) => None,
            Err(err) => {
                tracing::debug!(error = %err, "stand-in nodes: the pod watch failed; it resumes");
                None
            }
        }
    });
    // Many pods at once, as many node agents would; each step is
    // idempotent, so two changes of one pod taken together do no harm.
    pods.for_each_concurrent(CONCURRENCY, |pod| {
        let (client, nodes, next) = (&client, &nodes, &next);
        async move {
            if let Err(err) = step(client, nodes, next, &pod).await {
                tracing::debug!(pod = pod.name_any(), error = %err, "stand-in nodes: a write failed");
            }
        }
    })
    .await;
}

/// How many pods the stand-in nodes take forward at once.
const CONCURRENCY: usize = 32;

/// What a scheduler and a node agent would do next for `pod`.
async fn step(
    client: &Client,
    nodes: &[String],
    next: &AtomicUsize,
    pod: &Pod,
) -> Result<(), kube::Error> {
    let namespace = pod.namespace().unwrap_or_default();
    let name = pod.name_any();
    let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    if pod.metadata.deletion_timestamp.is_some() {
        // Bound to one of ours (or never bound): its containers are
        // "stopped"; the final delete removes it.
        if node.as_ref().is_none_or(|n| nodes.contains(n)) {
            let params = DeleteParams {
                grace_period_seconds: Some(0),
                ..DeleteParams::default()
            };
            match api.delete(&name, &params).await {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(err) => return Err(err),
            }
        }
        return Ok(());
    }
    let Some(node) = node else {
        let target = &nodes[next.fetch_add(1, Ordering::Relaxed) % nodes.len()];
        let binding = json!({"apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": name}, "target": {"apiVersion": "v1", "kind": "Node", "name": target}});
        let request = kube::core::Request::new(format!("/api/v1/namespaces/{namespace}/pods"));
        let request = request
            .create_subresource(
                "binding",
                &name,
                &PostParams::default(),
                serde_json::to_vec(&binding).unwrap_or_default(),
            )
            .map_err(kube::Error::BuildRequest)?;
        match client.request::<Value>(request).await {
            Ok(_) => {}
            // Bound meanwhile, or gone.
            Err(kube::Error::Api(status)) if matches!(status.code, 404 | 409) => {}
            Err(err) => return Err(err),
        }
        return Ok(());
    };
    if !nodes.contains(&node) {
        return Ok(());
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if phase != Some("Pending") && phase.is_some() {
        return Ok(());
    }
    let now = crate::meta::now_timestamp();
    let ready = !never_ready(pod);
    let mut containers = container_statuses(pod, true, &json!({"running": {"startedAt": now}}));
    for container in &mut containers {
        container["ready"] = json!(ready);
    }
    let status = json!({"status": {
        "phase": "Running",
        "hostIP": "127.0.0.1",
        "podIP": "127.0.0.1",
        "startTime": now,
        "conditions": conditions(if ready { "True" } else { "False" }, &now),
        "containerStatuses": containers,
    }});
    match api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(err) => Err(err),
    }
}
