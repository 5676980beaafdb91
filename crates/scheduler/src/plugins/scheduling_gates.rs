//! `SchedulingGates`: a pod with `spec.schedulingGates` is not scheduled
//! until every gate is removed; it waits outside the active queue and
//! comes back when an update takes its last gate away.

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::Pod;

use crate::framework::{
    ActionType, ClusterEventWithHint, EventResource, Handle, Plugin, PreEnqueue, QueueingHint,
    Status,
};

/// The plugin's name in configurations.
pub const NAME: &str = "SchedulingGates";

/// The plugin.
pub struct SchedulingGates;

impl Plugin for SchedulingGates {
    fn name(&self) -> &str {
        NAME
    }

    fn as_pre_enqueue(&self) -> Option<&dyn PreEnqueue> {
        Some(self)
    }

    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        Some(vec![ClusterEventWithHint::hinted(
            EventResource::UnscheduledPod,
            ActionType::UPDATE_POD_SCHEDULING_GATES_ELIMINATED,
            |pod, change| match change.pod() {
                Some(changed) if changed.metadata.uid == pod.metadata.uid => QueueingHint::Queue,
                _ => QueueingHint::Skip,
            },
        )])
    }
}

impl PreEnqueue for SchedulingGates {
    fn pre_enqueue(&self, pod: &Pod) -> Status {
        let gates = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduling_gates.as_deref())
            .unwrap_or_default();
        if gates.is_empty() {
            return Status::success();
        }
        let names: Vec<&str> = gates.iter().map(|g| g.name.as_str()).collect();
        Status::unresolvable(format!(
            "waiting for scheduling gates: [{}]",
            names.join(" ")
        ))
    }
}

/// Makes the plugin (it takes no arguments).
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(SchedulingGates))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;

    #[test]
    fn a_gated_pod_waits_naming_its_gates() {
        let pod = |gates: serde_json::Value| -> Pod {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "p"},
                "spec": {"containers": [], "schedulingGates": gates},
            }))
            .expect("a pod")
        };
        assert!(
            SchedulingGates
                .pre_enqueue(&pod(serde_json::json!([])))
                .is_success()
        );
        let status =
            SchedulingGates.pre_enqueue(&pod(serde_json::json!([{"name": "a"}, {"name": "b"}])));
        assert_eq!(status.code(), Code::UnschedulableAndUnresolvable);
        assert_eq!(status.message(), "waiting for scheduling gates: [a b]");
    }
}
