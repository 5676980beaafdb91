//! The Deployment controller's loop: what carries out [`super::reconcile`]'s
//! plans against the API server.
//!
//! Level-triggered on Deployments, their ReplicaSets and (for Recreate,
//! which waits for old pods to be gone) the pods of those, through the
//! shared caches. A sync claims the Deployment's ReplicaSets (adoption and
//! release by selector), asks for the plan, and makes its writes in order,
//! stopping at the first that fails: the new ReplicaSet's create (a name
//! taken by another template bumps `status.collisionCount`, as upstream),
//! scales with their `ScalingReplicaSet` events, annotation updates,
//! the revision, old revisions' deletes; then the status.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use keelson_api::k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_api::label_selector::Selector;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use serde_json::json;

use super::claim::claim;
use super::reconcile::without_hash;
use super::rolling::Action as Step;
use super::status::{new_condition, set_condition};
use super::{Plan, progress_deadline, reconcile};
use crate::framework::{self, Context, Error, Event, EventType, Informer, error_text};
use crate::pods::controller_of;

/// Upstream's `--concurrent-deployment-syncs`.
const WORKERS: u16 = 5;
/// Upstream's reason for a failed create of the new ReplicaSet.
pub const FAILED_RS_CREATE: &str = "ReplicaSetCreateError";
/// Upstream's warning of a Deployment whose selector is empty.
pub const SELECTING_ALL: &str = "SelectingAll";

struct State {
    context: Context,
    deployments: Informer<Deployment>,
    replica_sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
}

/// The Deployment controller, subscribed to the caches of `context`; it
/// runs when the future is polled, until it is dropped.
pub fn deployments(context: Context) -> impl Future<Output = ()> + Send + 'static {
    let informers = context.informers.clone();
    let state = Arc::new(State {
        deployments: informers.get::<Deployment>(),
        replica_sets: informers.get::<ReplicaSet>(),
        pods: informers.get::<Pod>(),
        context,
    });
    let by_set = state.deployments.store().clone();
    let by_pod = (
        state.deployments.store().clone(),
        state.replica_sets.store().clone(),
    );
    let controller = Controller::for_shared_stream(
        state.deployments.objects(),
        state.deployments.store().clone(),
    )
    .with_config(Config::default().concurrency(WORKERS))
    .watches_shared_stream(state.replica_sets.objects(), move |rs| {
        deployments_of(&by_set, &rs)
    })
    .watches_shared_stream(state.pods.objects(), move |pod| {
        pod_deployment(&by_pod.1, &pod)
    });
    framework::drive(controller, state, sync)
}

/// The Deployments a ReplicaSet change concerns: its controller, or for an
/// orphan, those of its namespace whose selector matches it.
fn deployments_of(deployments: &Store<Deployment>, rs: &ReplicaSet) -> Vec<ObjectRef<Deployment>> {
    let namespace = rs.metadata.namespace.clone().unwrap_or_default();
    if let Some(owner) = controller_of(rs.metadata.owner_references.as_ref()) {
        return if owner.kind == "Deployment" {
            vec![ObjectRef::new(&owner.name).within(&namespace)]
        } else {
            Vec::new()
        };
    }
    let no_labels = BTreeMap::new();
    let labels = rs.metadata.labels.as_ref().unwrap_or(&no_labels);
    deployments
        .state()
        .into_iter()
        .filter(|d| d.metadata.namespace.as_deref() == Some(namespace.as_str()))
        .filter(|d| selector(d).is_some_and(|s| !s.is_everything() && s.matches(labels)))
        .map(|d| ObjectRef::from_obj(&*d))
        .collect()
}

/// The Deployment of a pod's ReplicaSet, if it has one.
fn pod_deployment(replica_sets: &Store<ReplicaSet>, pod: &Pod) -> Option<ObjectRef<Deployment>> {
    let owner = controller_of(pod.metadata.owner_references.as_ref())?;
    if owner.kind != "ReplicaSet" {
        return None;
    }
    let namespace = pod.metadata.namespace.as_deref()?;
    let rs = replica_sets.get(&ObjectRef::new(&owner.name).within(namespace))?;
    let parent = controller_of(rs.metadata.owner_references.as_ref())?;
    (parent.kind == "Deployment").then(|| ObjectRef::new(&parent.name).within(namespace))
}

fn selector(d: &Deployment) -> Option<Selector> {
    Selector::from_optional_label_selector(d.spec.as_ref().map(|s| &s.selector)).ok()
}

async fn sync(d: Arc<Deployment>, state: Arc<State>) -> Result<Action, Error> {
    let namespace = d.namespace().unwrap_or_default();
    let Some(selector) = selector(&d) else {
        tracing::info!(
            deployment = d.name_any(),
            "the selector does not convert; not synced"
        );
        return Ok(Action::await_change());
    };
    if selector.is_everything() {
        return selecting_all(&d, &state).await;
    }
    let in_namespace: Vec<Arc<ReplicaSet>> = state
        .replica_sets
        .store()
        .state()
        .into_iter()
        .filter(|rs| rs.metadata.namespace.as_deref() == Some(namespace.as_str()))
        .collect();
    let refs: Vec<&ReplicaSet> = in_namespace.iter().map(|rs| &**rs).collect();
    let claimed = claim(&d, &selector, &refs);
    let sets: Api<ReplicaSet> = Api::namespaced(state.context.client.clone(), &namespace);
    for (name, patch) in claimed.adopt.iter().chain(&claimed.release) {
        let patched = sets
            .patch(name, &PatchParams::default(), &Patch::Strategic(patch))
            .await;
        match patched {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if matches!(status.code, 404 | 422) => {}
            Err(err) => return Err(err.into()),
        }
    }
    let uids: Vec<&str> = claimed
        .owned
        .iter()
        .filter_map(|rs| rs.metadata.uid.as_deref())
        .collect();
    let pods: Vec<Pod> = state
        .pods
        .store()
        .state()
        .into_iter()
        .filter(|pod| {
            pod.metadata.namespace.as_deref() == Some(namespace.as_str())
                && controller_of(pod.metadata.owner_references.as_ref())
                    .is_some_and(|o| uids.contains(&o.uid.as_str()))
        })
        .map(|pod| (*pod).clone())
        .collect();
    let now = jiff::Timestamp::now();
    let plan = reconcile(&d, &claimed.owned, &pods, now);
    carry_out(&d, &plan, &claimed.owned, &state, now).await?;
    if let Some(status) = &plan.status {
        write_status(&d, status.clone(), &state).await?;
    }
    Ok(match plan.requeue_after {
        Some(after) => Action::requeue(Duration::try_from(after).unwrap_or(Duration::from_secs(1))),
        None => Action::await_change(),
    })
}

/// An empty selector would select every pod: upstream warns and only
/// records that it saw the generation.
async fn selecting_all(d: &Deployment, state: &State) -> Result<Action, Error> {
    let message = "This deployment is selecting all pods. A non-empty selector is required.";
    let event = Event::new(EventType::Warning, SELECTING_ALL, message.to_string());
    state.context.events.publish(d, event).await;
    let generation = d.metadata.generation;
    let mut status = d.status.clone().unwrap_or_default();
    if status.observed_generation != generation {
        status.observed_generation = generation;
        write_status(d, status, state).await?;
    }
    Ok(Action::await_change())
}

async fn write_status(
    d: &Deployment,
    status: DeploymentStatus,
    state: &State,
) -> Result<(), Error> {
    let api: Api<Deployment> = Api::namespaced(
        state.context.client.clone(),
        &d.namespace().unwrap_or_default(),
    );
    let mut next = d.clone();
    next.status = Some(status);
    let written = api
        .replace_status(&d.name_any(), &PostParams::default(), &next)
        .await;
    framework::ignore_not_found(written)?;
    Ok(())
}

/// Makes the plan's writes in order, stopping at the first failure.
async fn carry_out(
    d: &Deployment,
    plan: &Plan,
    owned: &[ReplicaSet],
    state: &State,
    now: jiff::Timestamp,
) -> Result<(), Error> {
    let namespace = d.namespace().unwrap_or_default();
    let client = &state.context.client;
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), &namespace);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
    for step in &plan.actions {
        match step {
            Step::CreateReplicaSet(rs) => create(d, rs, &sets, state, now).await?,
            Step::ScaleReplicaSet {
                name,
                to,
                desired_replicas,
                max_replicas,
                ..
            } => {
                let patch = json!({
                    "metadata": {"annotations": {
                        super::DESIRED_REPLICAS_ANNOTATION: desired_replicas.to_string(),
                        super::MAX_REPLICAS_ANNOTATION: max_replicas.to_string(),
                    }},
                    "spec": {"replicas": to},
                });
                sets.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
            }
            Step::UpdateReplicaSet {
                name,
                annotations,
                min_ready_seconds,
            } => {
                let mut wanted: serde_json::Map<String, serde_json::Value> = annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                let before = owned
                    .iter()
                    .find(|rs| rs.metadata.name.as_deref() == Some(name));
                let old = before.and_then(|rs| rs.metadata.annotations.as_ref());
                for key in old.into_iter().flat_map(|a| a.keys()) {
                    wanted.entry(key.clone()).or_insert(serde_json::Value::Null);
                }
                let patch = json!({
                    "metadata": {"annotations": wanted},
                    "spec": {"minReadySeconds": min_ready_seconds},
                });
                sets.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
            }
            Step::SetDeploymentRevision(revision) => {
                // An update, as the controller's role allows (no patch):
                // a stale cached Deployment answers 409 and syncs again.
                let mut next = d.clone();
                next.metadata
                    .annotations
                    .get_or_insert_default()
                    .insert(super::REVISION_ANNOTATION.to_string(), revision.clone());
                deployments
                    .replace(&d.name_any(), &PostParams::default(), &next)
                    .await?;
            }
            Step::DeleteReplicaSet { name } => {
                framework::ignore_not_found(sets.delete(name, &DeleteParams::background()).await)?;
            }
        }
        if let Some(event) = step.event() {
            let type_ = if event.type_ == "Warning" {
                EventType::Warning
            } else {
                EventType::Normal
            };
            let recorded = Event::new(type_, event.reason, event.message);
            state.context.events.publish(d, recorded).await;
        }
    }
    Ok(())
}

/// Creates the new ReplicaSet. A ReplicaSet of that name with the same
/// template and controller is the one wanted; one with another template
/// is a hash collision, which bumps `status.collisionCount` so that the
/// next sync names it differently. Any other failure is told in the
/// Progressing condition and a `ReplicaSetCreateError` event.
async fn create(
    d: &Deployment,
    rs: &ReplicaSet,
    sets: &Api<ReplicaSet>,
    state: &State,
    now: jiff::Timestamp,
) -> Result<(), Error> {
    let name = rs.name_any();
    let err = match sets.create(&PostParams::default(), rs).await {
        Ok(made) => {
            let replicas = made.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
            if replicas > 0 {
                let message = format!("Scaled up replica set {name} from 0 to {replicas}");
                let event = Event::new(EventType::Normal, "ScalingReplicaSet", message);
                state.context.events.publish(d, event).await;
            }
            return Ok(());
        }
        Err(err) => err,
    };
    if matches!(&err, kube::Error::Api(status) if status.code == 409) {
        let existing = sets.get_opt(&name).await?;
        let same = existing.as_ref().is_some_and(|found| {
            let controlled = controller_of(found.metadata.owner_references.as_ref())
                .is_some_and(|o| Some(&o.uid) == d.metadata.uid.as_ref());
            let template = |rs: &ReplicaSet| {
                rs.spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .map(without_hash)
            };
            controlled && template(found) == template(rs)
        });
        if same {
            return Ok(());
        }
        let mut status = d.status.clone().unwrap_or_default();
        status.collision_count = Some(status.collision_count.unwrap_or(0).saturating_add(1));
        write_status(d, status, state).await?;
        return Err(Error::Conflict(format!(
            "a replica set named {name} exists with another template"
        )));
    }
    let message = format!(
        "Failed to create new replica set {name:?}: {}",
        error_text(&err)
    );
    if progress_deadline(d).is_some() {
        let mut status = d.status.clone().unwrap_or_default();
        let condition = new_condition(
            super::PROGRESSING,
            "False",
            FAILED_RS_CREATE,
            message.clone(),
            now,
        );
        set_condition(&mut status, condition);
        write_status(d, status, state).await?;
    }
    let event = Event::new(EventType::Warning, FAILED_RS_CREATE, message);
    state.context.events.publish(d, event).await;
    Err(err.into())
}
