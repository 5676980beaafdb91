//! Deleting objects: preconditions, propagation finalizers, graceful pod
//! deletion, and objects held by finalizers.

use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use keelson_api::strategy::Propagation;
use keelson_store::StoreError;
use serde::Deserialize;
use serde_json::Value;

use super::store_error;
use super::{Objects, encode};
use crate::meta::{finalizers, meta_str, set_meta};

/// The `DeleteOptions` a client sends (body or query).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    pub propagation_policy: Option<String>,
    pub grace_period_seconds: Option<i64>,
    pub preconditions: Option<Preconditions>,
    #[serde(default)]
    pub dry_run: Vec<String>,
    pub orphan_dependents: Option<bool>,
}

/// Conditions the object must meet to be deleted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// The outcome of a delete.
#[derive(Debug)]
pub enum Deleted {
    /// The object is gone; this is its last state.
    Gone(Value),
    /// The object stays for now (finalizers, graceful deletion), marked
    /// with a deletionTimestamp.
    Pending(Value),
}

impl Objects {
    /// Deletes an object as `options` say.
    pub async fn delete(
        &self,
        resource: &'static ResourceInfo,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<Deleted, ApiError> {
        let key = registry::storage_key(resource, namespace, name);
        let dry_run = options.dry_run.iter().any(|d| d == "All");
        loop {
            let (mut object, kv) = self.read(resource, namespace, name).await?;
            check_preconditions(resource, name, &object, options)?;
            let write = super::admission::Attributes {
                operation: super::admission::Operation::Delete,
                resource,
                namespace: (!namespace.is_empty()).then_some(namespace),
                name,
                subresource: None,
                old: Some(&object),
                dry_run,
            };
            self.validate_only(&write, &object).await?;
            let before = object.clone();
            let held = self.mark_deleting(resource, &mut object, options)?;
            // Deleting what is already being deleted, as it is, writes nothing.
            if dry_run || (held && object == before) {
                return Ok(if held {
                    Deleted::Pending(object)
                } else {
                    Deleted::Gone(object)
                });
            }
            let result = if held {
                self.store
                    .update(&key, encode(resource, &object), kv.mod_revision)
                    .await
                    .map(Some)
            } else {
                self.store
                    .delete(&key, Some(kv.mod_revision))
                    .await
                    .map(|_| None)
            };
            match result {
                Ok(Some(kv)) => {
                    let pending = super::decode(resource, &kv)?;
                    self.deletion_started(resource, &pending).await;
                    return Ok(Deleted::Pending(pending));
                }
                Ok(None) => {
                    self.deleted(resource, &object).await;
                    return Ok(Deleted::Gone(object));
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(err) => return Err(store_error(err, resource.group, resource.plural, name)),
            }
        }
    }

    /// Adds the propagation finalizer and deletion marks; returns whether
    /// the object must stay for now.
    fn mark_deleting(
        &self,
        resource: &ResourceInfo,
        object: &mut Value,
        options: &DeleteOptions,
    ) -> Result<bool, ApiError> {
        let strategy = resource.strategy;
        let already = !meta_str(object, "deletionTimestamp").is_empty();
        let policy = propagation(options)?.unwrap_or_else(|| strategy.default_propagation());
        let mut list = finalizers(object);
        let added = policy.finalizer().into_iter();
        for finalizer in added.chain(strategy.deletion_finalizers().iter().copied()) {
            if !already && !list.iter().any(|f| f == finalizer) {
                list.push(finalizer.to_string());
                set_meta(object, "finalizers", Some(Value::from(list.clone())));
            }
        }
        let grace = strategy.grace_period(object, options.grace_period_seconds);
        // A namespace stays while its `spec.finalizers` (the namespace
        // controller's `kubernetes`) remain, Terminating.
        let held = !strategy.deletion_holders(object).is_empty();
        if list.is_empty() && grace <= 0 && !held {
            return Ok(false);
        }
        let grace = grace.max(0);
        // A later delete may shorten a grace period, never lengthen it.
        let shorter = already
            && grace > 0
            && object["metadata"]["deletionGracePeriodSeconds"]
                .as_i64()
                .is_some_and(|current| grace < current);
        if !already || shorter {
            mark_deletion_time(object, grace);
        }
        if !already {
            // As upstream: watchers of the generation see the deletion start.
            if let Some(generation) = object["metadata"]["generation"].as_i64().filter(|g| *g > 0) {
                set_meta(object, "generation", Some(Value::from(generation + 1)));
            }
            strategy.begin_deletion(object);
        }
        Ok(true)
    }
}

/// The propagation policy a delete names, if any.
fn propagation(options: &DeleteOptions) -> Result<Option<Propagation>, ApiError> {
    let policy = options
        .propagation_policy
        .as_deref()
        .or(match options.orphan_dependents {
            Some(true) => Some("Orphan"),
            _ => None,
        });
    match policy {
        None => Ok(None),
        Some("Background") => Ok(Some(Propagation::Background)),
        Some("Orphan") => Ok(Some(Propagation::Orphan)),
        Some("Foreground") => Ok(Some(Propagation::Foreground)),
        Some(other) => Err(ApiError::bad_request(format!(
            "propagationPolicy {other:?} is not supported: use Background, Foreground or Orphan"
        ))),
    }
}

/// Sets the deletion timestamp `grace` seconds from now, and the grace.
fn mark_deletion_time(object: &mut Value, grace: i64) {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(grace);
    let at = jiff::Timestamp::from_second(at.as_second()).unwrap_or(at);
    set_meta(
        object,
        "deletionTimestamp",
        Some(Value::from(at.to_string())),
    );
    set_meta(
        object,
        "deletionGracePeriodSeconds",
        Some(Value::from(grace)),
    );
}

fn check_preconditions(
    resource: &ResourceInfo,
    name: &str,
    object: &Value,
    options: &DeleteOptions,
) -> Result<(), ApiError> {
    let Some(preconditions) = &options.preconditions else {
        return Ok(());
    };
    if let Some(uid) = &preconditions.uid
        && uid != meta_str(object, "uid")
    {
        let why = format!(
            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
            meta_str(object, "uid")
        );
        return Err(ApiError::conflict_because(
            resource.group,
            resource.plural,
            name,
            &why,
        ));
    }
    if let Some(rv) = &preconditions.resource_version
        && rv != meta_str(object, "resourceVersion")
    {
        let why = format!(
            "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
            meta_str(object, "resourceVersion")
        );
        return Err(ApiError::conflict_because(
            resource.group,
            resource.plural,
            name,
            &why,
        ));
    }
    Ok(())
}
