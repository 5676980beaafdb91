//! A Deployment's status: its counts summed over its ReplicaSets and its
//! conditions, as upstream's `calculateStatus`, `syncRolloutStatus` and
//! `checkPausedConditions` set them.
//!
//! `Available` says whether at least replicas - maxUnavailable pods are
//! available. `Progressing` follows a rollout: true while it moves
//! (`ReplicaSetUpdated`) or once done (`NewReplicaSetAvailable`), false
//! once it has not moved for `progressDeadlineSeconds`
//! (`ProgressDeadlineExceeded`), unknown while paused. Counts that are
//! zero are left out, as upstream's JSON omits them.

use keelson_api::k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet,
};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::fenceposts::max_unavailable;
use super::rolling::deployment_complete;
use super::{
    available, desired, is_paused, name, progress_deadline, ready, spec_replicas, status_replicas,
};

/// The condition type of a Deployment with its minimum availability.
pub const AVAILABLE: &str = "Available";
/// The condition type of a Deployment's rollout progress.
pub const PROGRESSING: &str = "Progressing";
/// The condition type copied from a ReplicaSet that cannot create pods.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// Reasons of the conditions, as upstream names them.
pub mod reason {
    /// A ReplicaSet of the rollout was scaled or became more available.
    pub const REPLICA_SET_UPDATED: &str = "ReplicaSetUpdated";
    /// The controller created the new ReplicaSet.
    pub const NEW_REPLICA_SET_CREATED: &str = "NewReplicaSetCreated";
    /// The controller found an existing ReplicaSet for the template.
    pub const FOUND_NEW_REPLICA_SET: &str = "FoundNewReplicaSet";
    /// The rollout is complete.
    pub const NEW_REPLICA_SET_AVAILABLE: &str = "NewReplicaSetAvailable";
    /// The rollout made no progress within the deadline.
    pub const PROGRESS_DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";
    /// The Deployment was paused.
    pub const DEPLOYMENT_PAUSED: &str = "DeploymentPaused";
    /// The Deployment was resumed.
    pub const DEPLOYMENT_RESUMED: &str = "DeploymentResumed";
    /// At least replicas - maxUnavailable pods are available.
    pub const MINIMUM_REPLICAS_AVAILABLE: &str = "MinimumReplicasAvailable";
    /// Fewer than replicas - maxUnavailable pods are available.
    pub const MINIMUM_REPLICAS_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
}

/// A condition stamped with `now`.
pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: jiff::Timestamp,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: Some(reason.to_owned()),
        message: Some(message),
        last_update_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// The condition of `type_`, if the status has one.
pub fn get_condition<'a>(
    status: &'a DeploymentStatus,
    type_: &str,
) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_)
}

/// Sets `condition` as upstream's `SetDeploymentCondition`: nothing when
/// one of the same status and reason is there; the transition time kept
/// when only the reason changes; the condition moved to the end.
pub fn set_condition(status: &mut DeploymentStatus, mut condition: DeploymentCondition) {
    if let Some(current) = get_condition(status, &condition.type_) {
        if current.status == condition.status && current.reason == condition.reason {
            return;
        }
        if current.status == condition.status {
            condition.last_transition_time = current.last_transition_time.clone();
        }
    }
    remove_condition(status, &condition.type_);
    status.conditions.get_or_insert_default().push(condition);
}

/// Removes the condition of `type_`.
pub fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(conditions) = status.conditions.as_mut() {
        conditions.retain(|c| c.type_ != type_);
        if conditions.is_empty() {
            status.conditions = None;
        }
    }
}

fn nonzero(n: i32) -> Option<i32> {
    (n != 0).then_some(n)
}

fn count(status: &DeploymentStatus, field: fn(&DeploymentStatus) -> Option<i32>) -> i32 {
    field(status).unwrap_or(0)
}

/// The status from the ReplicaSets (`old_rses` and `new_rs`) with the
/// `Available` condition; the other conditions are kept from the
/// Deployment's status.
pub fn calculate_status(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old_rses: &[ReplicaSet],
    now: jiff::Timestamp,
) -> DeploymentStatus {
    let all = || old_rses.iter().chain(new_rs);
    let available_replicas: i32 = all().map(available).sum();
    let total: i32 = all().map(spec_replicas).sum();
    let previous = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation.filter(|g| *g != 0),
        replicas: nonzero(all().map(status_replicas).sum()),
        updated_replicas: nonzero(new_rs.map_or(0, status_replicas)),
        ready_replicas: nonzero(all().map(ready).sum()),
        available_replicas: nonzero(available_replicas),
        // More available than wanted (scaling down) is no unavailability.
        unavailable_replicas: nonzero((total - available_replicas).max(0)),
        collision_count: previous.collision_count,
        conditions: previous.conditions,
        terminating_replicas: None,
    };
    let condition = if available_replicas >= desired(d) - max_unavailable(d) {
        let message = "Deployment has minimum availability.".to_owned();
        new_condition(
            AVAILABLE,
            "True",
            reason::MINIMUM_REPLICAS_AVAILABLE,
            message,
            now,
        )
    } else {
        let message = "Deployment does not have minimum availability.".to_owned();
        new_condition(
            AVAILABLE,
            "False",
            reason::MINIMUM_REPLICAS_UNAVAILABLE,
            message,
            now,
        )
    };
    set_condition(&mut status, condition);
    status
}

/// Whether `new` shows progress over the Deployment's current status:
/// more updated, ready or available pods, or fewer old ones.
fn progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let old_pods =
        |s: &DeploymentStatus| count(s, |s| s.replicas) - count(s, |s| s.updated_replicas);
    count(new, |s| s.updated_replicas) > count(&old, |s| s.updated_replicas)
        || old_pods(new) < old_pods(&old)
        || count(new, |s| s.ready_replicas) > count(&old, |s| s.ready_replicas)
        || count(new, |s| s.available_replicas) > count(&old, |s| s.available_replicas)
}

/// Whether the rollout has gone `deadline` seconds without progress:
/// its Progressing condition was last updated longer ago than that.
fn timed_out(new: &DeploymentStatus, deadline: i32, now: jiff::Timestamp) -> bool {
    let Some(condition) = get_condition(new, PROGRESSING) else {
        return false;
    };
    match condition.reason.as_deref() {
        Some(reason::NEW_REPLICA_SET_AVAILABLE) => false,
        Some(reason::PROGRESS_DEADLINE_EXCEEDED) => true,
        _ => condition.last_update_time.as_ref().is_none_or(|from| {
            let limit = from
                .0
                .checked_add(jiff::SignedDuration::from_secs(i64::from(deadline)));
            limit.is_ok_and(|limit| limit < now)
        }),
    }
}

/// The status after a rollout step, with the `Progressing` condition
/// moved as upstream's `syncRolloutStatus` does, and when to look again
/// to check the deadline (upstream's `requeueStuckDeployment`). `d`'s
/// status is the one before this step, with any condition set earlier in
/// the same sync (paused, new ReplicaSet created or found).
pub fn rollout_status(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old_rses: &[ReplicaSet],
    now: jiff::Timestamp,
) -> (DeploymentStatus, Option<jiff::SignedDuration>) {
    let mut status = calculate_status(d, new_rs, old_rses, now);
    let deadline = progress_deadline(d);
    if deadline.is_none() {
        remove_condition(&mut status, PROGRESSING);
    }
    let observed = d.status.clone().unwrap_or_default();
    let current = get_condition(&observed, PROGRESSING);
    let complete_before = count(&status, |s| s.replicas) == count(&status, |s| s.updated_replicas)
        && current.is_some_and(|c| c.reason.as_deref() == Some(reason::NEW_REPLICA_SET_AVAILABLE));
    if let Some(deadline) = deadline.filter(|_| !complete_before) {
        progress(d, new_rs, current, &mut status, deadline, now);
    }
    set_replica_failure(new_rs, old_rses, &mut status);
    let requeue = requeue_after(d, &status, now);
    (status, requeue)
}

fn progress(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    current: Option<&DeploymentCondition>,
    status: &mut DeploymentStatus,
    deadline: i32,
    now: jiff::Timestamp,
) {
    let subject = match new_rs {
        Some(rs) => format!("ReplicaSet {:?}", name(rs)),
        None => format!("Deployment {:?}", d.metadata.name.as_deref().unwrap_or("")),
    };
    if deployment_complete(d, Some(status)) {
        let message = format!("{subject} has successfully progressed.");
        set_condition(
            status,
            new_condition(
                PROGRESSING,
                "True",
                reason::NEW_REPLICA_SET_AVAILABLE,
                message,
                now,
            ),
        );
    } else if progressing(d, status) {
        let message = format!("{subject} is progressing.");
        let mut condition = new_condition(
            PROGRESSING,
            "True",
            reason::REPLICA_SET_UPDATED,
            message,
            now,
        );
        // Progress refreshes lastUpdateTime even with the same reason,
        // which `set_condition` alone would not.
        if let Some(current) = current {
            if current.status == "True" {
                condition.last_transition_time = current.last_transition_time.clone();
            }
            remove_condition(status, PROGRESSING);
        }
        set_condition(status, condition);
    } else if timed_out(status, deadline, now) {
        let message = format!("{subject} has timed out progressing.");
        set_condition(
            status,
            new_condition(
                PROGRESSING,
                "False",
                reason::PROGRESS_DEADLINE_EXCEEDED,
                message,
                now,
            ),
        );
    }
}

/// Copies a ReplicaFailure condition of the new ReplicaSet (else of any)
/// onto the Deployment, or removes the Deployment's.
fn set_replica_failure(
    new_rs: Option<&ReplicaSet>,
    old_rses: &[ReplicaSet],
    status: &mut DeploymentStatus,
) {
    let failure = |rs: &ReplicaSet| {
        let conditions = rs.status.as_ref().and_then(|s| s.conditions.as_ref());
        conditions
            .into_iter()
            .flatten()
            .find(|c| c.type_ == REPLICA_FAILURE)
            .cloned()
    };
    let found = new_rs
        .and_then(failure)
        .or_else(|| old_rses.iter().chain(new_rs).find_map(failure));
    match found {
        Some(c) => set_condition(
            status,
            DeploymentCondition {
                type_: c.type_,
                status: c.status,
                reason: c.reason,
                message: c.message,
                last_update_time: c.last_transition_time.clone(),
                last_transition_time: c.last_transition_time,
            },
        ),
        None => remove_condition(status, REPLICA_FAILURE),
    }
}

/// When to check the deadline again, for a rollout neither complete nor
/// timed out: a second past its deadline, or at once if under a second.
fn requeue_after(
    d: &Deployment,
    new: &DeploymentStatus,
    now: jiff::Timestamp,
) -> Option<jiff::SignedDuration> {
    let deadline = progress_deadline(d)?;
    let current = get_condition(d.status.as_ref()?, PROGRESSING)?;
    if deployment_complete(d, Some(new))
        || current.reason.as_deref() == Some(reason::PROGRESS_DEADLINE_EXCEEDED)
    {
        return None;
    }
    let last = current.last_update_time.as_ref().map_or(now, |t| t.0);
    let after = last.duration_since(now) + jiff::SignedDuration::from_secs(i64::from(deadline));
    if after < jiff::SignedDuration::from_secs(1) {
        return Some(jiff::SignedDuration::ZERO);
    }
    Some(after + jiff::SignedDuration::from_secs(1))
}

/// The status with the paused or resumed `Progressing` condition, if
/// pausing or resuming changes it (upstream's `checkPausedConditions`); a
/// timed-out rollout keeps its condition.
pub fn paused_condition(d: &Deployment, now: jiff::Timestamp) -> Option<DeploymentStatus> {
    progress_deadline(d)?;
    let mut status = d.status.clone().unwrap_or_default();
    let reason = get_condition(&status, PROGRESSING).and_then(|c| c.reason.clone());
    if reason.as_deref() == Some(reason::PROGRESS_DEADLINE_EXCEEDED) {
        return None;
    }
    let paused_shown = reason.as_deref() == Some(reason::DEPLOYMENT_PAUSED);
    let (why, message) = match (is_paused(d), paused_shown) {
        (true, false) => (reason::DEPLOYMENT_PAUSED, "Deployment is paused"),
        (false, true) => (reason::DEPLOYMENT_RESUMED, "Deployment is resumed"),
        _ => return None,
    };
    set_condition(
        &mut status,
        new_condition(PROGRESSING, "Unknown", why, message.to_owned(), now),
    );
    Some(status)
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
