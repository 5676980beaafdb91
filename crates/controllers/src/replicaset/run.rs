//! The ReplicaSet controller's loop: what carries out [`super::reconcile`]'s
//! plans against the API server, for ReplicaSets and, converted to them as
//! upstream's replication controller does, ReplicationControllers.
//!
//! Level-triggered on the owners and their pods through the shared caches.
//! Each pod change lowers the owner's [`Expectations`] (a create seen, a
//! deletion seen) before it enqueues the owner; a sync reads its pods from
//! the cache, and creates or deletes only when every write of its last
//! sync has been seen, so that a lagging cache never makes it create or
//! delete twice. Creates go in slow-start batches that stop at the first
//! failure; every write records upstream's event; the status carries the
//! `ReplicaFailure` condition of a failed create or delete.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use keelson_api::k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use keelson_api::k8s_openapi::api::core::v1::{
    Pod, ReplicationController, ReplicationControllerStatus,
};
use keelson_api::label_selector::Selector;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use super::{Expectations, Observed, OwnerKind, Plan, pod_key, reconcile, status_after};
use crate::framework::{self, Cached, Change, Context, Error, Informer, error_text, key};
use crate::pods::controller_of;

/// Upstream's `--concurrent-replicaset-syncs` and `--concurrent-rc-syncs`.
const WORKERS: u16 = 5;

/// A kind the ReplicaSet controller's code runs for.
pub trait Owner:
    Cached + serde::Serialize + Resource<Scope = kube::core::NamespaceResourceScope>
{
    /// Which kind, for the pods' controller references.
    const KIND: OwnerKind;
    /// The owner as a ReplicaSet (itself, or converted).
    fn to_replica_set(&self) -> ReplicaSet;
    /// The owner with `status`, to write back.
    fn with_status(&self, status: ReplicaSetStatus) -> Result<Self, Error>;
}

impl Owner for ReplicaSet {
    const KIND: OwnerKind = OwnerKind::ReplicaSet;

    fn to_replica_set(&self) -> ReplicaSet {
        self.clone()
    }

    fn with_status(&self, status: ReplicaSetStatus) -> Result<Self, Error> {
        let mut next = self.clone();
        next.status = Some(status);
        Ok(next)
    }
}

/// A ReplicationController is a ReplicaSet whose selector is a map of
/// labels and whose status has the same fields.
impl Owner for ReplicationController {
    const KIND: OwnerKind = OwnerKind::ReplicationController;

    fn to_replica_set(&self) -> ReplicaSet {
        let spec = self.spec.clone().unwrap_or_default();
        let selector = spec.selector.or_else(|| {
            let template = spec.template.as_ref()?;
            template.metadata.as_ref()?.labels.clone()
        });
        let status = self.status.as_ref().and_then(|status| {
            serde_json::to_value(status)
                .and_then(serde_json::from_value)
                .ok()
        });
        ReplicaSet {
            metadata: self.metadata.clone(),
            spec: Some(keelson_api::k8s_openapi::api::apps::v1::ReplicaSetSpec {
                replicas: spec.replicas,
                min_ready_seconds: spec.min_ready_seconds,
                selector:
                    keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector {
                        match_labels: selector,
                        match_expressions: None,
                    },
                template: spec.template,
            }),
            status,
        }
    }

    fn with_status(&self, status: ReplicaSetStatus) -> Result<Self, Error> {
        let converted: ReplicationControllerStatus = serde_json::to_value(status)
            .and_then(serde_json::from_value)
            .map_err(|e| Error::Api(format!("failed to convert the status: {e}")))?;
        let mut next = self.clone();
        next.status = Some(converted);
        Ok(next)
    }
}

/// What the loop of one kind shares between its syncs.
struct State<K: Owner> {
    context: Context,
    owners: Informer<K>,
    pods: Informer<Pod>,
    /// The ReplicaSets, for the pods of ReplicaSets under the same
    /// Deployment (ranking by node when scaling down).
    replica_sets: Informer<ReplicaSet>,
    expectations: Arc<Mutex<Expectations>>,
}

/// The ReplicaSet controller, subscribed to the caches of `context`; it
/// runs when the future is polled, until it is dropped.
pub fn replica_sets(context: Context) -> impl Future<Output = ()> + Send + 'static {
    controller::<ReplicaSet>(context)
}

/// The ReplicationController controller (the same code, on converted
/// objects).
pub fn replication_controllers(context: Context) -> impl Future<Output = ()> + Send + 'static {
    controller::<ReplicationController>(context)
}

fn controller<K: Owner>(context: Context) -> impl Future<Output = ()> + Send + 'static {
    let informers = context.informers.clone();
    let state = Arc::new(State {
        owners: informers.get::<K>(),
        pods: informers.get::<Pod>(),
        replica_sets: informers.get::<ReplicaSet>(),
        expectations: Arc::new(Mutex::new(Expectations::new())),
        context,
    });
    let expectations = state.expectations.clone();
    let owners = state.owners.subscribe().map(move |change| {
        if let Change::Deleted(owner) = &change {
            lock(&expectations).forget(&key(&**owner));
        }
        change.into_object()
    });
    let expectations = state.expectations.clone();
    let pods = state.pods.subscribe().map(move |change| {
        observe::<K>(&expectations, &change);
        change.into_object()
    });
    let store = state.owners.store().clone();
    let controller = Controller::for_shared_stream(owners, store.clone())
        .with_config(Config::default().concurrency(WORKERS))
        .watches_shared_stream(pods, move |pod| owners_of::<K>(&store, &pod));
    framework::drive(controller, state, sync::<K>)
}

fn lock(expectations: &Mutex<Expectations>) -> std::sync::MutexGuard<'_, Expectations> {
    expectations.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lowers the expectations of the pod's controller for what the change
/// shows: a create, or a deletion (begun or done).
fn observe<K: Owner>(expectations: &Mutex<Expectations>, change: &Change<Pod>) {
    let pod = change.object();
    let Some(owner) = controlled_by::<K>(pod) else {
        return;
    };
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
    let owner_key = format!("{namespace}/{}", owner.name);
    let mut expectations = lock(expectations);
    let deleting = pod.metadata.deletion_timestamp.is_some();
    match change {
        Change::Added(_) if !deleting => expectations.creation_observed(&owner_key),
        Change::Added(_) | Change::Updated(_) if deleting => {
            expectations.deletion_observed(&owner_key, &pod_key(pod));
        }
        Change::Deleted(_) => expectations.deletion_observed(&owner_key, &pod_key(pod)),
        _ => {}
    }
}

/// The pod's controller reference, if it names a controller of kind `K`.
fn controlled_by<K: Owner>(
    pod: &Pod,
) -> Option<&keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference> {
    let (api_version, kind) = K::KIND.type_meta();
    controller_of(pod.metadata.owner_references.as_ref())
        .filter(|owner| owner.kind == kind && owner.api_version == api_version)
}

/// The owners a pod change concerns: its controller, or, for an orphan,
/// every owner in its namespace whose selector matches it (which may adopt
/// it).
fn owners_of<K: Owner>(
    owners: &kube::runtime::reflector::Store<K>,
    pod: &Pod,
) -> Vec<ObjectRef<K>> {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    if controller_of(pod.metadata.owner_references.as_ref()).is_some() {
        return controlled_by::<K>(pod)
            .map(|owner| ObjectRef::new(&owner.name).within(&namespace))
            .into_iter()
            .collect();
    }
    let no_labels = Default::default();
    let labels = pod.metadata.labels.as_ref().unwrap_or(&no_labels);
    owners
        .state()
        .into_iter()
        .filter(|owner| owner.meta().namespace.as_deref() == Some(namespace.as_str()))
        .filter(|owner| selector_of(&owner.to_replica_set()).is_some_and(|s| s.matches(labels)))
        .map(|owner| ObjectRef::from_obj(&*owner))
        .collect()
}

fn selector_of(rs: &ReplicaSet) -> Option<Selector> {
    Selector::from_optional_label_selector(rs.spec.as_ref().map(|s| &s.selector)).ok()
}

/// The pods of `rs`'s namespace that it may claim (its own and orphans),
/// sorted by name, and those of every ReplicaSet under the same
/// controller, from the cache.
fn observed_pods<K: Owner>(state: &State<K>, rs: &ReplicaSet) -> (Vec<Pod>, Vec<Pod>) {
    let namespace = rs.metadata.namespace.as_deref();
    let uid = rs.metadata.uid.as_deref().unwrap_or("");
    let siblings: Vec<String> = match controller_of(rs.metadata.owner_references.as_ref()) {
        Some(parent) if K::KIND == OwnerKind::ReplicaSet => state
            .replica_sets
            .store()
            .state()
            .into_iter()
            .filter(|other| {
                other.metadata.namespace.as_deref() == namespace
                    && controller_of(other.metadata.owner_references.as_ref())
                        .is_some_and(|o| o.uid == parent.uid)
            })
            .filter_map(|other| other.metadata.uid.clone())
            .collect(),
        _ => Vec::new(),
    };
    let mut own = Vec::new();
    let mut related = Vec::new();
    for pod in state.pods.store().state() {
        if pod.metadata.namespace.as_deref() != namespace {
            continue;
        }
        let controller =
            controller_of(pod.metadata.owner_references.as_ref()).map(|o| o.uid.as_str());
        if controller.is_some_and(|c| siblings.iter().any(|s| s == c)) {
            related.push((*pod).clone());
        }
        if controller.is_none_or(|c| c == uid) {
            own.push((*pod).clone());
        }
    }
    let by_name = |a: &Pod, b: &Pod| a.metadata.name.cmp(&b.metadata.name);
    own.sort_by(by_name);
    related.sort_by(by_name);
    (own, related)
}

async fn sync<K: Owner>(owner: Arc<K>, state: Arc<State<K>>) -> Result<Action, Error> {
    let rs = owner.to_replica_set();
    let rs_key = key(&rs);
    let now = Timestamp::now();
    let satisfied = lock(&state.expectations).satisfied(&rs_key, now);
    let (pods, related) = observed_pods(&state, &rs);
    let observed = Observed {
        pods: &pods,
        related_pods: &related,
        expectations_satisfied: satisfied,
        owner: K::KIND,
    };
    let plan = match reconcile(&rs, observed, now) {
        Ok(plan) => plan,
        // Left alone until it changes, as upstream does.
        Err(err) => {
            tracing::info!(key = rs_key, error = %err, "not synced");
            return Ok(Action::await_change());
        }
    };
    let failure = carry_out(&*owner, &rs_key, &plan, &state, now).await?;
    let status = status_after(&rs, &plan.claimed, failure.as_deref(), now);
    if Some(&status) != rs.status.as_ref() {
        let namespace = rs.namespace().unwrap_or_default();
        let api: Api<K> = Api::namespaced(state.context.client.clone(), &namespace);
        let next = owner.with_status(status)?;
        let written = api
            .replace_status(&rs.name_any(), &PostParams::default(), &next)
            .await;
        framework::ignore_not_found(written)?;
    }
    Ok(match (failure, plan.requeue_after) {
        (Some(_), _) => Action::requeue(Duration::from_secs(1)),
        (None, Some(after)) => {
            Action::requeue(Duration::try_from(after).unwrap_or(Duration::from_secs(1)))
        }
        (None, None) => Action::await_change(),
    })
}

/// Adopts, releases, creates and deletes as `plan` says, recording each
/// write's event on `owner`; the message of the first failed create or
/// delete, if one failed.
async fn carry_out<K: Owner>(
    owner: &K,
    rs_key: &str,
    plan: &Plan,
    state: &State<K>,
    now: Timestamp,
) -> Result<Option<String>, Error> {
    let namespace = owner.meta().namespace.clone().unwrap_or_default();
    let write: Api<Pod> = Api::namespaced(state.context.client.clone(), &namespace);
    for patch in plan.adopt.iter().chain(&plan.release) {
        let patched = write
            .patch(
                &patch.name,
                &PatchParams::default(),
                &Patch::Strategic(&patch.patch),
            )
            .await;
        match patched {
            Ok(_) => {}
            // The pod is gone, or another pod took its name (the patch
            // carries the uid): nothing to claim.
            Err(kube::Error::Api(status)) if matches!(status.code, 404 | 422) => {}
            Err(err) => return Err(err.into()),
        }
    }
    let events = &state.context.events;
    let mut failure: Option<String> = None;
    if let Some(creates) = &plan.create {
        lock(&state.expectations).expect_creations(rs_key, creates.count, now);
        let post = PostParams::default();
        let mut left = creates.count;
        for batch in &creates.batches {
            let made =
                futures::future::join_all((0..*batch).map(|_| write.create(&post, &creates.pod)))
                    .await;
            left -= batch;
            for result in made {
                match result {
                    Ok(pod) => {
                        events
                            .publish(owner, super::events::created(&pod.name_any()))
                            .await
                    }
                    Err(err) => {
                        lock(&state.expectations).creation_observed(rs_key);
                        if terminating(&err) {
                            continue;
                        }
                        let message = error_text(&err);
                        events
                            .publish(owner, super::events::failed_create(&message))
                            .await;
                        failure.get_or_insert(message);
                    }
                }
            }
            if failure.is_some() {
                break;
            }
        }
        // The creates never tried are not waited for.
        for _ in 0..left {
            lock(&state.expectations).creation_observed(rs_key);
        }
    }
    if !plan.delete.is_empty() {
        let keys = plan.delete.iter().map(|name| format!("{namespace}/{name}"));
        lock(&state.expectations).expect_deletions(rs_key, keys, now);
        let params = DeleteParams::default();
        let deletes = plan.delete.iter().map(|name| write.delete(name, &params));
        let done = futures::future::join_all(deletes).await;
        for (name, result) in plan.delete.iter().zip(done) {
            match result {
                Ok(_) => events.publish(owner, super::events::deleted(name)).await,
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(err) => {
                    let pod = format!("{namespace}/{name}");
                    lock(&state.expectations).deletion_observed(rs_key, &pod);
                    let message = error_text(&err);
                    events
                        .publish(owner, super::events::failed_delete(&message))
                        .await;
                    failure.get_or_insert(message);
                }
            }
        }
    }
    Ok(failure)
}

/// Whether a create failed because the namespace is being deleted, which
/// upstream neither reports nor counts as a failure.
fn terminating(err: &kube::Error) -> bool {
    let kube::Error::Api(status) = err else {
        return false;
    };
    let causes = status
        .details
        .as_ref()
        .map(|d| d.causes.as_slice())
        .unwrap_or(&[]);
    status.code == 403
        && causes
            .iter()
            .any(|cause| cause.reason == "NamespaceTerminating")
}
