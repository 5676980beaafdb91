//! Admission: the steps every create and update passes before it is
//! stored, behind the object layer's [`Admission`] seam, listed in one
//! place ([`chain`]) in the order of upstream's default plugins. Each step
//! is one module and looks only at the resources it is about, as upstream's
//! plugins do; all of them leave subresource writes alone.
//!
//! Of upstream's default chain, these are here: NamespaceLifecycle,
//! ServiceAccount (which refuses pods whose account does not exist),
//! Priority, DefaultTolerationSeconds and DefaultStorageClass;
//! NodeRestriction joins them when the server authorizes nodes
//! (`Node,RBAC`, see [`crate::auth`]). LimitRanger and ResourceQuota come
//! with their controllers.

mod default_storage_class;
mod default_toleration_seconds;
mod namespace_lifecycle;
mod node_restriction;
mod priority;
mod service_account;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use serde_json::Value;

use super::served as resource;
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};
use crate::objects::hooks::StoreHook;
use crate::watch::Caches;

pub use default_storage_class::DefaultStorageClass;
pub use default_toleration_seconds::DefaultTolerationSeconds;
pub use namespace_lifecycle::NamespaceLifecycle;
pub use node_restriction::NodeRestriction;
pub use priority::Priority;
pub use service_account::ServiceAccount;

/// The names of the steps of [`chain`], in its order.
pub const PLUGINS: &[&str] = &[
    "NamespaceLifecycle",
    "ServiceAccount",
    "Priority",
    "DefaultTolerationSeconds",
    "DefaultStorageClass",
];

/// The admission steps of a keelson API server, in upstream's order. The
/// steps that read other objects read them from the server's watch caches
/// (upstream's plugins read informers), and from the store where a cache
/// does not have them yet.
pub fn chain(caches: &Caches) -> Chain {
    let lookups = Lookups {
        caches: caches.clone(),
        written: Arc::default(),
        found: Arc::default(),
    };
    Chain {
        steps: vec![
            Arc::new(NamespaceLifecycle::new(lookups.clone())),
            Arc::new(ServiceAccount::new(lookups.clone())),
            Arc::new(Priority::new(lookups.clone())),
            Arc::new(DefaultTolerationSeconds),
            Arc::new(DefaultStorageClass::new(lookups.clone())),
        ],
        hooks: vec![Arc::new(WrittenHere(lookups.written))],
    }
}

/// The admission steps, and the storage hooks that keep them told of what
/// is stored.
pub struct Chain {
    pub steps: Vec<Arc<dyn Admission>>,
    pub hooks: Vec<Arc<dyn StoreHook>>,
}

/// The resources steps read, whose writes here the caches must have seen
/// before steps read them there.
const LOOKED_UP: &[(&str, &str)] = &[
    ("", "namespaces"),
    ("", "serviceaccounts"),
    ("scheduling.k8s.io", "priorityclasses"),
    ("storage.k8s.io", "storageclasses"),
];

/// How long a step waits for a cache to catch up before it reads the
/// store instead.
const CATCH_UP: std::time::Duration = std::time::Duration::from_millis(500);

/// How steps read other objects: from the watch cache (upstream's plugins
/// read informers), but never older than this server's own last write of
/// that resource, so that a client sees its own changes (a namespace it
/// began to delete, a default class it made) at once.
#[derive(Clone)]
pub struct Lookups {
    caches: Caches,
    /// The revision of this server's last write of each looked-up resource.
    written: Arc<Mutex<HashMap<(&'static str, &'static str), i64>>>,
    /// The caches found so far, so that a lookup takes no shared lock.
    found: Arc<Mutex<HashMap<(&'static str, &'static str), CacheRef>>>,
}

type CacheRef = Arc<crate::watch::Cache>;

/// The storage hook that tells [`Lookups`] of writes.
struct WrittenHere(Arc<Mutex<HashMap<(&'static str, &'static str), i64>>>);

impl WrittenHere {
    fn note(&self, resource: &ResourceInfo, object: &Value) {
        let Some(&key) = LOOKED_UP
            .iter()
            .find(|(group, plural)| resource.group == *group && resource.plural == *plural)
        else {
            return;
        };
        let revision = object["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|rv| rv.parse::<i64>().ok())
            .unwrap_or(0);
        let mut written = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let last = written.entry(key).or_default();
        *last = (*last).max(revision);
    }
}

#[async_trait::async_trait]
impl StoreHook for WrittenHere {
    async fn stored(&self, _objects: &Objects, write: &Attributes<'_>, object: &Value) {
        self.note(write.resource, object);
    }

    async fn deletion_started(&self, resource: &ResourceInfo, object: &Value) {
        self.note(resource, object);
    }
}

impl Lookups {
    /// The cache of `resource`: the one found before while it works, else
    /// the server's (started or restarted).
    async fn cache_of(&self, resource: &'static ResourceInfo) -> Option<Arc<crate::watch::Cache>> {
        let key = (resource.group, resource.plural);
        let known = {
            let found = self.found.lock().unwrap_or_else(PoisonError::into_inner);
            found.get(&key).cloned()
        };
        if let Some(cache) = known.filter(|cache| cache.revision().is_some()) {
            return Some(cache);
        }
        let cache = self.caches.of(resource).await.ok()?;
        let mut found = self.found.lock().unwrap_or_else(PoisonError::into_inner);
        found.insert(key, Arc::clone(&cache));
        Some(cache)
    }

    /// The cache of `resource`, once it has seen this server's last write
    /// of it; `None` to read the store.
    async fn fresh_cache(
        &self,
        resource: &'static ResourceInfo,
    ) -> Option<Arc<crate::watch::Cache>> {
        let wanted = {
            let written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            written
                .get(&(resource.group, resource.plural))
                .copied()
                .unwrap_or(0)
        };
        let cache = self.cache_of(resource).await?;
        let deadline = tokio::time::Instant::now() + CATCH_UP;
        loop {
            match cache.revision() {
                Some(seen) if seen >= wanted => return Some(cache),
                Some(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                _ => return None,
            }
        }
    }

    /// Every object of the cluster-scoped `group`/`plural`.
    async fn list_all(
        &self,
        objects: &Objects,
        group: &str,
        plural: &str,
    ) -> Result<Vec<Value>, ApiError> {
        let resource = resource(group, plural)?;
        let prefix = registry::storage_prefix(resource, None);
        let cached = self.fresh_cache(resource).await;
        match cached.and_then(|cache| cache.objects_under(&prefix)) {
            Some(cached) => Ok(cached),
            None => list_live(objects, group, plural).await,
        }
    }

    /// One object, from the cache, else from the store (for one the cache
    /// has not seen yet); `NotFound` when there is none.
    async fn get(
        &self,
        objects: &Objects,
        resource: &'static ResourceInfo,
        namespace: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        let key = registry::storage_key(resource, namespace, name);
        let cached = self.fresh_cache(resource).await;
        match cached.and_then(|cache| cache.lookup(&key)) {
            Some(Some(object)) => Ok(object),
            _ => objects.get(resource, namespace, name).await,
        }
    }
}

/// Whether `write` creates (or, with `Operation::Update` in `operations`,
/// updates) an object of `group`/`plural` itself, not a subresource.
fn is_write_of(
    write: &Attributes<'_>,
    group: &str,
    plural: &str,
    operations: &[Operation],
) -> bool {
    write.subresource.is_none()
        && operations.contains(&write.operation)
        && write.resource.group == group
        && write.resource.plural == plural
}

/// Every object of the cluster-scoped `group`/`plural`, from the store.
async fn list_live(objects: &Objects, group: &str, plural: &str) -> Result<Vec<Value>, ApiError> {
    let resource = resource(group, plural)?;
    let mut list = objects
        .list(resource, None, &crate::objects::ListOptions::default())
        .await?;
    match list["items"].take() {
        Value::Array(items) => Ok(items),
        _ => Ok(Vec::new()),
    }
}

/// The forbidden (403) refusal of an admission step, worded as upstream's
/// `admission.NewForbidden`.
fn forbidden(write: &Attributes<'_>, why: &str) -> ApiError {
    let resource = write.resource;
    ApiError::forbidden(resource.group, resource.plural, write.name, why)
}

/// [`forbidden`] for a write of `object` whose name may still be to come:
/// named, as upstream's `NewForbidden` names it then, by its
/// `generateName` (`pods "web-" is forbidden: ...`).
fn forbidden_object(write: &Attributes<'_>, object: &Value, why: &str) -> ApiError {
    if !write.name.is_empty() {
        return forbidden(write, why);
    }
    let meta = &object["metadata"];
    let name = [&meta["name"], &meta["generateName"]]
        .into_iter()
        .filter_map(Value::as_str)
        .find(|name| !name.is_empty())
        .unwrap_or("Unknown");
    let resource = write.resource;
    ApiError::forbidden(resource.group, resource.plural, name, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_chain_is_its_named_plugins_in_order() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = keelson_store::open(&format!("embedded:{}", dir.path().display()))
            .await
            .expect("a store");
        let chain = chain(&Caches::new(store));
        let names: Vec<&str> = chain.steps.iter().map(|s| s.name()).collect();
        assert_eq!(names, PLUGINS);
    }
}
