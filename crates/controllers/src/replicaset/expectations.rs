//! What a controller is still waiting to see: upstream's
//! `UIDTrackingControllerExpectations`. After asking for N creates (or
//! for given pods to be deleted) a ReplicaSet is not synced again until its
//! cache has seen them all, so a cache that lags behind the controller's own
//! writes never makes it create or delete twice. Expectations older than
//! [`EXPECTATIONS_TIMEOUT`] count as met, so a lost watch event cannot stall
//! a ReplicaSet for ever.
//!
//! Keys are the ReplicaSet's `namespace/name`; pods are named by their
//! `namespace/name` too ([`pod_key`]).

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use keelson_api::k8s_openapi::api::core::v1::Pod;

/// How long expectations hold before they are given up.
pub const EXPECTATIONS_TIMEOUT: SignedDuration = SignedDuration::from_secs(5 * 60);

/// The `namespace/name` key of a pod, as expectations track deletions.
pub fn pod_key(pod: &Pod) -> String {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    match pod.metadata.namespace.as_deref() {
        Some(namespace) if !namespace.is_empty() => format!("{namespace}/{name}"),
        _ => name.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    adds: i64,
    dels: i64,
    since: Timestamp,
}

/// The creates and deletes each controller still expects to observe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    pending: BTreeMap<String, Pending>,
    /// The pods each controller expects to see deleted; a deletion counts
    /// once even when it is observed twice (an update then a delete).
    deleting: BTreeMap<String, BTreeSet<String>>,
}

impl Expectations {
    /// No expectations: every controller may sync.
    pub fn new() -> Self {
        Self::default()
    }

    /// Expects `count` creates for `key` from `now` on, in place of
    /// whatever was expected before.
    pub fn expect_creations(&mut self, key: &str, count: usize, now: Timestamp) {
        self.set(key, to_i64(count), 0, now);
    }

    /// Expects the pods of `pod_keys` to be deleted for `key` from `now`
    /// on, in place of whatever was expected before.
    pub fn expect_deletions<I, S>(&mut self, key: &str, pod_keys: I, now: Timestamp)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let pods: BTreeSet<String> = pod_keys.into_iter().map(Into::into).collect();
        self.set(key, 0, to_i64(pods.len()), now);
        self.deleting.insert(key.to_string(), pods);
    }

    /// One of the creates expected for `key` was seen (or will never be:
    /// the loop calls this for each create that failed or was skipped).
    pub fn creation_observed(&mut self, key: &str) {
        if let Some(pending) = self.pending.get_mut(key) {
            pending.adds -= 1;
        }
    }

    /// The pod `pod_key` was seen deleted (or being deleted), or its delete
    /// failed. Only a pod that `key` expects to delete counts, and only once.
    pub fn deletion_observed(&mut self, key: &str, pod_key: &str) {
        let expected = self
            .deleting
            .get_mut(key)
            .is_some_and(|pods| pods.remove(pod_key));
        if let (true, Some(pending)) = (expected, self.pending.get_mut(key)) {
            pending.dels -= 1;
        }
    }

    /// Whether `key` may sync: nothing is expected (or was ever recorded),
    /// or everything expected was seen, or the expectations have expired.
    pub fn satisfied(&self, key: &str, now: Timestamp) -> bool {
        self.pending.get(key).is_none_or(|pending| {
            (pending.adds <= 0 && pending.dels <= 0)
                || now.duration_since(pending.since) > EXPECTATIONS_TIMEOUT
        })
    }

    /// The creates and deletes `key` still waits for, if it has any record.
    pub fn pending(&self, key: &str) -> Option<(i64, i64)> {
        self.pending.get(key).map(|p| (p.adds, p.dels))
    }

    /// Drops everything recorded for `key` (its ReplicaSet is gone).
    pub fn forget(&mut self, key: &str) {
        self.pending.remove(key);
        self.deleting.remove(key);
    }

    fn set(&mut self, key: &str, adds: i64, dels: i64, since: Timestamp) {
        self.pending
            .insert(key.to_string(), Pending { adds, dels, since });
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
