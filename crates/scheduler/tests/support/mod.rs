//! What the scheduler's tests share: a scheduler running in-process,
//! Node objects with allocatable resources (there is no node agent), pods,
//! and waiting for what the scheduler writes.

#![allow(dead_code)]

use std::time::Duration;

use keelson_api::k8s_openapi::api::core::v1::{Event, Node, Pod};
use keelson_scheduler::config::SchedulerConfiguration;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

/// A scheduler running against `client` until dropped.
pub struct Running(pub tokio::task::JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub fn start(client: &Client, config: &str) -> Running {
    let config = SchedulerConfiguration::from_yaml(config).expect("a valid configuration");
    let client = client.clone();
    Running(tokio::spawn(async move {
        let registry = keelson_scheduler::plugins::in_tree();
        let scheduler = keelson_scheduler::scheduler::Scheduler::new(client, &config, &registry)
            .expect("the scheduler starts");
        scheduler
            .run(std::future::pending())
            .await
            .expect("it runs");
    }))
}

/// Registers a Ready node with `cpu` and room for 110 pods.
pub async fn node(client: &Client, name: &str, cpu: &str, extra: Value) {
    let api: Api<Node> = Api::all(client.clone());
    let mut node = json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
    });
    merge(&mut node, &extra);
    let node: Node = serde_json::from_value(node).expect("a node");
    api.create(&PostParams::default(), &node)
        .await
        .expect("the node is made");
    let status = json!({"status": {
        "capacity": {"cpu": cpu, "memory": "16Gi", "pods": "110"},
        "allocatable": {"cpu": cpu, "memory": "16Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("the node's status is written");
}

pub fn merge(into: &mut Value, extra: &Value) {
    match (into, extra) {
        (Value::Object(into), Value::Object(extra)) => {
            for (key, value) in extra {
                merge(into.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (into, extra) => *into = extra.clone(),
    }
}

/// Creates a pod requesting `cpu`, with `extra` merged into it.
pub async fn pod(client: &Client, name: &str, cpu: &str, extra: Value) {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let mut pod = json!({
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "web",
            "resources": {"requests": {"cpu": cpu, "memory": "10Mi"}}}]},
    });
    merge(&mut pod, &extra);
    let pod: Pod = serde_json::from_value(pod).expect("a pod");
    api.create(&PostParams::default(), &pod)
        .await
        .expect("the pod is made");
}

pub async fn get(client: &Client, name: &str) -> Option<Pod> {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    api.get_opt(name).await.expect("the pod is read")
}

pub fn node_of(pod: &Pod) -> Option<String> {
    pod.spec.as_ref().and_then(|s| s.node_name.clone())
}

/// Waits (at most 20 s) until `check` gives a value.
pub async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn bound(client: &Client, name: &str) -> String {
    eventually(&format!("{name} to be bound"), || async {
        get(client, name).await.as_ref().and_then(node_of)
    })
    .await
}

/// The message of the `reason` event about pod `name`.
pub async fn event(client: &Client, name: &str, reason: &str) -> String {
    let api: Api<Event> = Api::namespaced(client.clone(), "default");
    eventually(&format!("a {reason} event on {name}"), || async {
        let params = ListParams::default().fields(&format!("involvedObject.name={name}"));
        let events = api.list(&params).await.expect("events are listed");
        events
            .items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some(reason))
            .and_then(|e| e.message)
    })
    .await
}
