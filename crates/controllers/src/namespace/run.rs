//! The Namespace controller's loop: level-triggered on Namespaces (a
//! kube-runtime [`Controller`] watching with the reader's identity); for
//! each one with a deletionTimestamp it reads the namespace again with the
//! controller's own identity, marks it Terminating, discovers what the
//! server serves (each group at its preferred version, so that one
//! failing group spoils only itself, as upstream's
//! `ServerPreferredNamespacedResources`), empties every deletable
//! namespaced resource through the dynamic API (one deletecollection
//! where the resource offers it, else a list and one delete each), counts
//! what is left, writes the conditions and then waits, retries or
//! finalizes as [`super::decide`] says. A failed pass is tried again with
//! a growing pause; one namespace's failure never stops the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use keelson_api::k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, PostParams, PropagationPolicy,
};
use kube::core::GroupVersion;
use kube::discovery::{self, Scope};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::{Decision, Pass, ResourceOutcome, Served};

/// The first pause after a failed pass; it doubles up to [`MAX_BACKOFF`].
const BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How many times a write that lost to another (409) is tried again.
const CONFLICT_RETRIES: usize = 5;

/// The loop's clients and each namespace's count of failed passes.
struct Context {
    writer: Client,
    failures: Mutex<HashMap<String, u32>>,
}

/// Errors of one pass, tried again with backoff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the API server failed.
    #[error("failed to reach the API server: {0}")]
    Api(#[from] kube::Error),
    /// Some content could not be discovered or deleted.
    #[error("failed to delete the namespace's content: {0}")]
    Content(String),
}

/// Runs the Namespace controller until the future is dropped: `reader`
/// watches the namespaces, `writer` (the namespace-controller's
/// identity) discovers, deletes and finalizes.
pub async fn run(reader: Client, writer: Client) {
    let context = Arc::new(Context {
        writer,
        failures: Mutex::default(),
    });
    Controller::new(Api::<Namespace>::all(reader), watcher::Config::default())
        .run(sync, backoff, context)
        .for_each(|_| async {})
        .await;
}

/// The Namespace controller on the manager's shared caches (one watch of
/// Namespaces for every controller), writing with the context's client.
pub fn shared(
    context: crate::framework::Context,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let namespaces = context.informers.get::<Namespace>();
    let state = Arc::new(Context {
        writer: context.client.clone(),
        failures: Mutex::default(),
    });
    Controller::for_shared_stream(namespaces.objects(), namespaces.store().clone())
        .run(sync, backoff, state)
        .for_each(|_| async {})
}

/// The pause after a failed pass: doubling with each failure in a row.
fn backoff(namespace: Arc<Namespace>, err: &Error, context: Arc<Context>) -> Action {
    let name = namespace.name_any();
    tracing::warn!(namespace = name, error = %err, "namespace deletion not finished");
    let mut failures = context
        .failures
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let count = failures.entry(name).or_default();
    let pause = BACKOFF
        .saturating_mul(2u32.saturating_pow(*count))
        .min(MAX_BACKOFF);
    *count = count.saturating_add(1);
    Action::requeue(pause)
}

async fn sync(namespace: Arc<Namespace>, context: Arc<Context>) -> Result<Action, Error> {
    let name = namespace.name_any();
    let action = delete_content(&name, &context.writer).await?;
    let mut failures = context
        .failures
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    failures.remove(&name);
    Ok(action)
}

/// One pass over the namespace `name`, as upstream's deleter's `Delete`.
async fn delete_content(name: &str, client: &Client) -> Result<Action, Error> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let Some(namespace) = namespaces.get_opt(name).await? else {
        return Ok(Action::await_change());
    };
    if namespace.metadata.deletion_timestamp.is_none() {
        return Ok(Action::await_change());
    };
    let Some(namespace) = mark_terminating(&namespaces, namespace).await? else {
        return Ok(Action::await_change());
    };
    let pass = sweep(client, name).await;
    write_conditions(&namespaces, &namespace, &pass).await;
    match super::decide(&pass) {
        Decision::Retry(why) => Err(Error::Content(why)),
        Decision::Requeue(seconds) => {
            tracing::debug!(namespace = name, seconds, "content remaining in namespace");
            Ok(Action::requeue(Duration::from_secs(seconds)))
        }
        Decision::Finalize => {
            finalize(&namespaces, namespace).await?;
            Ok(Action::await_change())
        }
    }
}

/// The namespace with its phase Terminating (written if it was not);
/// `None` once it is gone.
async fn mark_terminating(
    namespaces: &Api<Namespace>,
    namespace: Namespace,
) -> Result<Option<Namespace>, Error> {
    let phase = namespace.status.as_ref().and_then(|s| s.phase.as_deref());
    if phase == Some("Terminating") {
        return Ok(Some(namespace));
    }
    let mut next = namespace;
    for _ in 0..CONFLICT_RETRIES {
        next.status.get_or_insert_with(Default::default).phase = Some("Terminating".into());
        let name = next.name_any();
        match namespaces
            .replace_status(&name, &PostParams::default(), &next)
            .await
        {
            Ok(written) => return Ok(Some(written)),
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(None),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                match namespaces.get_opt(&name).await? {
                    Some(latest) => next = latest,
                    None => return Ok(None),
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(Error::Content("the namespace kept changing".into()))
}

/// Writes the pass's conditions if they change the namespace's; a failed
/// write is only logged, as upstream's, since the next pass writes again.
async fn write_conditions(namespaces: &Api<Namespace>, namespace: &Namespace, pass: &Pass) {
    let existing = namespace
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let wanted = super::conditions(pass);
    let Some(merged) = super::merge_conditions(&existing, &wanted, Timestamp::now()) else {
        return;
    };
    let mut next = namespace.clone();
    next.status.get_or_insert_with(Default::default).conditions = Some(merged);
    let name = namespace.name_any();
    if let Err(err) = namespaces
        .replace_status(&name, &PostParams::default(), &next)
        .await
    {
        tracing::info!(namespace = name, error = %err, "namespace conditions not written");
    }
}

/// Takes [`super::FINALIZER`] out of `spec.finalizers` through the
/// `finalize` subresource, read again and retried when it lost to another
/// write.
async fn finalize(namespaces: &Api<Namespace>, namespace: Namespace) -> Result<(), Error> {
    let mut current = namespace;
    for _ in 0..CONFLICT_RETRIES {
        let name = current.name_any();
        let spec = current.spec.get_or_insert_with(Default::default);
        let finalizers = spec.finalizers.clone().unwrap_or_default();
        if !finalizers.iter().any(|f| f == super::FINALIZER) {
            return Ok(());
        }
        spec.finalizers = Some(super::finalizers_after(&finalizers));
        let params = PostParams::default();
        match namespaces
            .replace_subresource("finalize", &name, &params, &current)
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                match namespaces.get_opt(&name).await? {
                    Some(latest) => current = latest,
                    None => return Ok(()),
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(Error::Content("the namespace kept changing".into()))
}

/// Discovers what the server serves and empties every deletable
/// namespaced resource of `namespace`.
async fn sweep(client: &Client, namespace: &str) -> Pass {
    let mut pass = Pass::default();
    let served = discover(client, &mut pass).await;
    let infos: Vec<Served> = served.iter().map(|(_, s)| s.clone()).collect();
    for chosen in super::deletable(&infos) {
        let Some((resource, _)) = served.iter().find(|(_, s)| s == chosen) else {
            continue;
        };
        let outcome = empty(client, namespace, resource, chosen).await;
        pass.resources.push(outcome);
    }
    pass
}

/// Every resource of the core group's `v1` and of each group's preferred
/// version; what failed is noted in `pass`.
async fn discover(client: &Client, pass: &mut Pass) -> Vec<(ApiResource, Served)> {
    let mut versions = vec!["v1".to_string()];
    match client.list_api_groups().await {
        Ok(groups) => versions.extend(groups.groups.into_iter().filter_map(|group| {
            let preferred = group.preferred_version.map(|v| v.group_version);
            preferred.or_else(|| group.versions.first().map(|v| v.group_version.clone()))
        })),
        Err(err) => pass.discovery_error = Some(err.to_string()),
    }
    let mut found = Vec::new();
    for version in versions {
        let gv: GroupVersion = match version.parse() {
            Ok(gv) => gv,
            Err(err) => {
                pass.parse_failures.push(format!("{err}"));
                continue;
            }
        };
        let group = match discovery::pinned_group(client, &gv).await {
            Ok(group) => group,
            Err(kube::Error::Discovery(kube::error::DiscoveryError::InvalidGroupVersion(why))) => {
                pass.parse_failures.push(why);
                continue;
            }
            Err(err) => {
                pass.discovery_failures.push((version, err.to_string()));
                continue;
            }
        };
        for (resource, capabilities) in group.recommended_resources() {
            let served = Served {
                group: resource.group.clone(),
                resource: resource.plural.clone(),
                namespaced: capabilities.scope == Scope::Namespaced,
                verbs: capabilities.operations.clone(),
            };
            found.push((resource, served));
        }
    }
    found
}

/// Deletes everything of one resource in `namespace` and says what is
/// left, as upstream's `deleteAllContentForGroupVersionResource`.
async fn empty(
    client: &Client,
    namespace: &str,
    resource: &ApiResource,
    served: &Served,
) -> ResourceOutcome {
    let failed = |err: kube::Error| ResourceOutcome {
        group: served.group.clone(),
        resource: served.resource.clone(),
        error: Some(err.to_string()),
        ..ResourceOutcome::default()
    };
    let estimate = match estimate(client, namespace, served).await {
        Ok(estimate) => estimate,
        Err(err) => return failed(err),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, resource);
    if let Err(err) = delete_all(&api, served).await {
        let mut outcome = failed(err);
        outcome.estimate = estimate;
        return outcome;
    }
    if !served.lists() {
        let mut outcome = super::resource_outcome(served, namespace, estimate, &[]);
        outcome.estimate = estimate;
        return outcome;
    }
    match api.list_metadata(&ListParams::default()).await {
        Ok(left) => {
            let finalizers: Vec<Vec<String>> = left
                .items
                .iter()
                .map(|item| item.metadata.finalizers.clone().unwrap_or_default())
                .collect();
            super::resource_outcome(served, namespace, estimate, &finalizers)
        }
        Err(err) => {
            let mut outcome = failed(err);
            outcome.estimate = estimate;
            outcome
        }
    }
}

/// How long the resource's objects will take to go: only pods say (their
/// grace periods), as upstream's estimate.
async fn estimate(client: &Client, namespace: &str, served: &Served) -> Result<i64, kube::Error> {
    if !(served.group.is_empty() && served.resource == "pods") {
        return Ok(0);
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let listed = pods.list(&ListParams::default()).await?;
    Ok(super::pod_estimate(&listed.items))
}

/// One deletecollection where the resource offers it (falling back to
/// deleting each when the server refuses it), else a list and one delete
/// each; dependents are deleted in the background, as upstream asks.
async fn delete_all(api: &Api<DynamicObject>, served: &Served) -> Result<(), kube::Error> {
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..DeleteParams::default()
    };
    if served.deletes_collections() {
        match api.delete_collection(&params, &ListParams::default()).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if matches!(status.code, 404 | 405) => {}
            Err(err) => return Err(err),
        }
    }
    if !served.lists() {
        return Ok(());
    }
    for item in api.list_metadata(&ListParams::default()).await?.items {
        match api.delete(&item.name_any(), &params).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
