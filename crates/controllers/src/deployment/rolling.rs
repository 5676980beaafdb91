//! One step of a rollout: which ReplicaSets to create, scale or delete
//! now, as upstream's `rolloutRolling` and `rolloutRecreate` decide it.
//!
//! A RollingUpdate first scales the new ReplicaSet up as far as maxSurge
//! lets it (`reconcileNewReplicaSet`); only when it cannot does it scale
//! the old ones down as far as maxUnavailable lets it, removing their
//! unhealthy pods first (`reconcileOldReplicaSets`); only when neither
//! moves and the rollout is complete does it prune old revisions. A
//! Recreate scales every old ReplicaSet to zero, waits for their pods to
//! be gone, then scales the new one to the full size.

use std::collections::BTreeMap;

use keelson_api::k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use keelson_api::k8s_openapi::api::core::v1::Pod;

use super::fenceposts::{max_surge, max_unavailable};
use super::reconcile::new_replica_set;
use super::revision::replica_sets_to_delete;
use super::{
    available, by_creation, desired, is_rolling_update, name, spec_replicas, status_replicas,
};

/// Which way a ReplicaSet is scaled, as its event says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// More replicas.
    Up,
    /// Fewer replicas.
    Down,
}

/// An event the loop records on the Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    /// The machine-readable reason.
    pub reason: &'static str,
    /// The text a user reads.
    pub message: String,
}

/// One write the loop makes, in the plan's order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create the new ReplicaSet, complete as given (name, labels,
    /// selector, owner, replicas, annotations).
    CreateReplicaSet(Box<ReplicaSet>),
    /// Set a ReplicaSet's `spec.replicas` to `to` and its desired-replicas
    /// and max-replicas annotations (`from == to` when only they change).
    ScaleReplicaSet {
        /// The ReplicaSet.
        name: String,
        /// Its replicas before.
        from: i32,
        /// Its replicas after.
        to: i32,
        /// The direction its event names.
        direction: Direction,
        /// The Deployment's replicas, for the desired-replicas annotation.
        desired_replicas: i32,
        /// The Deployment's replicas + maxSurge, for max-replicas.
        max_replicas: i32,
    },
    /// Replace the new ReplicaSet's annotations and minReadySeconds (its
    /// revision moved or the Deployment's annotations changed).
    UpdateReplicaSet {
        /// The ReplicaSet.
        name: String,
        /// Its annotations after.
        annotations: BTreeMap<String, String>,
        /// Its `spec.minReadySeconds` after.
        min_ready_seconds: Option<i32>,
    },
    /// Set the Deployment's revision annotation to its new ReplicaSet's.
    SetDeploymentRevision(String),
    /// Delete an old ReplicaSet past the revision history limit.
    DeleteReplicaSet {
        /// The ReplicaSet.
        name: String,
    },
}

impl Action {
    /// The event upstream records for this action, if any.
    pub fn event(&self) -> Option<Event> {
        match self {
            Action::ScaleReplicaSet {
                name,
                from,
                to,
                direction,
                ..
            } if from != to => {
                let way = match direction {
                    Direction::Up => "up",
                    Direction::Down => "down",
                };
                Some(Event {
                    type_: "Normal",
                    reason: "ScalingReplicaSet",
                    message: format!("Scaled {way} replica set {name} from {from} to {to}"),
                })
            }
            _ => None,
        }
    }
}

/// What one sync decides: the writes in order, then the status to write
/// (when it changed) and when to look again to check the progress
/// deadline.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// The writes, in order; the loop stops at the first that fails.
    pub actions: Vec<Action>,
    /// The Deployment's status after this sync, if it differs from the
    /// observed one.
    pub status: Option<DeploymentStatus>,
    /// Look again after this long, if no event comes sooner.
    pub requeue_after: Option<jiff::SignedDuration>,
}

impl Plan {
    /// The events of the plan's actions, in order.
    pub fn events(&self) -> Vec<Event> {
        self.actions.iter().filter_map(Action::event).collect()
    }
}

/// Scaling `rs` to `to` as upstream's `scaleReplicaSetAndRecordEvent`:
/// nothing when the size is already right.
pub(crate) fn scale_to(d: &Deployment, rs: &ReplicaSet, to: i32) -> Option<Action> {
    let from = spec_replicas(rs);
    if from == to {
        return None;
    }
    let direction = if from < to {
        Direction::Up
    } else {
        Direction::Down
    };
    Some(scale_action(d, rs, to, direction))
}

pub(crate) fn scale_action(
    d: &Deployment,
    rs: &ReplicaSet,
    to: i32,
    direction: Direction,
) -> Action {
    Action::ScaleReplicaSet {
        name: name(rs).to_owned(),
        from: spec_replicas(rs),
        to,
        direction,
        desired_replicas: desired(d),
        max_replicas: desired(d) + max_surge(d),
    }
}

/// The replicas the new ReplicaSet may have now (upstream's
/// `NewRSNewReplicas`): a RollingUpdate grows it until all ReplicaSets
/// together reach replicas + maxSurge, never past the replicas; a Recreate
/// gives it the full count at once.
pub fn new_rs_new_replicas(d: &Deployment, new_rs: &ReplicaSet, old_rses: &[ReplicaSet]) -> i32 {
    let replicas = desired(d);
    if !is_rolling_update(d) {
        return replicas;
    }
    let current: i32 = old_rses.iter().chain([new_rs]).map(spec_replicas).sum();
    let max_total = replicas + max_surge(d);
    if current >= max_total {
        return spec_replicas(new_rs);
    }
    let up = (max_total - current).min(replicas - spec_replicas(new_rs));
    spec_replicas(new_rs) + up
}

/// Whether the rollout is complete as upstream's `DeploymentComplete`
/// judges `status`: every replica updated and available, and the status
/// is of the current generation.
pub(crate) fn deployment_complete(d: &Deployment, status: Option<&DeploymentStatus>) -> bool {
    let replicas = desired(d);
    let field = |f: fn(&DeploymentStatus) -> Option<i32>| status.and_then(f).unwrap_or(0);
    field(|s| s.updated_replicas) == replicas
        && field(|s| s.replicas) == replicas
        && field(|s| s.available_replicas) == replicas
        && status.and_then(|s| s.observed_generation).unwrap_or(0)
            >= d.metadata.generation.unwrap_or(0)
}

fn prune(d: &Deployment, old_rses: &[ReplicaSet], plan: &mut Plan) {
    if deployment_complete(d, d.status.as_ref()) {
        let doomed = replica_sets_to_delete(d, old_rses);
        plan.actions.extend(
            doomed
                .into_iter()
                .map(|name| Action::DeleteReplicaSet { name }),
        );
    }
}

/// One step of a RollingUpdate: create the new ReplicaSet if `new_rs` is
/// absent, then scale it up if maxSurge allows; if it did not move, scale
/// the old ones down if maxUnavailable allows; if nothing moved and the
/// rollout is complete, delete old ReplicaSets past the history limit.
/// `old_rses` are all the Deployment's other ReplicaSets.
pub fn rolling_plan(d: &Deployment, new_rs: Option<&ReplicaSet>, old_rses: &[ReplicaSet]) -> Plan {
    let mut plan = Plan::default();
    let new_rs = match new_rs {
        Some(rs) => rs.clone(),
        None => {
            let rs = new_replica_set(d, old_rses);
            plan.actions
                .push(Action::CreateReplicaSet(Box::new(rs.clone())));
            rs
        }
    };
    if let Some(action) = reconcile_new_replica_set(d, &new_rs, old_rses) {
        plan.actions.push(action);
        return plan;
    }
    let scaled_down = reconcile_old_replica_sets(d, &new_rs, old_rses);
    if scaled_down.is_empty() {
        prune(d, old_rses, &mut plan);
    }
    plan.actions.extend(scaled_down);
    plan
}

fn reconcile_new_replica_set(
    d: &Deployment,
    new_rs: &ReplicaSet,
    old_rses: &[ReplicaSet],
) -> Option<Action> {
    let replicas = desired(d);
    match spec_replicas(new_rs).cmp(&replicas) {
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Greater => scale_to(d, new_rs, replicas),
        std::cmp::Ordering::Less => scale_to(d, new_rs, new_rs_new_replicas(d, new_rs, old_rses)),
    }
}

/// An old ReplicaSet as scaled so far in this step.
struct Old<'a> {
    rs: &'a ReplicaSet,
    replicas: i32,
}

fn reconcile_old_replica_sets(
    d: &Deployment,
    new_rs: &ReplicaSet,
    old_rses: &[ReplicaSet],
) -> Vec<Action> {
    let mut active: Vec<Old> = old_rses
        .iter()
        .filter(|rs| spec_replicas(rs) > 0)
        .map(|rs| Old {
            rs,
            replicas: spec_replicas(rs),
        })
        .collect();
    if active.is_empty() {
        return Vec::new();
    }
    active.sort_by(|a, b| by_creation(a.rs, b.rs));
    let all_pods: i32 = old_rses.iter().chain([new_rs]).map(spec_replicas).sum();
    let min_available = desired(d) - max_unavailable(d);
    let new_unavailable = spec_replicas(new_rs) - available(new_rs);
    // The new ReplicaSet's unavailable pods count against the budget, so
    // that a crashlooping new revision never lets the old one shrink.
    let max_scaled_down = all_pods - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Vec::new();
    }
    let mut actions = Vec::new();
    if !cleanup_unhealthy(d, &mut active, max_scaled_down, &mut actions) {
        // Upstream gives up on the scale-down for this sync.
        return actions;
    }
    let available_pods: i32 = old_rses.iter().chain([new_rs]).map(available).sum();
    scale_down_old(d, &mut active, available_pods - min_available, &mut actions);
    actions
}

/// Removes the old ReplicaSets' unavailable pods first, oldest ReplicaSet
/// first: they cost no availability, and left alone they would block the
/// rollout. False when a ReplicaSet has more available pods than replicas,
/// where upstream stops.
fn cleanup_unhealthy(
    d: &Deployment,
    active: &mut [Old],
    budget: i32,
    actions: &mut Vec<Action>,
) -> bool {
    let mut done = 0;
    for old in active.iter_mut() {
        if done >= budget {
            break;
        }
        let unhealthy = old.replicas - available(old.rs);
        if old.replicas == 0 || unhealthy == 0 {
            continue;
        }
        if unhealthy < 0 {
            return false;
        }
        let count = (budget - done).min(unhealthy);
        actions.push(scale_from(d, old, old.replicas - count));
        old.replicas -= count;
        done += count;
    }
    true
}

/// Scales old ReplicaSets down, oldest first, by as many available pods
/// as there are above the minimum availability.
fn scale_down_old(d: &Deployment, active: &mut [Old], budget: i32, actions: &mut Vec<Action>) {
    let mut done = 0;
    for old in active.iter_mut() {
        if done >= budget {
            break;
        }
        if old.replicas == 0 {
            continue;
        }
        let count = old.replicas.min(budget - done);
        actions.push(scale_from(d, old, old.replicas - count));
        old.replicas -= count;
        done += count;
    }
}

fn scale_from(d: &Deployment, old: &Old, to: i32) -> Action {
    let mut action = scale_action(d, old.rs, to, Direction::Down);
    if let Action::ScaleReplicaSet { from, .. } = &mut action {
        *from = old.replicas;
    }
    action
}

/// Whether pods of old ReplicaSets may still run (upstream's
/// `oldPodsRunning`): an old ReplicaSet still counts pods, or one of
/// `pods` controlled by an old ReplicaSet has not finished.
pub fn old_pods_running(old_rses: &[ReplicaSet], pods: &[Pod]) -> bool {
    if old_rses.iter().map(status_replicas).sum::<i32>() > 0 {
        return true;
    }
    let old_uids: Vec<&str> = old_rses
        .iter()
        .filter_map(|rs| rs.metadata.uid.as_deref())
        .collect();
    pods.iter().any(|pod| {
        let owner = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true));
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        owner.is_some_and(|o| old_uids.contains(&o.uid.as_str()))
            && !matches!(phase, Some("Failed" | "Succeeded"))
    })
}

/// One step of a Recreate: scale every old ReplicaSet to zero; once that
/// is done and no old pod runs (`old_pods_running`), create the new
/// ReplicaSet or scale it to the full size; once complete, prune.
pub fn recreate_plan(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old_rses: &[ReplicaSet],
    old_pods_running: bool,
) -> Plan {
    let mut plan = Plan::default();
    let active = old_rses.iter().filter(|rs| spec_replicas(rs) > 0);
    plan.actions
        .extend(active.filter_map(|rs| scale_to(d, rs, 0)));
    if !plan.actions.is_empty() || old_pods_running {
        return plan;
    }
    match new_rs {
        None => plan
            .actions
            .push(Action::CreateReplicaSet(Box::new(new_replica_set(
                d, old_rses,
            )))),
        Some(rs) => plan.actions.extend(scale_to(d, rs, desired(d))),
    }
    prune(d, old_rses, &mut plan);
    plan
}

#[cfg(test)]
#[path = "rolling_tests.rs"]
mod tests;
