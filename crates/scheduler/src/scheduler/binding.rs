//! A placed pod's binding cycle, on a task of its own: wait for Permit,
//! PreBind, Bind, PostBind. A failure undoes the reservation and forgets
//! the assumed pod, and the pod goes back to the queue (or is dropped if
//! it was deleted or bound meanwhile).

use std::sync::Arc;

use keelson_client::events::{Event, EventType};

use super::Scheduler;
use super::failure::Failure;
use crate::framework::runtime::Framework;
use crate::framework::{CycleState, PodInfo, QueuedPodInfo, Status};

impl Scheduler {
    pub(super) fn spawn_binding(
        self: &Arc<Self>,
        framework: Arc<Framework>,
        state: CycleState,
        queued: QueuedPodInfo,
        assumed: Arc<PodInfo>,
        node: String,
        cycle: u64,
    ) {
        let this = self.clone();
        tokio::spawn(async move {
            let Ok(_slot) = this.binding_slots.clone().acquire_owned().await else {
                return;
            };
            let mut state = state;
            let status = bind(&framework, &state, &assumed, &node).await;
            if status.is_success() {
                framework.run_post_bind(&state, &assumed, &node);
                this.queue.done(assumed.uid());
                let message = format!(
                    "Successfully assigned {}/{} to {node}",
                    assumed.namespace(),
                    assumed.name()
                );
                let event = Event::new(EventType::Normal, "Scheduled", message);
                this.events.record(assumed.pod.clone(), event);
                return;
            }
            tracing::debug!(pod = assumed.name(), %status, "binding failed");
            framework.run_unreserve(&mut state, &assumed, &node);
            this.cache.forget(assumed.uid());
            this.fail(queued, cycle, Failure::from_status(status));
        });
    }
}

async fn bind(framework: &Framework, state: &CycleState, pod: &PodInfo, node: &str) -> Status {
    let permitted = framework.wait_on_permit(pod).await;
    if !permitted.is_success() {
        return permitted;
    }
    let prebound = framework.run_pre_bind(state, pod, node).await;
    if !prebound.is_success() {
        return prebound;
    }
    let bound = framework.run_bind(state, pod, node).await;
    if bound.is_skip() {
        return Status::error("no bind plugin bound the pod");
    }
    bound
}
