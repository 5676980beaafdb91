//! What a kind takes from the cluster's shared pools when its objects are
//! stored, and gives back when they are not or are deleted: a Service's
//! cluster IPs and node ports, as upstream's service storage allocates in
//! its create and update hooks. The object layer calls the hooks it was
//! given around every store write; the hooks themselves live in the
//! registry layer above.

use async_trait::async_trait;
use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::Value;

use super::Objects;
use super::admission::Attributes;

/// One storage hook. Every method leaves other kinds' objects alone.
#[async_trait]
pub trait StoreHook: Send + Sync {
    /// On update, before admission: fills in what the stored object was
    /// given and the client left out (its allocated addresses).
    async fn prepare_update(&self, _write: &Attributes<'_>, _object: &mut Value) {}

    /// After admission and validation, before the write is stored: takes
    /// what the object needs and records it in the object. With a dry run
    /// it only checks.
    async fn before_store(
        &self,
        _objects: &Objects,
        _write: &Attributes<'_>,
        _object: &mut Value,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// The object [`StoreHook::before_store`] prepared was stored (as
    /// `object`, with its resourceVersion): lets go of what the stored
    /// object held before and no longer does.
    async fn stored(&self, _objects: &Objects, _write: &Attributes<'_>, _object: &Value) {}

    /// The object [`StoreHook::before_store`] prepared was not stored
    /// (the write failed or lost a race): gives back what it took.
    async fn not_stored(&self, _objects: &Objects, _write: &Attributes<'_>, _object: &Value) {}

    /// `object` was deleted from the store: gives back what it held.
    async fn deleted(&self, _objects: &Objects, _resource: &ResourceInfo, _object: &Value) {}

    /// `object`'s deletion has begun (finalizers or a grace period hold it).
    async fn deletion_started(&self, _resource: &ResourceInfo, _object: &Value) {}
}

impl Objects {
    pub(crate) async fn prepare_update(&self, write: &Attributes<'_>, object: &mut Value) {
        for hook in self.hooks.iter() {
            hook.prepare_update(write, object).await;
        }
    }

    pub(crate) async fn before_store(
        &self,
        write: &Attributes<'_>,
        object: &mut Value,
    ) -> Result<(), ApiError> {
        for (done, hook) in self.hooks.iter().enumerate() {
            if let Err(err) = hook.before_store(self, write, object).await {
                for taken in &self.hooks[..done] {
                    taken.not_stored(self, write, object).await;
                }
                return Err(err);
            }
        }
        Ok(())
    }

    pub(crate) async fn stored(&self, write: &Attributes<'_>, object: &Value) {
        for hook in self.hooks.iter() {
            hook.stored(self, write, object).await;
        }
    }

    pub(crate) async fn not_stored(&self, write: &Attributes<'_>, object: &Value) {
        for hook in self.hooks.iter() {
            hook.not_stored(self, write, object).await;
        }
    }

    pub(crate) async fn deletion_started(&self, resource: &ResourceInfo, object: &Value) {
        for hook in self.hooks.iter() {
            hook.deletion_started(resource, object).await;
        }
    }

    pub(crate) async fn deleted(&self, resource: &ResourceInfo, object: &Value) {
        for hook in self.hooks.iter() {
            hook.deleted(self, resource, object).await;
        }
    }
}
