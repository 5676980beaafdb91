//! What happens to a pod whose cycle failed, as upstream's
//! `handleSchedulingFailure`: it goes back to the queue in its newest
//! version (among the unschedulable pods when it fits nowhere, to back
//! off after an error; dropped when it was deleted or bound meanwhile),
//! a `FailedScheduling` event says why, and its `PodScheduled` condition
//! (reason `Unschedulable` or `SchedulerError`) and `nominatedNodeName`
//! are written through `pods/status`. Preemption's decision is carried
//! out here too: victims marked `DisruptionTarget` and deleted.

use std::collections::BTreeSet;
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use keelson_client::events::{Event, EventType};
use kube::api::{Api, DeleteParams, Patch, PatchParams};

use super::Scheduler;
use crate::framework::runtime::Framework;
use crate::framework::{CycleState, PodInfo, PostFilterContext, QueuedPodInfo, Snapshot, Status};
use crate::schedule::{FitError, NO_NODES_AVAILABLE, ScheduleError};

/// What becomes of the pod's `nominatedNodeName`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Nomination {
    Keep,
    Set(String),
    /// Preemption found no node: the nomination, if any, is cleared.
    Clear,
}

/// A failed cycle's outcome.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    /// The pod fits nowhere now (else: an error, retried after backoff).
    unschedulable: bool,
    message: String,
    unschedulable_plugins: BTreeSet<String>,
    pending_plugins: BTreeSet<String>,
    nomination: Nomination,
}

impl Failure {
    pub(super) fn from_schedule_error(error: ScheduleError) -> Failure {
        match error {
            ScheduleError::Fit(fit) => Failure::fit(&fit, Nomination::Keep),
            ScheduleError::NoNodes => Failure {
                unschedulable: true,
                message: NO_NODES_AVAILABLE.to_string(),
                unschedulable_plugins: BTreeSet::new(),
                pending_plugins: BTreeSet::new(),
                nomination: Nomination::Keep,
            },
            ScheduleError::Error(status) => Failure::from_status(status),
        }
    }

    pub(super) fn from_status(status: Status) -> Failure {
        let plugins = status.plugin().map(str::to_string).into_iter().collect();
        Failure {
            unschedulable: status.is_rejected(),
            message: status.message(),
            unschedulable_plugins: if status.is_rejected() {
                plugins
            } else {
                BTreeSet::new()
            },
            pending_plugins: BTreeSet::new(),
            nomination: Nomination::Keep,
        }
    }

    fn fit(fit: &FitError, nomination: Nomination) -> Failure {
        Failure {
            unschedulable: true,
            message: fit.message(),
            unschedulable_plugins: fit.diagnosis.unschedulable_plugins.clone(),
            pending_plugins: fit.diagnosis.pending_plugins.clone(),
            nomination,
        }
    }

    /// The `PodScheduled` condition's reason.
    fn reason(&self) -> &'static str {
        if self.unschedulable {
            "Unschedulable"
        } else {
            "SchedulerError"
        }
    }
}

impl Scheduler {
    /// PostFilter (preemption) for a pod that fits nowhere; the victims
    /// it chose are deleted on a task of their own.
    pub(super) fn post_filter(
        self: &Arc<Self>,
        framework: &Framework,
        state: &CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        mut fit: FitError,
    ) -> Failure {
        if !framework.has_post_filter() {
            return Failure::fit(&fit, Nomination::Keep);
        }
        let context = PostFilterContext {
            framework,
            snapshot,
            listers: &self.listers,
            nominator: &self.nominator,
        };
        let (result, status) =
            framework.run_post_filter(state, pod, &fit.diagnosis.node_to_status, &context);
        fit.diagnosis.post_filter_msg = status.message();
        let mut nomination = Nomination::Keep;
        if let Some(result) = result
            && let Some(node) = result.nominated_node_name.clone()
        {
            if node.is_empty() {
                return Failure::fit(&fit, Nomination::Clear);
            }
            nomination = Nomination::Set(node.clone());
            let this = self.clone();
            let preemptor = pod.pod.clone();
            tokio::spawn(async move {
                this.preempt(
                    &preemptor,
                    &node,
                    &result.victims,
                    &result.clear_nominations,
                )
                .await;
            });
        }
        Failure::fit(&fit, nomination)
    }

    /// Requeues the pod, records the event and writes its status.
    pub(super) fn fail(self: &Arc<Self>, mut queued: QueuedPodInfo, cycle: u64, failure: Failure) {
        let uid = queued.pod_info.uid().to_string();
        let latest = self.lock_pending().get(&uid).cloned();
        let Some(latest) = latest else {
            // Deleted, or bound by someone else, meanwhile: dropped.
            self.queue.done(&uid);
            return;
        };
        queued.pod_info = Arc::new(PodInfo::new(latest.clone()));
        match &failure.nomination {
            Nomination::Set(node) => self.nominator.add(queued.pod_info.clone(), node),
            Nomination::Clear => self.nominator.remove(&uid),
            Nomination::Keep => {}
        }
        if failure.unschedulable {
            queued.unschedulable_plugins = failure.unschedulable_plugins.clone();
            queued.pending_plugins = failure.pending_plugins.clone();
            self.queue.add_unschedulable(queued, cycle);
        } else {
            self.queue.add_backoff(queued);
        }
        let this = self.clone();
        tokio::spawn(async move {
            let event = Event::new(
                EventType::Warning,
                "FailedScheduling",
                failure.message.clone(),
            );
            this.events.record(latest.clone(), event);
            if let Err(err) = this.write_status(&latest, &failure).await {
                tracing::debug!(error = %err, "the pod's scheduling status was not written");
            }
        });
    }

    /// `PodScheduled=False` with the failure's reason and message, and the
    /// nomination, unless the pod says so already.
    async fn write_status(&self, pod: &Pod, failure: &Failure) -> Result<(), kube::Error> {
        let status = pod.status.as_ref();
        let current = status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"));
        let same_condition = current.is_some_and(|c| {
            c.status == "False"
                && c.reason.as_deref() == Some(failure.reason())
                && c.message.as_deref() == Some(failure.message.as_str())
        });
        let have = status
            .and_then(|s| s.nominated_node_name.clone())
            .filter(|n| !n.is_empty());
        let nominated = match &failure.nomination {
            Nomination::Set(node) => Some(Some(node.clone())),
            Nomination::Clear if have.is_some() => Some(None),
            Nomination::Clear | Nomination::Keep => None,
        };
        let same_nomination = nominated.as_ref().is_none_or(|n| *n == have);
        if same_condition && same_nomination {
            return Ok(());
        }
        let transition =
            if current.is_some_and(|c| c.status == "False") {
                current.and_then(|c| c.last_transition_time.clone())
            } else {
                None
            }
            .unwrap_or_else(|| {
                keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    jiff::Timestamp::now(),
                )
            });
        let mut patch = serde_json::json!({"status": {"conditions": [{
            "type": "PodScheduled",
            "status": "False",
            "reason": failure.reason(),
            "message": failure.message,
            "lastProbeTime": null,
            "lastTransitionTime": transition,
        }]}});
        if let Some(node) = nominated {
            patch["status"]["nominatedNodeName"] = serde_json::json!(node);
        }
        self.patch_status(pod, &patch).await
    }

    async fn patch_status(&self, pod: &Pod, patch: &serde_json::Value) -> Result<(), kube::Error> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        api.patch_status(name, &PatchParams::default(), &Patch::Strategic(patch))
            .await
            .map(|_| ())
    }

    /// Carries out preemption: each victim marked `DisruptionTarget`,
    /// told by an event and deleted; lower-priority pods nominated to the
    /// node lose their nomination.
    async fn preempt(&self, preemptor: &Pod, node: &str, victims: &[Arc<Pod>], clear: &[Arc<Pod>]) {
        let preemptor_uid = preemptor.metadata.uid.clone().unwrap_or_default();
        for victim in victims
            .iter()
            .filter(|v| v.metadata.deletion_timestamp.is_none())
        {
            let condition = serde_json::json!({"status": {"conditions": [{
                "type": "DisruptionTarget",
                "status": "True",
                "reason": "PreemptionByScheduler",
                "message": format!("{}: preempting to accommodate a higher priority pod", super::COMPONENT),
                "lastTransitionTime": Time(jiff::Timestamp::now()),
            }]}});
            if let Err(err) = self.patch_status(victim, &condition).await {
                tracing::debug!(error = %err, "a victim's DisruptionTarget condition was not written");
            }
            let namespace = victim.metadata.namespace.as_deref().unwrap_or("default");
            let name = victim.metadata.name.as_deref().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
            match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => {
                    let message = format!("Preempted by pod {preemptor_uid} on node {node}");
                    let event = Event::new(EventType::Normal, "Preempted", message);
                    self.events.record(victim.clone(), event);
                }
                Err(err) => {
                    tracing::info!(error = %err, victim = name, "a preemption victim was not deleted")
                }
            }
        }
        for pod in clear {
            self.nominator
                .remove(pod.metadata.uid.as_deref().unwrap_or_default());
            let patch = serde_json::json!({"status": {"nominatedNodeName": null}});
            if let Err(err) = self.patch_status(pod, &patch).await {
                tracing::debug!(error = %err, "a nomination was not cleared");
            }
        }
    }

    pub(super) fn lock_pending(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<Pod>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}
