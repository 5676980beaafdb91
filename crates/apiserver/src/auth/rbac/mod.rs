//! The RBAC authorizer: decides requests on the Roles, ClusterRoles and
//! bindings of the cluster, read from the server's watch caches (as
//! upstream's authorizer reads informers) and turned into a [`Policy`]
//! once per change of them.
//!
//! A client that just wrote a binding through this server is decided on
//! that binding: the server notes the revision of its own RBAC writes
//! ([`Writes`], a storage hook), and a decision waits (briefly) for the
//! caches to reach it.

mod policy;
pub mod rules;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use serde_json::Value;

pub use policy::{Decision, Policy, RoleRef};

use crate::objects::Objects;
use crate::objects::admission::Attributes as Write;
use crate::objects::hooks::StoreHook;
use crate::watch::{Cache, Caches};

/// The API group of RBAC.
pub const GROUP: &str = "rbac.authorization.k8s.io";

/// The resources a policy is made of, in [`Policy::build`]'s order.
const RESOURCES: [&str; 4] = [
    "clusterroles",
    "roles",
    "clusterrolebindings",
    "rolebindings",
];

/// How long a decision waits for the caches to see this server's last
/// RBAC write before it uses what they have.
const CATCH_UP: std::time::Duration = std::time::Duration::from_millis(500);

type Revisions = [i64; 4];

/// A policy and what it was built from: the caches of [`RESOURCES`] and
/// their revisions then.
struct Built {
    caches: [Arc<Cache>; 4],
    revisions: Revisions,
    policy: Arc<Policy>,
}

impl Built {
    /// Whether the policy is still that of the caches, and they have seen
    /// the writes `wanted`: each cache is live (not failed) at the
    /// revision the policy was built at, and that is not behind.
    fn is_current(&self, wanted: &Revisions) -> bool {
        (0..RESOURCES.len()).all(|i| {
            let seen = self.revisions[i];
            seen >= wanted[i] && self.caches[i].revision() == Some(seen)
        })
    }
}

/// The RBAC authorizer of one server.
#[derive(Clone)]
pub struct Rbac {
    caches: Caches,
    writes: Writes,
    current: Arc<Mutex<Option<Arc<Built>>>>,
}

/// The revision of this server's last write of each RBAC resource, in
/// [`RESOURCES`]' order.
#[derive(Clone, Default)]
pub struct Writes(Arc<[AtomicI64; 4]>);

impl Writes {
    fn note(&self, resource: &ResourceInfo, object: &Value) {
        if resource.group != GROUP {
            return;
        }
        let Some(index) = RESOURCES.iter().position(|r| *r == resource.plural) else {
            return;
        };
        let revision = object["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|rv| rv.parse::<i64>().ok())
            .unwrap_or(0);
        self.0[index].fetch_max(revision, Ordering::AcqRel);
    }

    /// The revisions of the last writes, in [`RESOURCES`]' order.
    fn wanted(&self) -> Revisions {
        std::array::from_fn(|i| self.0[i].load(Ordering::Acquire))
    }
}

#[async_trait::async_trait]
impl StoreHook for Writes {
    async fn stored(&self, _objects: &Objects, write: &Write<'_>, object: &Value) {
        self.note(write.resource, object);
    }

    async fn deleted(&self, _objects: &Objects, resource: &ResourceInfo, object: &Value) {
        // The deletion's own revision is not on the object: wait for any
        // later one.
        let mut next = object.clone();
        if let Some(rv) = object["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|rv| rv.parse::<i64>().ok())
        {
            next["metadata"]["resourceVersion"] = Value::from((rv + 1).to_string());
        }
        self.note(resource, &next);
    }

    async fn deletion_started(&self, resource: &ResourceInfo, object: &Value) {
        self.note(resource, object);
    }
}

fn resource(plural: &str) -> &'static ResourceInfo {
    registry::by_resource(GROUP, plural).expect("the RBAC kinds are registered")
}

impl Rbac {
    /// The authorizer on `caches`, told of writes by `writes`.
    pub fn new(caches: Caches, writes: Writes) -> Self {
        Rbac {
            caches,
            writes,
            current: Arc::default(),
        }
    }

    /// The policy as of now (and of this server's own last writes).
    pub async fn policy(&self) -> Result<Arc<Policy>, ApiError> {
        // The common case, without a wait or a lookup of the caches: none
        // has changed (or failed) since the policy was built.
        let wanted = self.writes.wanted();
        let built = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(built) = built
            && built.is_current(&wanted)
        {
            return Ok(Arc::clone(&built.policy));
        }
        self.rebuild(&wanted).await
    }

    /// The policy of the caches once they have seen `wanted` (or after
    /// [`CATCH_UP`]): the one last built if they have not changed since.
    async fn rebuild(&self, wanted: &Revisions) -> Result<Arc<Policy>, ApiError> {
        let mut caches = Vec::with_capacity(RESOURCES.len());
        for (plural, wanted) in RESOURCES.into_iter().zip(wanted) {
            caches.push(self.fresh(plural, *wanted).await?);
        }
        let caches: [Arc<Cache>; 4] = std::array::from_fn(|i| Arc::clone(&caches[i]));
        let revisions: Revisions =
            std::array::from_fn(|i| caches[i].revision().unwrap_or_default());
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(built) = current.as_mut()
            && built.revisions == revisions
        {
            // The same objects: the policy stands, on the caches now in use.
            let policy = Arc::clone(&built.policy);
            *built = Arc::new(Built {
                caches,
                revisions,
                policy: Arc::clone(&policy),
            });
            return Ok(policy);
        }
        drop(current);
        let objects: Vec<Vec<Value>> = caches
            .iter()
            .zip(RESOURCES)
            .map(|(cache, plural)| {
                let prefix = registry::storage_prefix(resource(plural), None);
                cache.objects_under(&prefix).unwrap_or_default()
            })
            .collect();
        let policy = Arc::new(Policy::build(
            &objects[0],
            &objects[1],
            &objects[2],
            &objects[3],
        ));
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        *current = Some(Arc::new(Built {
            caches,
            revisions,
            policy: Arc::clone(&policy),
        }));
        Ok(policy)
    }

    /// The cache of `plural`, once it has seen this server's write of it
    /// at revision `wanted` (or after [`CATCH_UP`]).
    async fn fresh(&self, plural: &str, wanted: i64) -> Result<Arc<Cache>, ApiError> {
        let cache = self.caches.of(resource(plural)).await?;
        let deadline = tokio::time::Instant::now() + CATCH_UP;
        while cache.revision().is_some_and(|seen| seen < wanted)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        Ok(cache)
    }
}
