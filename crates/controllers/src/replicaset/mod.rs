//! The ReplicaSet controller's pure parts, after upstream's
//! `pkg/controller/replicaset`: from a ReplicaSet and the pods the loop
//! found, [`reconcile`] decides which pods to adopt and release, how many
//! to create and in which batches, which to delete and in which order, and
//! the status to write. The loop (queue, informers, expectations,
//! actuation, events) carries the [`Plan`] out; it is not here.
//!
//! One sync, as upstream runs it: finished and terminating pods are set
//! aside; the rest are claimed (adopted or released by their labels); when the [`Expectations`] are met
//! and the ReplicaSet is not being deleted, the number of claimed pods is
//! brought to `spec.replicas`, at most [`BURST_REPLICAS`] a sync; the status
//! is computed from the claimed pods ([`status_after`]), with a
//! `ReplicaFailure` condition when a create or delete failed.

mod claim;
mod create;
mod events;
mod expectations;
mod ranking;
pub mod run;
mod status;

#[cfg(test)]
mod tests;

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use keelson_api::k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_api::label_selector::Selector;

pub use claim::{OwnerKind, PodPatch, controller_ref, controller_ref_of};
pub use create::{
    BURST_REPLICAS, SLOW_START_INITIAL_BATCH_SIZE, pod_from_template, slow_start_batches,
    template_has_labels,
};
pub use events::{Event, EventType};
pub use expectations::{EXPECTATIONS_TIMEOUT, Expectations, pod_key};
pub use ranking::{POD_DELETION_COST, deletion_cost, pods_to_delete};
pub use status::{
    REPLICA_FAILURE, condition, desired_replicas, requeue_after, status_after, status_needs_update,
};

use crate::pods;

/// What the loop observed for one ReplicaSet.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observed<'a> {
    /// The pods of the ReplicaSet's namespace as the cache has them: those
    /// it controls, orphans that may be adopted, and any others (ignored).
    /// Their order is kept wherever the plan has no better reason for one;
    /// giving them sorted by name keeps plans stable.
    pub pods: &'a [Pod],
    /// The pods selected by every ReplicaSet under the same controller as
    /// this one (this one included), which rank pods on crowded nodes first
    /// when scaling down; empty for a ReplicaSet without a controller, as
    /// upstream.
    pub related_pods: &'a [Pod],
    /// Whether [`Expectations::satisfied`] holds for this ReplicaSet:
    /// otherwise the cache may not show this controller's last writes, and
    /// no pod is created or deleted.
    pub expectations_satisfied: bool,
    /// The kind `rs` stands for: a ReplicaSet, or a ReplicationController
    /// converted to one; its pods' controller references name it.
    pub owner: OwnerKind,
}

/// Pods to create: `count` copies of `pod`, made in `batches`. Each create
/// seen by the cache, failed or skipped lowers the expectations by one
/// ([`Expectations::creation_observed`]). A template without labels
/// ([`template_has_labels`]) cannot make pods: upstream then fails each
/// create with `unable to create pods, no labels`.
#[derive(Debug, Clone, PartialEq)]
pub struct Creates {
    /// How many, at most [`BURST_REPLICAS`].
    pub count: usize,
    /// The slow-start batch sizes, summing to `count`.
    pub batches: Vec<usize>,
    /// The pod to create (`generateName`, labels, controller reference).
    pub pod: Pod,
}

/// What one sync of a ReplicaSet should do.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Orphans to adopt, before anything else.
    pub adopt: Vec<PodPatch>,
    /// Pods no longer selected, to release.
    pub release: Vec<PodPatch>,
    /// The active pods the ReplicaSet owns once adoption is done.
    pub claimed: Vec<Pod>,
    /// Pods to create, if too few.
    pub create: Option<Creates>,
    /// Names of the pods to delete, if too many, first to go first. The
    /// loop deletes them together, expecting each (see [`pod_key`]).
    pub delete: Vec<String>,
    /// The status once the plan has succeeded; when a create or delete
    /// fails, the loop computes it again with [`status_after`].
    pub status: ReplicaSetStatus,
    /// Whether `status` must be written.
    pub status_changed: bool,
    /// When to sync again to see pods become available, if all goes well.
    pub requeue_after: Option<SignedDuration>,
}

/// Why a ReplicaSet cannot be reconciled at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconcileError {
    /// `spec.selector` does not convert to a selector; upstream logs this
    /// and leaves the ReplicaSet alone until it changes.
    InvalidSelector(String),
}

impl fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSelector(e) => write!(f, "failed to convert the pod selector: {e}"),
        }
    }
}

impl std::error::Error for ReconcileError {}

/// Decides one sync of `rs` from what the loop `observed`.
pub fn reconcile(
    rs: &ReplicaSet,
    observed: Observed<'_>,
    now: Timestamp,
) -> Result<Plan, ReconcileError> {
    let selector = Selector::from_optional_label_selector(rs.spec.as_ref().map(|s| &s.selector))
        .map_err(|e| ReconcileError::InvalidSelector(e.to_string()))?;
    let active: Vec<&Pod> = observed
        .pods
        .iter()
        .filter(|p| pods::is_active(p))
        .collect();
    let claim = claim::claim(rs, observed.owner, &selector, &active);
    let manage = observed.expectations_satisfied && rs.metadata.deletion_timestamp.is_none();
    let desired = usize::try_from(desired_replicas(rs)).unwrap_or(0);
    let have = claim.claimed.len();
    let mut create = None;
    let mut delete = Vec::new();
    if manage && have < desired {
        let count = (desired - have).min(BURST_REPLICAS);
        create = Some(Creates {
            count,
            batches: slow_start_batches(count),
            pod: pod_from_template(rs, observed.owner),
        });
    } else if manage && have > desired {
        let count = (have - desired).min(BURST_REPLICAS);
        let claimed: Vec<&Pod> = claim.claimed.iter().collect();
        delete = pods_to_delete(&claimed, observed.related_pods, count, now)
            .into_iter()
            .map(|pod| pod.metadata.name.clone().unwrap_or_default())
            .collect();
    }
    let status = status_after(rs, &claim.claimed, None, now);
    Ok(Plan {
        status_changed: status_needs_update(rs, &status),
        requeue_after: requeue_after(rs, &status, false),
        status,
        adopt: claim.adopt,
        release: claim.release,
        claimed: claim.claimed,
        create,
        delete,
    })
}
