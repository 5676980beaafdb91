//! The Deployment controller's pure parts: the arithmetic of a rollout.
//!
//! Everything here is a function of the Deployment, its ReplicaSets (the
//! new one, whose template is the Deployment's, and the old ones) and, for
//! the conditions, `now`. Nothing reads the cluster or the clock; the loop
//! lists the ReplicaSets, calls [`reconcile()`] and carries out the
//! [`Plan`] it returns, then writes the status it carries.
//!
//! The pieces, each after upstream's deployment controller
//! (`pkg/controller/deployment`):
//! - [`fenceposts`]: maxSurge and maxUnavailable resolved against the
//!   desired replicas, rounded as upstream rounds them;
//! - [`hash`]: the `pod-template-hash` label of a template;
//! - [`rolling`]: one step of a RollingUpdate or Recreate rollout;
//! - [`scale`](mod@scale): proportional scaling when the replicas change mid-rollout;
//! - [`revision`](mod@revision): revisions, the new ReplicaSet's annotations and the
//!   revision history cleanup;
//! - [`status`]: the status and its Available and Progressing conditions;
//! - [`reconcile`](mod@reconcile): the order in which upstream's sync runs them.

pub mod claim;
pub mod fenceposts;
pub mod hash;
pub mod reconcile;
pub mod revision;
pub mod rolling;
pub mod run;
pub mod scale;
pub mod status;

#[cfg(test)]
mod testing;

pub use fenceposts::{
    IntOrPercentError, max_surge, max_unavailable, resolve_fenceposts, scaled_value,
};
pub use hash::pod_template_hash;
pub use reconcile::{find_new_replica_set, new_replica_set, reconcile};
pub use revision::{
    next_revision, replica_sets_to_delete, revision, set_new_replica_set_annotations,
};
pub use rolling::{
    Action, Direction, Event, Plan, new_rs_new_replicas, old_pods_running, recreate_plan,
    rolling_plan,
};
pub use scale::{is_saturated, is_scaling_event, scale};
pub use status::{
    AVAILABLE, PROGRESSING, REPLICA_FAILURE, calculate_status, get_condition, paused_condition,
    reason, rollout_status, set_condition,
};

use keelson_api::k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

/// The label a Deployment adds to its ReplicaSets' selectors and pods.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// The revision of a ReplicaSet in its Deployment's rollout sequence.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// The earlier revisions a ReplicaSet served (set when rolled back to).
pub const REVISION_HISTORY_ANNOTATION: &str = "deployment.kubernetes.io/revision-history";
/// The Deployment's replicas when this ReplicaSet was last scaled.
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
/// The Deployment's replicas + maxSurge when this ReplicaSet was last scaled.
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";

/// A progress deadline of `i32::MAX` seconds means "no deadline", as upstream.
const NO_PROGRESS_DEADLINE: i32 = i32::MAX;

/// The Deployment's desired replicas (the API defaults a missing one to 1).
pub(crate) fn desired(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// Whether the strategy is RollingUpdate (the API's default).
pub(crate) fn is_rolling_update(d: &Deployment) -> bool {
    let kind = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref());
    kind.is_none_or(|t| t == "RollingUpdate")
}

/// Whether the Deployment is paused.
pub(crate) fn is_paused(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false)
}

/// The progress deadline in seconds, if the Deployment has one.
pub(crate) fn progress_deadline(d: &Deployment) -> Option<i32> {
    let seconds = d.spec.as_ref().and_then(|s| s.progress_deadline_seconds)?;
    (seconds != NO_PROGRESS_DEADLINE).then_some(seconds)
}

/// A ReplicaSet's name.
pub(crate) fn name(rs: &ReplicaSet) -> &str {
    rs.metadata.name.as_deref().unwrap_or("")
}

/// A ReplicaSet's `spec.replicas` (the API defaults a missing one to 1).
pub(crate) fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// A ReplicaSet's `status.replicas`: the pods it has.
pub(crate) fn status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |s| s.replicas)
}

/// A ReplicaSet's available pods.
pub(crate) fn available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

/// A ReplicaSet's ready pods.
pub(crate) fn ready(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

/// Upstream's order of ReplicaSets by age: oldest first, then by name.
pub(crate) fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> std::cmp::Ordering {
    let created = |rs: &ReplicaSet| rs.metadata.creation_timestamp.as_ref().map(|t| t.0);
    created(a)
        .cmp(&created(b))
        .then_with(|| name(a).cmp(name(b)))
}

/// The annotation `key` of a ReplicaSet parsed as an `i32`, if present and valid.
pub(crate) fn int_annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
    rs.metadata.annotations.as_ref()?.get(key)?.parse().ok()
}
