//! The object layer between HTTP and the store: Kubernetes object semantics
//! (system metadata, generation, status separation, finalizers, graceful
//! deletion, preconditions, optimistic concurrency) for every resource.
//! Every write goes through [`Objects::create`], [`Objects::update`] or
//! [`Objects::delete`], so later kinds of writes (patch types, server-side
//! apply) extend one path.

mod create;
mod delete;
pub(crate) mod list;
mod update;

use std::sync::Arc;

use bytes::Bytes;
use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use keelson_store::{KeyValue, Store};
use serde_json::Value;

use crate::meta;
use crate::response::store_error;

pub use delete::{DeleteOptions, Deleted};
pub use list::ListOptions;
pub use update::Update;

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

/// Kinds whose objects carry `metadata.generation`.
const GENERATION_KINDS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
];

/// Kubernetes objects on a store.
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn Store>,
}

impl Objects {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Objects { store }
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

/// The object stored in `kv`, with its resourceVersion, kind and apiVersion.
pub fn decode(resource: &ResourceInfo, kv: &KeyValue) -> Result<Value, ApiError> {
    let mut object: Value = serde_json::from_slice(&kv.value)
        .map_err(|err| ApiError::internal(format!("stored object {} is damaged: {err}", kv.key)))?;
    object["kind"] = Value::from(resource.kind);
    object["apiVersion"] = Value::from(resource.api_version());
    meta::set_meta(
        &mut object,
        "resourceVersion",
        Some(Value::from(kv.mod_revision.to_string())),
    );
    Ok(object)
}

/// The bytes to store for `object`: without its resourceVersion, which the
/// store's revision supplies.
fn encode(object: &Value) -> Bytes {
    let mut copy = object.clone();
    meta::set_meta(&mut copy, "resourceVersion", None);
    Bytes::from(serde_json::to_vec(&copy).unwrap_or_default())
}

/// Whether objects of this resource carry a generation.
fn has_generation(resource: &ResourceInfo) -> bool {
    GENERATION_KINDS.contains(&resource.kind)
}

/// Whether the resource keeps `status` apart from the main resource.
fn has_status(resource: &ResourceInfo) -> bool {
    resource.subresource("status").is_some()
}

/// Parses a resourceVersion given by a client.
pub fn parse_resource_version(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|rv| *rv >= 0)
        .ok_or_else(|| ApiError::bad_request(format!("invalid resource version \"{text}\"")))
}

/// Per-kind defaults and validation, run on every create and update.
fn admit(resource: &ResourceInfo, object: &mut Value, old: Option<&Value>) -> Result<(), ApiError> {
    keelson_api::defaults::apply_defaults(resource, object);
    if resource.kind == "Job" && old.is_none() {
        let uid = crate::meta::meta_str(object, "uid").to_string();
        keelson_api::defaults::job_selector_defaults(object, &uid);
    }
    keelson_api::validate::validate(resource, object, old)
}
