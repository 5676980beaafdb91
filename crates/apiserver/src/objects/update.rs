//! Updating objects: optimistic concurrency, status separation, generation,
//! finalizers, and finishing a deletion when the last finalizer goes.

use keelson_api::registry::{self, Absent, Owned, ResourceInfo, Serve};
use keelson_api::{ApiError, FieldError, FieldPath};
use keelson_store::StoreError;
use serde_json::Value;

use super::admission::{Attributes, Operation};
use super::store_error;
use super::{Objects, WriteOptions, encode};
use crate::fields::managed;
use crate::meta::{finalizers, meta_str, set_meta, spec_part};

/// How often an update without a client precondition is retried after
/// losing a race.
const MAX_RETRIES: usize = 16;

/// Who keeps an update's managedFields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// The write is recorded as an Update by the request's manager.
    Recorded,
    /// The change set them already (server-side apply).
    Given,
}

/// What an update is about.
pub struct Update<'a> {
    pub resource: &'static ResourceInfo,
    pub namespace: &'a str,
    pub name: &'a str,
    /// `Some("status")` for the status subresource (also `scale`,
    /// `binding`, and a namespace's `finalize`).
    pub subresource: Option<&'a str>,
}

impl Objects {
    /// Replaces an object with what `change` makes of the current one. The
    /// change runs again if another write wins the race, unless the new
    /// object names the resourceVersion it was based on (then the race is a
    /// 409 Conflict for the client to resolve).
    pub async fn update(
        &self,
        target: &Update<'_>,
        options: &WriteOptions,
        change: impl FnMut(&Value) -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        self.update_owned(target, options, Ownership::Recorded, change)
            .await
    }

    /// [`Objects::update`], with the managedFields kept as `ownership` says.
    pub async fn update_owned(
        &self,
        target: &Update<'_>,
        options: &WriteOptions,
        ownership: Ownership,
        mut change: impl FnMut(&Value) -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        let Update {
            resource,
            namespace,
            name,
            subresource,
        } = *target;
        let key = registry::storage_key(resource, namespace, name);
        for _ in 0..MAX_RETRIES {
            let (current, kv) = self.read(resource, namespace, name).await?;
            let mut desired = change(&current)?;
            super::create::check_type(resource, &mut desired)?;
            let precondition = match meta_str(&desired, "resourceVersion") {
                "" => None,
                rv => Some(super::parse_resource_version(rv)?),
            };
            if precondition.is_some_and(|rv| rv != kv.mod_revision) {
                return Err(ApiError::conflict(resource.group, resource.plural, name));
            }
            let given = managed::given_by_client(&desired);
            let serve = subresource
                .and_then(|name| resource.subresource(name))
                .map(|sub| sub.serve);
            let mut next = merge_update(resource, serve, &current, desired, name)?;
            let write = Attributes {
                operation: Operation::Update,
                resource,
                namespace: resource.namespaced.then_some(namespace),
                name,
                subresource,
                old: Some(&current),
                dry_run: options.dry_run,
            };
            // The scheduler's placement is stored as the binding made it,
            // past the pod-update rules (upstream binds with a storage
            // update, not a pod update).
            let admitted = serve != Some(Serve::Binding);
            if admitted {
                self.prepare_update(&write, &mut next).await;
                keelson_api::defaults::apply_defaults(resource, &mut next);
            }
            // managedFields record the client's change, not what admission
            // adds (upstream's field manager runs before admission too).
            let writer = managed::Writer {
                manager: options.manager(),
                subresource,
            };
            keep_managed_fields(resource, ownership, &writer, given, &current, &mut next);
            if admitted {
                // Defaulted above, before managedFields were recorded.
                self.mutate(&write, &mut next).await?;
                self.check(&write, &mut next).await?;
                next_generation(resource, &current, &mut next);
            }
            if unchanged(&current, &next) && !self.stale(resource, &key, name).await? {
                return Ok(current);
            }
            self.before_store(&write, &mut next).await?;
            if options.dry_run {
                return Ok(next);
            }
            let result = self
                .store_update(resource, &key, kv.mod_revision, &next)
                .await;
            if result.is_err() {
                self.not_stored(&write, &next).await;
            }
            match result {
                Ok(Some(kv)) => {
                    let stored = super::decode(resource, &kv)?;
                    self.stored(&write, &stored).await;
                    return Ok(stored);
                }
                Ok(None) => {
                    self.deleted(resource, &next).await;
                    return Ok(next);
                }
                Err(StoreError::Conflict { .. }) if precondition.is_none() => continue,
                Err(StoreError::NotFound { .. }) if precondition.is_none() => continue,
                Err(err) => return Err(store_error(err, resource.group, resource.plural, name)),
            }
        }
        Err(ApiError::conflict(resource.group, resource.plural, name))
    }

    /// Stores `next` over the revision it was made from; deletes it
    /// instead when it was being deleted and nothing holds it any more
    /// (`None` then).
    async fn store_update(
        &self,
        resource: &ResourceInfo,
        key: &str,
        revision: i64,
        next: &Value,
    ) -> Result<Option<keelson_store::KeyValue>, StoreError> {
        let finished = !meta_str(next, "deletionTimestamp").is_empty()
            && finalizers(next).is_empty()
            && resource.strategy.deletion_holders(next).is_empty();
        if finished {
            self.store.delete(key, Some(revision)).await.map(|_| None)
        } else {
            self.store
                .update(key, encode(resource, next), revision)
                .await
                .map(Some)
        }
    }
}

/// The managedFields of `next`: as the change gave them, or with this
/// write recorded as an Update by its manager.
fn keep_managed_fields(
    resource: &ResourceInfo,
    ownership: Ownership,
    writer: &managed::Writer<'_>,
    given: Option<Value>,
    current: &Value,
    next: &mut Value,
) {
    match ownership {
        Ownership::Given => set_meta(next, "managedFields", given),
        Ownership::Recorded => {
            // As upstream, a client may rewrite managedFields (kubectl
            // does when it moves client-side apply's fields to server-side
            // apply), except through a subresource.
            if writer.subresource.is_none()
                && let Some(given) = given
            {
                set_meta(next, "managedFields", Some(given));
            }
            managed::record_update(resource, writer, Some(current), next);
        }
    }
}

/// The object an update stores: the client's object with the fields it may
/// not change taken from the current one.
fn merge_update(
    resource: &ResourceInfo,
    serve: Option<Serve>,
    current: &Value,
    desired: Value,
    name: &str,
) -> Result<Value, ApiError> {
    check_identity(resource, current, &desired, name)?;
    let mut next = match serve {
        // The scheduler's placement: the binding made the whole object.
        Some(Serve::Binding) => return Ok(desired),
        // A status (or finalize) write changes nothing but what it owns.
        Some(Serve::Owns(owned)) => write_owned(current, &desired, owned),
        // A main-resource write changes everything but what they own.
        _ => keep_owned(resource, current, desired),
    };
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "managedFields",
    ] {
        set_meta(&mut next, field, current["metadata"].get(field).cloned());
    }
    check_no_new_finalizers(resource, current, &next, name)?;
    Ok(next)
}

/// A new generation when the change reaches beyond metadata and status.
/// Compared after defaulting, so fields a client left for the server to
/// fill in are no change.
fn next_generation(resource: &ResourceInfo, current: &Value, next: &mut Value) {
    if resource.strategy.has_generation() && spec_part(next) != spec_part(current) {
        let generation = current["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        set_meta(next, "generation", Some(Value::from(generation)));
    }
}

/// Refuses an object whose name or namespace is not the addressed one's.
fn check_identity(
    resource: &ResourceInfo,
    current: &Value,
    desired: &Value,
    name: &str,
) -> Result<(), ApiError> {
    let given = meta_str(desired, "name");
    if !given.is_empty() && given != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({given}) does not match the name on the URL ({name})"
        )));
    }
    let given = meta_str(desired, "namespace");
    if resource.namespaced && !given.is_empty() && given != meta_str(current, "namespace") {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// Refuses finalizers added to an object that is being deleted.
fn check_no_new_finalizers(
    resource: &ResourceInfo,
    current: &Value,
    next: &Value,
    name: &str,
) -> Result<(), ApiError> {
    let old_finalizers = finalizers(current);
    if !meta_str(current, "deletionTimestamp").is_empty()
        && finalizers(next).iter().any(|f| !old_finalizers.contains(f))
    {
        let cause = FieldError::forbidden(
            &FieldPath::new("metadata").child("finalizers"),
            "no new finalizers can be added if the object is being deleted",
        );
        return Err(ApiError::invalid(
            resource.group,
            resource.kind,
            name,
            &[cause],
        ));
    }
    Ok(())
}

/// The current object with the fields `owned` taken from `desired`.
fn write_owned(current: &Value, desired: &Value, owned: &[Owned]) -> Value {
    let mut next = current.clone();
    for field in owned {
        let value = json_at(desired, field.path).cloned();
        let value = value.unwrap_or_else(|| match field.absent {
            Absent::Null => Value::Null,
            Absent::EmptyList => Value::Array(Vec::new()),
        });
        set_at(&mut next, field.path, Some(value));
    }
    next
}

/// `desired` with the fields the resource's subresources own kept as they
/// are in `current`.
fn keep_owned(resource: &ResourceInfo, current: &Value, desired: Value) -> Value {
    let mut next = desired;
    for field in resource.subresource_owned() {
        set_at(&mut next, field.path, json_at(current, field.path).cloned());
    }
    next
}

fn json_at<'a>(object: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(object, |value, key| value.get(key))
}

/// Sets (or with `None` removes) the field at `path`, making the objects
/// on the way.
fn set_at(object: &mut Value, path: &[&str], value: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = object;
    for key in parents {
        let missing = at.get(key).is_none();
        if (value.is_none() && missing) || !(at.is_object() || at.is_null()) {
            return;
        }
        at = &mut at[*key];
    }
    match (value, at) {
        (Some(value), at @ (Value::Object(_) | Value::Null)) => at[*last] = value,
        (None, Value::Object(map)) => {
            map.remove(*last);
        }
        _ => {}
    }
}

/// True when an update would store the same object again.
fn unchanged(current: &Value, next: &Value) -> bool {
    let strip = |object: &Value| {
        let mut copy = object.clone();
        set_meta(&mut copy, "resourceVersion", None);
        copy
    };
    strip(current) == strip(next)
}
