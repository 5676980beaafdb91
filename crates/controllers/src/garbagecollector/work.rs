//! The workers: each takes a piece of [`Work`] off the queue, reads what
//! it needs live (the item, each owner by name), asks [`super::decide`]
//! what to do and does it through the collector's own client. A failure
//! (a 409 included) brings the work back after a backoff; a 404 on a
//! write means the object went already.

use std::sync::Arc;

use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::ResourceExt;
use kube::api::{
    Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions, PropagationPolicy,
};
use serde_json::Value;

use super::decide::{self, Foreground, Found, Latest, Owner, Plan, Propagation};
use super::graph::{Change, FOREGROUND, Identity, ORPHAN};
use super::queue::Work;
use super::run::{Kind, Shared};

/// Errors of one piece of work; it is tried again.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server refused or failed.
    #[error("failed to reach the API server: {0}")]
    Api(#[from] kube::Error),
    /// A reference's kind is not served (yet: a CRD may come).
    #[error("failed to find the kind {kind} of {api_version}")]
    NoKind {
        /// The reference's apiVersion.
        api_version: String,
        /// Its kind.
        kind: String,
    },
}

/// How a piece of work ended.
enum Done {
    /// Finished.
    Forget,
    /// To be looked at again (a virtual node not yet observed).
    Again,
}

/// One worker, until the collector is dropped.
pub async fn worker(shared: Arc<Shared>) {
    loop {
        let work = shared.queue.next().await;
        let result = match &work {
            Work::Delete(uid) => attempt_delete(&shared, uid).await,
            Work::Orphan(uid) => attempt_orphan(&shared, uid).await,
        };
        let failed = match result {
            Ok(Done::Forget) => false,
            Ok(Done::Again) => true,
            Err(err) => {
                tracing::debug!(?work, error = %err, "garbage collection failed");
                true
            }
        };
        shared.queue.done(work, failed);
    }
}

/// The dynamic API of `kind` in `namespace` ("" when cluster-scoped).
fn api(shared: &Shared, kind: &Kind, namespace: &str) -> Api<DynamicObject> {
    if kind.namespaced {
        Api::namespaced_with(shared.writer.clone(), namespace, &kind.resource)
    } else {
        Api::all_with(shared.writer.clone(), &kind.resource)
    }
}

fn kind_of(shared: &Shared, api_version: &str, kind: &str) -> Result<Kind, Error> {
    shared.kind(api_version, kind).ok_or_else(|| Error::NoKind {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
    })
}

/// The live metadata of `name`; `None` when it is not found.
async fn read(api: &Api<DynamicObject>, name: &str) -> Result<Option<Latest>, Error> {
    let Some(object) = api.get_metadata_opt(name).await? else {
        return Ok(None);
    };
    Ok(Some(Latest {
        uid: object.metadata.uid.clone().unwrap_or_default(),
        resource_version: object.resource_version().unwrap_or_default(),
        owners: object.owner_references().to_vec(),
        finalizers: object.finalizers().to_vec(),
        being_deleted: object.metadata.deletion_timestamp.is_some(),
    }))
}

/// Upstream's `attemptToDeleteItem` for the node `uid`.
async fn attempt_delete(shared: &Shared, uid: &str) -> Result<Done, Error> {
    let Some(node) = shared.graph().node(uid).cloned() else {
        return Ok(Done::Forget);
    };
    // Being deleted without waiting for dependents: its deletion, once
    // seen, brings its dependents here.
    if node.being_deleted && !node.deleting_dependents {
        return Ok(Done::Forget);
    }
    let identity = &node.identity;
    let kind = kind_of(shared, &identity.api_version, &identity.kind)?;
    let Some(namespace) = decide::owner_namespace(&identity.namespace, kind.namespaced) else {
        return Ok(Done::Forget);
    };
    let items = api(shared, &kind, namespace);
    let latest = match read(&items, &identity.name).await? {
        Some(latest) if latest.uid == identity.uid => latest,
        _ => {
            shared.apply(Change::Absent(identity.clone()));
            return Ok(Done::Forget);
        }
    };
    if node.deleting_dependents {
        let next = decide::deleting_dependents(&shared.graph(), uid);
        match next {
            Foreground::RemoveFinalizer => {
                remove_finalizer(&items, &identity.name, &latest, FOREGROUND).await?;
            }
            Foreground::Attempt(uids) => {
                uids.into_iter()
                    .for_each(|d| shared.queue.add(Work::Delete(d)));
            }
        }
        return Ok(Done::Forget);
    }
    let mut owners = Vec::with_capacity(latest.owners.len());
    for reference in &latest.owners {
        match classify(shared, identity, reference).await? {
            Some(state) => owners.push((reference.clone(), state)),
            None => return Ok(Done::Forget),
        }
    }
    let (has_dependents, dependent_deleting) = {
        let graph = shared.graph();
        let dependents = graph.dependents(uid);
        let deleting = dependents.iter().any(|d| d.deleting_dependents);
        (!dependents.is_empty(), deleting)
    };
    match decide::attempt_to_delete(&latest, &owners, has_dependents, dependent_deleting) {
        Plan::Keep => {}
        Plan::RemoveReferences(patch) => merge(&items, &identity.name, &patch).await?,
        Plan::Delete {
            unblock,
            propagation,
        } => {
            if let Some(patch) = unblock {
                merge(&items, &identity.name, &patch).await?;
            }
            delete(&items, identity, &latest, propagation).await?;
        }
    }
    Ok(if node.observed {
        Done::Forget
    } else {
        Done::Again
    })
}

/// How `reference` of `dependent` stands, looked up live by name;
/// `None` when a cluster-scoped dependent names a namespaced owner.
async fn classify(
    shared: &Shared,
    dependent: &Identity,
    reference: &OwnerReference,
) -> Result<Option<Owner>, Error> {
    let kind = kind_of(shared, &reference.api_version, &reference.kind)?;
    let Some(namespace) = decide::owner_namespace(&dependent.namespace, kind.namespaced) else {
        tracing::info!(%dependent, "a cluster-scoped object refers to a namespaced owner");
        return Ok(None);
    };
    let owner = read(&api(shared, &kind, namespace), &reference.name).await?;
    let found = owner.map(|o| Found {
        uid: o.uid,
        being_deleted: o.being_deleted,
        finalizers: o.finalizers,
    });
    Ok(Some(decide::classify(reference, found.as_ref())))
}

/// Upstream's `attemptToOrphanWorker`: every dependent of `uid` loses its
/// reference to it, then the owner's `orphan` finalizer goes.
async fn attempt_orphan(shared: &Shared, uid: &str) -> Result<Done, Error> {
    let (owner, dependents) = {
        let graph = shared.graph();
        let Some(owner) = graph.node(uid).map(|n| n.identity.clone()) else {
            return Ok(Done::Forget);
        };
        let dependents: Vec<Identity> = graph
            .dependents(uid)
            .into_iter()
            .map(|d| d.identity.clone())
            .collect();
        (owner, dependents)
    };
    for dependent in dependents {
        let kind = kind_of(shared, &dependent.api_version, &dependent.kind)?;
        let items = api(shared, &kind, &dependent.namespace);
        let Some(latest) = read(&items, &dependent.name).await? else {
            continue;
        };
        if latest.uid != dependent.uid {
            continue;
        }
        if let Some(patch) = decide::orphan(&latest, uid) {
            merge(&items, &dependent.name, &patch).await?;
        }
    }
    let kind = kind_of(shared, &owner.api_version, &owner.kind)?;
    let items = api(shared, &kind, &owner.namespace);
    match read(&items, &owner.name).await? {
        Some(latest) if latest.uid == owner.uid => {
            remove_finalizer(&items, &owner.name, &latest, ORPHAN).await?;
        }
        _ => {}
    }
    Ok(Done::Forget)
}

async fn remove_finalizer(
    items: &Api<DynamicObject>,
    name: &str,
    latest: &Latest,
    finalizer: &str,
) -> Result<(), Error> {
    match decide::remove_finalizer(latest, finalizer) {
        Some(patch) => merge(items, name, &patch).await,
        None => Ok(()),
    }
}

/// A JSON merge patch; a 404 means the object went already.
async fn merge(items: &Api<DynamicObject>, name: &str, patch: &Value) -> Result<(), Error> {
    match items
        .patch_metadata(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Upstream's `deleteObject`: guarded by uid and resourceVersion; on a
/// conflict, when only the resourceVersion moved and the references are
/// the same, again with the uid alone.
async fn delete(
    items: &Api<DynamicObject>,
    identity: &Identity,
    latest: &Latest,
    propagation: Propagation,
) -> Result<(), Error> {
    let params = |resource_version: Option<String>| DeleteParams {
        propagation_policy: Some(match propagation {
            Propagation::Background => PropagationPolicy::Background,
            Propagation::Foreground => PropagationPolicy::Foreground,
            Propagation::Orphan => PropagationPolicy::Orphan,
        }),
        preconditions: Some(Preconditions {
            uid: Some(identity.uid.clone()),
            resource_version,
        }),
        ..DeleteParams::default()
    };
    let guarded = params(Some(latest.resource_version.clone()));
    let result = match items.delete(&identity.name, &guarded).await {
        Err(kube::Error::Api(status)) if status.code == 409 => {
            match read(items, &identity.name).await? {
                None => return Ok(()),
                Some(live) if live.uid == identity.uid && live.owners == latest.owners => {
                    items.delete(&identity.name, &params(None)).await
                }
                Some(_) => return Err(Error::Api(kube::Error::Api(status))),
            }
        }
        other => other,
    };
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(err) => Err(err.into()),
    }
}
