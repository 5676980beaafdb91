//! Deleting objects: preconditions, propagation finalizers, graceful pod
//! deletion, and objects held by finalizers.

use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use keelson_store::StoreError;
use serde::Deserialize;
use serde_json::Value;

use super::{Objects, encode};
use crate::meta::{finalizers, meta_str, namespace_finalizers, set_meta};
use crate::response::store_error;

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

/// A pod's default grace period.
const DEFAULT_GRACE_SECONDS: i64 = 30;

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
                    .update(&key, encode(&object), kv.mod_revision)
                    .await
                    .map(Some)
            } else {
                self.store
                    .delete(&key, Some(kv.mod_revision))
                    .await
                    .map(|_| None)
            };
            match result {
                Ok(Some(kv)) => return Ok(Deleted::Pending(super::decode(resource, &kv)?)),
                Ok(None) => return Ok(Deleted::Gone(object)),
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
        let already = !meta_str(object, "deletionTimestamp").is_empty();
        let policy = options
            .propagation_policy
            .as_deref()
            .or(match options.orphan_dependents {
                Some(true) => Some("Orphan"),
                _ => None,
            });
        let finalizer = match policy {
            None | Some("Background") => None,
            Some("Orphan") => Some("orphan"),
            Some("Foreground") => Some("foregroundDeletion"),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "propagationPolicy {other:?} is not supported: use Background, Foreground or Orphan"
                )));
            }
        };
        let mut list = finalizers(object);
        if let Some(finalizer) = finalizer
            && !already
            && !list.iter().any(|f| f == finalizer)
        {
            list.push(finalizer.to_string());
            set_meta(object, "finalizers", Some(Value::from(list.clone())));
        }
        let graceful = resource.kind == "Pod" && self.pod_grace(object, options) > 0;
        // A namespace stays while its `spec.finalizers` (the namespace
        // controller's `kubernetes`) remain, Terminating.
        let finalizing = !namespace_finalizers(resource, object).is_empty();
        if list.is_empty() && !graceful && !finalizing {
            return Ok(false);
        }
        let grace = if graceful {
            self.pod_grace(object, options)
        } else {
            0
        };
        // A later delete may shorten a pod's grace period, never lengthen it.
        let shorter = already
            && graceful
            && object["metadata"]["deletionGracePeriodSeconds"]
                .as_i64()
                .is_some_and(|current| grace < current);
        if !already || shorter {
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
        if !already {
            // As upstream: watchers of the generation see the deletion start.
            if let Some(generation) = object["metadata"]["generation"].as_i64().filter(|g| *g > 0) {
                set_meta(object, "generation", Some(Value::from(generation + 1)));
            }
            if resource.kind == "Namespace" {
                object["status"]["phase"] = Value::from("Terminating");
            }
        }
        Ok(true)
    }

    /// The grace period a pod gets: none when it never ran on a node or
    /// has finished.
    fn pod_grace(&self, pod: &Value, options: &DeleteOptions) -> i64 {
        let scheduled = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let finished = matches!(
            pod.pointer("/status/phase").and_then(Value::as_str),
            Some("Succeeded" | "Failed")
        );
        if !scheduled || finished {
            return 0;
        }
        options.grace_period_seconds.unwrap_or_else(|| {
            pod.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(DEFAULT_GRACE_SECONDS)
        })
    }
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
