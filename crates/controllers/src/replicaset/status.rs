//! A ReplicaSet's status from the pods it owns: upstream's
//! `calculateStatus`, and when the status is worth writing back.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use keelson_api::k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::pods;

/// The condition type set while creating or deleting pods fails.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// The status `rs` should have, given the active pods it owns (after the
/// claim) and the error of this sync's creates or deletes, if one failed.
///
/// On a failure the `ReplicaFailure` condition is added (status `True`,
/// reason `FailedCreate` when the ReplicaSet had too few pods and
/// `FailedDelete` when it had too many, as upstream derives it, message the
/// error's), unless it is already there, when it is kept as it is; without
/// a failure it is removed. `terminatingReplicas` is left out, as the
/// feature that fills it is off by default in v1.33.
pub fn status_after(
    rs: &ReplicaSet,
    pods: &[Pod],
    failure: Option<&str>,
    now: Timestamp,
) -> ReplicaSetStatus {
    let mut status = rs.status.clone().unwrap_or_default();
    let spec = rs.spec.as_ref();
    let min_ready_seconds = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let no_labels = BTreeMap::new();
    let template_labels = spec
        .and_then(|s| s.template.as_ref()?.metadata.as_ref())
        .and_then(|meta| meta.labels.as_ref())
        .unwrap_or(&no_labels);
    let (mut fully_labeled, mut ready, mut available) = (0, 0, 0);
    for pod in pods {
        let labels = pod.metadata.labels.as_ref().unwrap_or(&no_labels);
        if template_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
        {
            fully_labeled += 1;
        }
        if pods::is_ready(pod) {
            ready += 1;
            if pods::is_available(pod, min_ready_seconds, now) {
                available += 1;
            }
        }
    }
    let has_failure = condition(&status, REPLICA_FAILURE).is_some();
    match failure {
        Some(message) if !has_failure => {
            let reason = failure_reason(desired_replicas(rs), pods.len());
            status
                .conditions
                .get_or_insert_with(Vec::new)
                .push(failure_condition(reason, message, now));
        }
        None if has_failure => {
            let conditions = status.conditions.get_or_insert_with(Vec::new);
            conditions.retain(|c| c.type_ != REPLICA_FAILURE);
            if conditions.is_empty() {
                status.conditions = None;
            }
        }
        _ => {}
    }
    status.replicas = count(pods.len());
    status.fully_labeled_replicas = Some(fully_labeled);
    status.ready_replicas = Some(ready);
    status.available_replicas = Some(available);
    status.observed_generation = rs.metadata.generation;
    // Filled only under a feature gate that v1.33 leaves off.
    status.terminating_replicas = None;
    status
}

/// Whether `status` differs from what `rs` already shows, so that it must
/// be written (upstream skips the write otherwise).
pub fn status_needs_update(rs: &ReplicaSet, status: &ReplicaSetStatus) -> bool {
    let current = rs.status.clone().unwrap_or_default();
    let num = |n: Option<i32>| n.unwrap_or(0);
    current.replicas != status.replicas
        || num(current.fully_labeled_replicas) != num(status.fully_labeled_replicas)
        || num(current.ready_replicas) != num(status.ready_replicas)
        || num(current.available_replicas) != num(status.available_replicas)
        || current.observed_generation != rs.metadata.generation
        || current.terminating_replicas != status.terminating_replicas
        || current.conditions.unwrap_or_default() != status.conditions.clone().unwrap_or_default()
}

/// When to look at `rs` again although nothing changes: after a sync
/// without failure, when every wanted pod is ready but not all are
/// available yet, after `minReadySeconds` (when they will be).
pub fn requeue_after(
    rs: &ReplicaSet,
    status: &ReplicaSetStatus,
    failed: bool,
) -> Option<SignedDuration> {
    let min_ready_seconds = rs.spec.as_ref()?.min_ready_seconds.unwrap_or(0);
    let replicas = desired_replicas(rs);
    let waiting = status.ready_replicas.unwrap_or(0) == replicas
        && status.available_replicas.unwrap_or(0) != replicas;
    (!failed && min_ready_seconds > 0 && waiting)
        .then(|| SignedDuration::from_secs(i64::from(min_ready_seconds)))
}

/// `spec.replicas`, 1 when unset (the API server's default).
pub fn desired_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|spec| spec.replicas).unwrap_or(1)
}

/// The condition of `type_` in `status`, if present.
pub fn condition<'a>(status: &'a ReplicaSetStatus, type_: &str) -> Option<&'a ReplicaSetCondition> {
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

fn failure_reason(desired: i32, have: usize) -> &'static str {
    match usize::try_from(desired) {
        Ok(desired) if have < desired => "FailedCreate",
        Ok(desired) if have > desired => "FailedDelete",
        Ok(_) => "",
        Err(_) => "FailedDelete",
    }
}

fn failure_condition(reason: &str, message: &str, now: Timestamp) -> ReplicaSetCondition {
    ReplicaSetCondition {
        type_: REPLICA_FAILURE.to_string(),
        status: "True".to_string(),
        // Upstream leaves an empty reason or message out of the object.
        reason: (!reason.is_empty()).then(|| reason.to_string()),
        message: (!message.is_empty()).then(|| message.to_string()),
        last_transition_time: Some(Time(now)),
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
