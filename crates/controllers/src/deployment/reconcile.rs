//! One sync of a Deployment, in upstream's order (`syncDeployment`):
//! a Deployment being deleted only gets its status; pausing or resuming
//! sets its Progressing condition; a paused Deployment or one whose
//! replicas changed is only scaled (proportionally); otherwise its
//! strategy takes one step. Before that, an existing new ReplicaSet's
//! annotations and the Deployment's revision are brought up to date.
//!
//! The loop owns what needs the API: choosing the Deployment's
//! ReplicaSets (adoption and orphaning by selector), carrying out the
//! plan, bumping `status.collisionCount` when creating the new
//! ReplicaSet meets another of the same name but a different template
//! (and syncing again), and the expectations that keep a lagging cache
//! from acting twice.

use keelson_api::k8s_openapi::api::apps::v1::{
    Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
};
use keelson_api::k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::hash::pod_template_hash;
use super::revision::{next_revision, replica_sets_to_delete, set_new_replica_set_annotations};
use super::rolling::{
    Action, Plan, new_rs_new_replicas, old_pods_running, recreate_plan, rolling_plan,
};
use super::scale::{is_scaling_event, scale};
use super::status::{
    PROGRESSING, calculate_status, get_condition, new_condition, paused_condition, reason,
    rollout_status, set_condition,
};
use super::{
    POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION, by_creation, is_paused, is_rolling_update, name,
    progress_deadline,
};

/// A template without its pod-template-hash label, an empty label map
/// counting as none (upstream compares semantically).
pub(crate) fn without_hash(template: &PodTemplateSpec) -> PodTemplateSpec {
    let mut template = template.clone();
    if let Some(meta) = template.metadata.as_mut()
        && let Some(labels) = meta.labels.as_mut()
    {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
        if labels.is_empty() {
            meta.labels = None;
        }
    }
    template
}

/// The Deployment's new ReplicaSet: the oldest whose template is the
/// Deployment's, the pod-template-hash label aside.
pub fn find_new_replica_set<'a>(
    d: &Deployment,
    replica_sets: &'a [ReplicaSet],
) -> Option<&'a ReplicaSet> {
    let wanted = without_hash(&d.spec.as_ref()?.template);
    let mut sorted: Vec<&ReplicaSet> = replica_sets.iter().collect();
    sorted.sort_by(|a, b| by_creation(a, b));
    sorted.into_iter().find(|rs| {
        rs.spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .is_some_and(|t| without_hash(t) == wanted)
    })
}

/// The new ReplicaSet to create for the Deployment's template: named
/// after the Deployment and the template's hash, the hash added to its
/// labels and selector, owned by the Deployment, with the replicas the
/// strategy allows now and the annotations of the next revision.
pub fn new_replica_set(d: &Deployment, old_rses: &[ReplicaSet]) -> ReplicaSet {
    let spec = d.spec.clone().unwrap_or_default();
    let collision_count = d.status.as_ref().and_then(|s| s.collision_count);
    let hash = pod_template_hash(&spec.template, collision_count);
    let mut template = spec.template;
    let meta = template.metadata.get_or_insert_default();
    meta.labels
        .get_or_insert_default()
        .insert(POD_TEMPLATE_HASH_LABEL.into(), hash.clone());
    let labels = meta.labels.clone();
    let mut selector = spec.selector;
    selector
        .match_labels
        .get_or_insert_default()
        .insert(POD_TEMPLATE_HASH_LABEL.into(), hash.clone());
    let deployment_name = d.metadata.name.clone().unwrap_or_default();
    let mut rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("{deployment_name}-{hash}")),
            namespace: d.metadata.namespace.clone(),
            labels,
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                name: deployment_name,
                uid: d.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(0),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    };
    let replicas = new_rs_new_replicas(d, &rs, old_rses);
    if let Some(spec) = rs.spec.as_mut() {
        spec.replicas = Some(replicas);
    }
    set_new_replica_set_annotations(d, &mut rs, &next_revision(old_rses).to_string(), false);
    rs
}

/// The plan of one sync of `d`, whose ReplicaSets are `replica_sets` and
/// their pods `pods` (only Recreate looks at pods), at `now`.
pub fn reconcile(
    d: &Deployment,
    replica_sets: &[ReplicaSet],
    pods: &[Pod],
    now: jiff::Timestamp,
) -> Plan {
    let found = find_new_replica_set(d, replica_sets);
    let old: Vec<ReplicaSet> = replica_sets
        .iter()
        .filter(|rs| found.is_none_or(|n| !std::ptr::eq(*rs, n)))
        .cloned()
        .collect();
    let mut plan = Plan::default();
    if d.metadata.deletion_timestamp.is_some() {
        plan.status = changed(d, calculate_status(d, found, &old, now));
        return plan;
    }
    let mut working = d.clone();
    if let Some(status) = paused_condition(&working, now) {
        working.status = Some(status);
    }
    let new_rs = found.map(|rs| sync_new_replica_set(&mut working, rs, &old, &mut plan, now));
    if is_paused(&working) || is_scaling_event(&working, new_rs.as_ref(), &old) {
        plan.actions.extend(scale(&working, new_rs.as_ref(), &old));
        if is_paused(&working) {
            let doomed = replica_sets_to_delete(&working, &old);
            plan.actions.extend(
                doomed
                    .into_iter()
                    .map(|name| Action::DeleteReplicaSet { name }),
            );
        }
        plan.status = changed(d, calculate_status(&working, new_rs.as_ref(), &old, now));
        return plan;
    }
    let step = if is_rolling_update(&working) {
        rolling_plan(&working, new_rs.as_ref(), &old)
    } else {
        recreate_plan(
            &working,
            new_rs.as_ref(),
            &old,
            old_pods_running(&old, pods),
        )
    };
    let created = step.actions.iter().find_map(|a| match a {
        Action::CreateReplicaSet(rs) => Some((**rs).clone()),
        _ => None,
    });
    plan.actions.extend(step.actions);
    if let Some(rs) = &created {
        record_created(&mut working, rs, &mut plan, now);
    }
    let new_rs = created.or(new_rs);
    let (status, requeue) = rollout_status(&working, new_rs.as_ref(), &old, now);
    plan.status = changed(d, status);
    if plan.status.is_none() {
        plan.requeue_after = requeue;
    }
    plan
}

/// The status to write, if it differs from the observed one.
fn changed(d: &Deployment, status: DeploymentStatus) -> Option<DeploymentStatus> {
    (d.status.as_ref() != Some(&status)).then_some(status)
}

/// Brings an existing new ReplicaSet's annotations and minReadySeconds
/// up to date; when they already are, the Deployment's revision, and a
/// first Progressing condition; returns the ReplicaSet as updated.
fn sync_new_replica_set(
    d: &mut Deployment,
    rs: &ReplicaSet,
    old: &[ReplicaSet],
    plan: &mut Plan,
    now: jiff::Timestamp,
) -> ReplicaSet {
    let mut rs = rs.clone();
    let annotated =
        set_new_replica_set_annotations(d, &mut rs, &next_revision(old).to_string(), true);
    let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
    let spec = rs.spec.get_or_insert_default();
    if annotated || spec.min_ready_seconds != min_ready {
        spec.min_ready_seconds = min_ready;
        plan.actions.push(Action::UpdateReplicaSet {
            name: name(&rs).to_owned(),
            annotations: rs.metadata.annotations.clone().unwrap_or_default(),
            min_ready_seconds: min_ready,
        });
        return rs;
    }
    let revision = rs
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
        .cloned();
    set_deployment_revision(d, &revision.unwrap_or_default(), plan);
    let has_deadline = progress_deadline(d).is_some();
    let status = d.status.get_or_insert_default();
    if has_deadline && get_condition(status, PROGRESSING).is_none() {
        let message = format!("Found new replica set {:?}", name(&rs));
        set_condition(
            status,
            new_condition(
                PROGRESSING,
                "True",
                reason::FOUND_NEW_REPLICA_SET,
                message,
                now,
            ),
        );
    }
    rs
}

/// After creating the new ReplicaSet: the Deployment's revision and the
/// NewReplicaSetCreated condition.
fn record_created(d: &mut Deployment, rs: &ReplicaSet, plan: &mut Plan, now: jiff::Timestamp) {
    let revision = rs
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
        .cloned();
    set_deployment_revision(d, &revision.unwrap_or_default(), plan);
    if progress_deadline(d).is_some() {
        let message = format!("Created new replica set {:?}", name(rs));
        let status = d.status.get_or_insert_default();
        set_condition(
            status,
            new_condition(
                PROGRESSING,
                "True",
                reason::NEW_REPLICA_SET_CREATED,
                message,
                now,
            ),
        );
    }
}

fn set_deployment_revision(d: &mut Deployment, revision: &str, plan: &mut Plan) {
    let annotations = d.metadata.annotations.get_or_insert_default();
    if annotations.get(REVISION_ANNOTATION).map(String::as_str) != Some(revision) {
        annotations.insert(REVISION_ANNOTATION.into(), revision.to_owned());
        plan.actions
            .push(Action::SetDeploymentRevision(revision.to_owned()));
    }
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
