//! What the plugin assumed before the API said so (upstream's assume
//! caches): volumes pre-bound to a claim and claims given a selected
//! node in Reserve, so that the next pods' cycles do not choose the same
//! volume before PreBind's writes come back through the watches. An
//! assumption gives way once the lister holds a newer version.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use keelson_api::k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::Resource;

/// Assumed objects of one kind, by key.
#[derive(Debug)]
pub(crate) struct Assumed<K> {
    objects: Mutex<HashMap<String, Arc<K>>>,
}

impl<K> Default for Assumed<K> {
    fn default() -> Self {
        Assumed {
            objects: Mutex::new(HashMap::new()),
        }
    }
}

/// The resource version as a number, for ordering (0 when unset).
fn version<K: Resource>(object: &K) -> u64 {
    let version = object.meta().resource_version.as_deref();
    version.and_then(|v| v.parse().ok()).unwrap_or(0)
}

impl<K: Resource> Assumed<K> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<K>>> {
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Assumes `object` under `key` until a newer version is listed.
    pub(crate) fn assume(&self, key: String, object: K) {
        self.lock().insert(key, Arc::new(object));
    }

    /// Forgets the assumption of `key`.
    pub(crate) fn restore(&self, key: &str) {
        self.lock().remove(key);
    }

    /// The version to use of `listed` (the lister's object of `key`):
    /// the assumed one, unless the lister has caught up past it.
    pub(crate) fn latest(&self, key: &str, listed: Arc<K>) -> Arc<K> {
        let mut objects = self.lock();
        match objects.get(key) {
            Some(assumed) if version(assumed.as_ref()) >= version(listed.as_ref()) => {
                assumed.clone()
            }
            Some(_) => {
                objects.remove(key);
                listed
            }
            None => listed,
        }
    }
}

/// The plugin's assumptions, shared by its cycles.
#[derive(Debug, Default)]
pub(crate) struct AssumeCache {
    pub(crate) volumes: Assumed<PersistentVolume>,
    pub(crate) claims: Assumed<PersistentVolumeClaim>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn volume(version: &str, claim: Option<&str>) -> PersistentVolume {
        let claim_ref = claim.map(|c| json!({"name": c, "namespace": "default"}));
        serde_json::from_value(json!({
            "metadata": {"name": "pv", "resourceVersion": version},
            "spec": {"claimRef": claim_ref},
        }))
        .expect("a volume")
    }

    #[test]
    fn an_assumption_holds_until_a_newer_version_is_listed() {
        let cache = AssumeCache::default();
        cache.volumes.assume("pv".into(), volume("5", Some("data")));
        let listed = |v: &str| Arc::new(volume(v, None));
        let claim_of =
            |pv: Arc<PersistentVolume>| pv.spec.as_ref().and_then(|s| s.claim_ref.clone());
        assert!(claim_of(cache.volumes.latest("pv", listed("5"))).is_some());
        assert!(claim_of(cache.volumes.latest("pv", listed("6"))).is_none());
        // Once given way, the assumption is gone for good.
        assert!(claim_of(cache.volumes.latest("pv", listed("5"))).is_none());
    }
}
