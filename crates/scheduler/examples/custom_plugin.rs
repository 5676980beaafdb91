//! A plugin written in Rust, added to a scheduler profile: `Maintenance`
//! keeps pods off nodes labelled `example.com/maintenance=true` (Filter,
//! with a reason `kubectl describe pod` shows) and prefers nodes labelled
//! `example.com/tier=fast` (Score). A node's labels changing moves the
//! pods it rejected back to the queue.
//!
//! The profile `maintenance-aware` runs the default plugins and this one;
//! pods with `schedulerName: maintenance-aware` are placed by it.
//!
//! ```sh
//! KUBECONFIG=~/.local/share/keelson/kubeconfig \
//!   cargo run -p keelson-scheduler --example custom_plugin
//! ```

use std::sync::Arc;

use keelson_scheduler::config::SchedulerConfiguration;
use keelson_scheduler::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, Filter, Handle, NodeInfo, Plugin,
    PodInfo, Registry, Score, Status,
};
use kube::Client;

pub const NAME: &str = "Maintenance";

/// The plugin: no state of its own.
pub struct Maintenance;

impl Plugin for Maintenance {
    fn name(&self) -> &str {
        NAME
    }
    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
    fn as_score(&self) -> Option<&dyn Score> {
        Some(self)
    }
    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        let changes = ActionType::ADD | ActionType::UPDATE_NODE_LABEL;
        Some(vec![ClusterEventWithHint::always(
            EventResource::Node,
            changes,
        )])
    }
}

impl Filter for Maintenance {
    fn filter(&self, _: &CycleState, _: &PodInfo, node: &NodeInfo) -> Status {
        match node
            .labels()
            .get("example.com/maintenance")
            .map(String::as_str)
        {
            Some("true") => Status::unresolvable("node(s) were under maintenance"),
            _ => Status::success(),
        }
    }
}

impl Score for Maintenance {
    fn score(&self, _: &CycleState, _: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let fast = node.labels().get("example.com/tier").map(String::as_str) == Some("fast");
        Ok(if fast { 100 } else { 0 })
    }
}

/// The profile: the default plugins, and this one weighing 5.
pub const CONFIG: &str = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: maintenance-aware
  plugins:
    multiPoint:
      enabled:
      - name: Maintenance
        weight: 5
"#;

/// Schedules the profile's pods until `shutdown`.
pub async fn run(client: Client, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let config = SchedulerConfiguration::from_yaml(CONFIG)?;
    let mut registry = Registry::new();
    registry.insert(
        NAME.to_string(),
        Arc::new(|_args: Option<&serde_json::Value>, _handle: &Handle| {
            Ok(Arc::new(Maintenance) as Arc<dyn Plugin>)
        }),
    );
    keelson_scheduler::scheduler::run(client, &config, registry, shutdown).await?;
    Ok(())
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let client = Client::try_default().await?;
    run(client, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
