//! Questions every workload controller asks of a pod: is it active, is it
//! ready, has it been ready long enough to count as available. They follow
//! upstream's `pkg/api/v1/pod` helpers and `controller.IsPodActive`.

use jiff::{SignedDuration, Timestamp};
use keelson_api::k8s_openapi::api::core::v1::{Pod, PodCondition};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// The pod's phase, or `""` when the status has none yet.
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        .unwrap_or("")
}

/// The node the pod is bound to, or `""` while it is unscheduled.
pub fn node_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|spec| spec.node_name.as_deref())
        .unwrap_or("")
}

/// Whether the pod is still counted by its controller: not finished
/// (`Succeeded` or `Failed`) and not being deleted.
pub fn is_active(pod: &Pod) -> bool {
    let phase = phase(pod);
    phase != "Succeeded" && phase != "Failed" && pod.metadata.deletion_timestamp.is_none()
}

/// The pod's `Ready` condition, if its status has one.
pub fn ready_condition(pod: &Pod) -> Option<&PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|condition| condition.type_ == "Ready")
}

/// Whether the pod's `Ready` condition is `True`.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|condition| condition.status == "True")
}

/// When the pod last became ready, for a ready pod whose `Ready`
/// condition records it; `None` (upstream's zero time) otherwise.
pub fn ready_since(pod: &Pod) -> Option<Timestamp> {
    let condition = ready_condition(pod).filter(|c| c.status == "True")?;
    condition.last_transition_time.as_ref().map(|time| time.0)
}

/// Whether the pod is available: ready, and (when `min_ready_seconds` is
/// positive) ready since strictly more than that many seconds before `now`.
/// A ready pod without a transition time is not available then, as
/// upstream's zero time never passes the check.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    let wait = SignedDuration::from_secs(i64::from(min_ready_seconds));
    ready_condition(pod)
        .and_then(|condition| condition.last_transition_time.as_ref())
        .and_then(|since| since.0.checked_add(wait).ok())
        .is_some_and(|available_at| available_at < now)
}

/// The owner reference that says who controls the object (`controller:
/// true`), if any.
pub fn controller_of(owners: Option<&Vec<OwnerReference>>) -> Option<&OwnerReference> {
    owners?.iter().find(|owner| owner.controller == Some(true))
}

/// A pod cut down to what the built-in controllers read of it (its
/// metadata but for annotations other than the deletion cost, its node,
/// its init containers' names and restart policies, its phase, its Ready
/// condition and its containers' restart counts and readiness), for a
/// shared cache of many pods ([`crate::framework::Informers::transform`]).
pub fn slim(pod: &mut Pod) {
    use keelson_api::k8s_openapi::api::core::v1::{Container, ContainerStatus, PodSpec, PodStatus};
    let meta = &mut pod.metadata;
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.retain(|key, _| key == crate::replicaset::POD_DELETION_COST);
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
    if let Some(spec) = pod.spec.take() {
        let init = spec.init_containers.map(|containers| {
            containers
                .into_iter()
                .map(|c| Container {
                    name: c.name,
                    restart_policy: c.restart_policy,
                    ..Container::default()
                })
                .collect()
        });
        pod.spec = Some(PodSpec {
            node_name: spec.node_name,
            init_containers: init,
            ..PodSpec::default()
        });
    }
    if let Some(status) = pod.status.take() {
        let counts = |statuses: Option<Vec<ContainerStatus>>| {
            statuses.map(|statuses| {
                statuses
                    .into_iter()
                    .map(|c| ContainerStatus {
                        name: c.name,
                        ready: c.ready,
                        restart_count: c.restart_count,
                        ..ContainerStatus::default()
                    })
                    .collect()
            })
        };
        let ready = status.conditions.map(|conditions| {
            conditions
                .into_iter()
                .filter(|c| c.type_ == "Ready")
                .collect()
        });
        pod.status = Some(PodStatus {
            phase: status.phase,
            conditions: ready,
            container_statuses: counts(status.container_statuses),
            init_container_statuses: counts(status.init_container_statuses),
            ..PodStatus::default()
        });
    }
}
