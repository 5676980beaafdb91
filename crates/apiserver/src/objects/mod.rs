//! The object layer between HTTP and the store: Kubernetes object semantics
//! (system metadata, generation, status separation, finalizers, graceful
//! deletion, preconditions, optimistic concurrency) for every resource.
//! It names no kind: what differs by kind comes from the kind's strategy
//! and subresources in its registry entry.
//! Every write goes through [`Objects::create`], [`Objects::update`] or
//! [`Objects::delete`], so later kinds of writes (patch types, server-side
//! apply) extend one path.

pub mod admission;
pub(crate) mod apply;
pub(crate) mod create;
mod delete;
pub mod hooks;
pub(crate) mod list;
mod update;

use std::sync::Arc;

use bytes::Bytes;
use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use keelson_store::{KeyValue, Store, StoreError};
use serde_json::Value;

use crate::meta;

pub use delete::{DeleteOptions, Deleted};
pub use list::ListOptions;
pub use update::{Ownership, Update};

/// Options every write shares.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: do everything but store the result.
    pub dry_run: bool,
    /// Who writes: the `fieldManager` of the request, else the client's
    /// user agent up to the first '/'.
    pub field_manager: Option<String>,
}

impl WriteOptions {
    /// The manager recorded in managedFields.
    pub fn manager(&self) -> &str {
        self.field_manager
            .as_deref()
            .filter(|m| !m.is_empty())
            .unwrap_or("unknown")
    }
}

/// Kubernetes objects on a store.
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn Store>,
    /// The admission steps every write passes, in order.
    admission: Arc<[Arc<dyn admission::Admission>]>,
    /// What kinds take from shared pools around store writes.
    hooks: Arc<[Arc<dyn hooks::StoreHook>]>,
    /// The store's encryption at rest, which tells values to rewrite.
    encrypted: Option<Arc<crate::encryption::EncryptedStore>>,
}

impl Objects {
    /// Objects on `store`, with no admission steps.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Objects {
            store,
            admission: Arc::new([]),
            hooks: Arc::new([]),
            encrypted: None,
        }
    }

    /// The same objects, with `encrypted` (the store's encryption at rest,
    /// if any) asked whether an unchanged update must still be stored.
    pub fn with_encryption(
        self,
        encrypted: Option<Arc<crate::encryption::EncryptedStore>>,
    ) -> Self {
        Objects { encrypted, ..self }
    }

    /// Whether the value at `key` was written by a provider or key other
    /// than the one that writes now: an update that changes nothing still
    /// stores it then, so that rewriting objects rotates their key.
    async fn stale(
        &self,
        resource: &ResourceInfo,
        key: &str,
        name: &str,
    ) -> Result<bool, ApiError> {
        match &self.encrypted {
            Some(encrypted) => encrypted
                .stale(key)
                .await
                .map_err(|err| store_error(err, resource.group, resource.plural, name)),
            None => Ok(false),
        }
    }

    /// The same objects, every store write going through `hooks`.
    pub fn with_hooks(self, hooks: Vec<Arc<dyn hooks::StoreHook>>) -> Self {
        Objects {
            hooks: hooks.into(),
            ..self
        }
    }

    /// The same objects, every write passing `steps` in order.
    pub fn with_admission(self, steps: Vec<Arc<dyn admission::Admission>>) -> Self {
        Objects {
            admission: steps.into(),
            ..self
        }
    }

    /// The store underneath (for watches).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// One object.
    pub async fn get(
        &self,
        resource: &ResourceInfo,
        namespace: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        Ok(self.read(resource, namespace, name).await?.0)
    }

    /// One object as JSON bytes, without parsing it when possible.
    pub async fn get_raw(
        &self,
        resource: &ResourceInfo,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<u8>, ApiError> {
        let key = registry::storage_key(resource, namespace, name);
        let kv = self
            .store
            .get(&key)
            .await
            .map_err(|err| store_error(err, resource.group, resource.plural, name))?
            .ok_or_else(|| ApiError::not_found(resource.group, resource.plural, name))?;
        match raw(resource, &kv) {
            Some(bytes) => Ok(bytes),
            None => Ok(serde_json::to_vec(&decode(resource, &kv)?).unwrap_or_default()),
        }
    }

    /// One object and the store entry it came from.
    async fn read(
        &self,
        resource: &ResourceInfo,
        namespace: &str,
        name: &str,
    ) -> Result<(Value, KeyValue), ApiError> {
        let key = registry::storage_key(resource, namespace, name);
        let not_found = || ApiError::not_found(resource.group, resource.plural, name);
        let kv = self
            .store
            .get(&key)
            .await
            .map_err(|err| store_error(err, resource.group, resource.plural, name))?
            .ok_or_else(not_found)?;
        Ok((decode(resource, &kv)?, kv))
    }
}

/// The object stored in `kv`, in the resource's form (which the registry
/// converts when the store holds another resource's), with its
/// resourceVersion, kind and apiVersion.
pub fn decode(resource: &ResourceInfo, kv: &KeyValue) -> Result<Value, ApiError> {
    let stored: Value = serde_json::from_slice(&kv.value)
        .map_err(|err| ApiError::internal(format!("stored object {} is damaged: {err}", kv.key)))?;
    let mut object = resource.from_storage(stored);
    object["kind"] = Value::from(resource.kind);
    object["apiVersion"] = Value::from(resource.api_version());
    meta::set_meta(
        &mut object,
        "resourceVersion",
        Some(Value::from(kv.mod_revision.to_string())),
    );
    Ok(object)
}

/// The bytes to store for `object`: in the stored form of `resource`, and
/// without its resourceVersion, which the store's revision supplies.
///
/// `metadata` comes first, so that [`raw`] can add the resourceVersion to
/// the stored bytes without parsing them.
fn encode(resource: &ResourceInfo, object: &Value) -> Bytes {
    let mut copy = resource.to_storage(object.clone());
    meta::set_meta(&mut copy, "resourceVersion", None);
    let metadata = copy
        .as_object_mut()
        .and_then(|map| map.remove("metadata"))
        .unwrap_or_else(|| Value::Object(Default::default()));
    let rest = serde_json::to_vec(&copy).unwrap_or_default();
    let mut bytes = Vec::with_capacity(rest.len() + 256);
    bytes.extend_from_slice(b"{\"metadata\":");
    bytes.extend_from_slice(&serde_json::to_vec(&metadata).unwrap_or_default());
    match rest.as_slice() {
        b"{}" | b"" => bytes.push(b'}'),
        _ => {
            bytes.push(b',');
            bytes.extend_from_slice(&rest[1..]);
        }
    }
    Bytes::from(bytes)
}

/// The stored object as JSON bytes with its resourceVersion, without
/// parsing it; `None` if it was not stored by [`encode`], or is stored in
/// another resource's form (or, for a custom resource, maybe in another
/// version).
pub fn raw(resource: &ResourceInfo, kv: &KeyValue) -> Option<Vec<u8>> {
    const START: &[u8] = b"{\"metadata\":{";
    // A custom resource may be stored in another of its versions: it is
    // decoded, which gives it the apiVersion asked for.
    if !resource.stored_as_served() || resource.is_custom() {
        return None;
    }
    let rest = kv.value.strip_prefix(START)?;
    let mut out = Vec::with_capacity(kv.value.len() + 32);
    out.extend_from_slice(START);
    out.extend_from_slice(b"\"resourceVersion\":\"");
    out.extend_from_slice(kv.mod_revision.to_string().as_bytes());
    out.push(b'"');
    if rest.first() != Some(&b'}') {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    Some(out)
}

/// Whether the resource keeps `status` apart from the main resource.
fn has_status(resource: &ResourceInfo) -> bool {
    resource.subresource("status").is_some()
}

/// Maps a store failure about one object to the API error a client sees.
pub fn store_error(err: StoreError, group: &str, resource: &str, name: &str) -> ApiError {
    match err {
        StoreError::NotFound { .. } => ApiError::not_found(group, resource, name),
        StoreError::AlreadyExists { .. } => ApiError::already_exists(group, resource, name),
        StoreError::Conflict { .. } => ApiError::conflict(group, resource, name),
        StoreError::Compacted { .. } => ApiError::gone(format!(
            "The resourceVersion for the provided list is too old: {err}"
        )),
        StoreError::FutureRevision { requested, current } => ApiError::timeout(
            &format!("Too large resource version: {requested}, current: {current}"),
            1,
        ),
        StoreError::ValueTooLarge { .. } => {
            ApiError::too_large("the object is larger than the 1.5 MiB limit")
        }
        StoreError::Unavailable(message) => ApiError::service_unavailable(message),
        // A name too long to be a key names no object that could exist.
        StoreError::InvalidKey { .. } if !name.is_empty() => {
            ApiError::not_found(group, resource, name)
        }
        other => ApiError::internal(other),
    }
}

/// Parses a resourceVersion given by a client.
pub fn parse_resource_version(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|rv| *rv >= 0)
        .ok_or_else(|| ApiError::bad_request(format!("invalid resource version \"{text}\"")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kv(object: &Value) -> KeyValue {
        KeyValue {
            key: "/registry/core/configmaps/ns/a".into(),
            value: encode(
                registry::by_resource("", "configmaps").expect("registered"),
                object,
            ),
            create_revision: 7,
            mod_revision: 9,
            version: 2,
        }
    }

    #[test]
    fn raw_bytes_equal_the_decoded_object() {
        let configmaps = registry::by_resource("", "configmaps").expect("registered");
        for object in [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "3"}, "data": {"k": "\"metadata\":{"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
            json!({"metadata": {"name": "a"}}),
        ] {
            let kv = kv(&object);
            let raw: Value =
                serde_json::from_slice(&raw(configmaps, &kv).expect("stored by encode"))
                    .expect("valid JSON");
            let mut decoded = decode(configmaps, &kv).expect("decodes");
            if object.get("kind").is_none() {
                decoded
                    .as_object_mut()
                    .expect("object")
                    .retain(|k, _| k == "metadata");
            }
            assert_eq!(raw, decoded);
            assert_eq!(raw["metadata"]["resourceVersion"], "9");
        }
    }
}
