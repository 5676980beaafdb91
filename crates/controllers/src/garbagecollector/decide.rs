//! The collector's decisions, as upstream's `attemptToDeleteItem`,
//! `processDeletingDependentsItem` and `attemptToOrphanWorker` make them,
//! apart from the lookups they need: each owner reference of an item is
//! classified from what a live lookup found of the owner (solid, dangling,
//! or waiting for its dependents' deletion), and the item's plan follows
//! from the classification. The patches are JSON merge patches carrying
//! the `resourceVersion` (and `uid`) read, so that a concurrent write makes
//! them fail with 409 and the item is tried again on fresh state.

use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::{Value, json};

use super::graph::{FOREGROUND, Graph, ORPHAN};

/// The live state of an item, read just before deciding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Latest {
    /// Its uid.
    pub uid: String,
    /// Its `resourceVersion`.
    pub resource_version: String,
    /// Its owner references.
    pub owners: Vec<OwnerReference>,
    /// Its finalizers.
    pub finalizers: Vec<String>,
    /// Whether it has a `deletionTimestamp`.
    pub being_deleted: bool,
}

/// What a live lookup found of an owner: its uid, whether it is being
/// deleted, and its finalizers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Found {
    /// The uid of the object by the reference's name.
    pub uid: String,
    /// Whether it has a `deletionTimestamp`.
    pub being_deleted: bool,
    /// Its finalizers.
    pub finalizers: Vec<String>,
}

/// How an owner reference stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// The owner exists and is not waiting for its dependents.
    Solid,
    /// No object by that name, or one of another uid: the reference dangles.
    Dangling,
    /// The owner is being deleted in the foreground.
    Waiting,
}

/// Classifies `reference` by what the lookup found under its name.
pub fn classify(reference: &OwnerReference, found: Option<&Found>) -> Owner {
    match found {
        None => Owner::Dangling,
        Some(owner) if owner.uid != reference.uid => Owner::Dangling,
        Some(owner) if owner.being_deleted && owner.finalizers.iter().any(|f| f == FOREGROUND) => {
            Owner::Waiting
        }
        Some(_) => Owner::Solid,
    }
}

/// Where an owner of a namespaced kind is looked up for a dependent in
/// `dependent_namespace`: its own namespace; `None` when the dependent is
/// cluster-scoped (which cannot name a namespaced owner: upstream's
/// `namespacedOwnerOfClusterScopedObjectErr`, the item is left alone).
pub fn owner_namespace(dependent_namespace: &str, owner_namespaced: bool) -> Option<&str> {
    match (owner_namespaced, dependent_namespace.is_empty()) {
        (true, true) => None,
        (true, false) => Some(dependent_namespace),
        (false, _) => Some(""),
    }
}

/// The propagation of a delete the collector sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents are collected after the item goes.
    Background,
    /// The item waits for its blocking dependents.
    Foreground,
    /// The dependents are orphaned.
    Orphan,
}

impl Propagation {
    /// The `propagationPolicy` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Background => "Background",
            Propagation::Foreground => "Foreground",
            Propagation::Orphan => "Orphan",
        }
    }
}

/// What to do with an item whose owners were classified.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// It stays as it is.
    Keep,
    /// Some owners live: only these references go (a merge patch).
    RemoveReferences(Value),
    /// It goes: first the patch (if any) that unblocks its references,
    /// then the delete with this propagation.
    Delete {
        /// A merge patch setting `blockOwnerDeletion: false`, sent first.
        unblock: Option<Value>,
        /// The delete's `propagationPolicy`.
        propagation: Propagation,
    },
}

/// Upstream's `attemptToDeleteItem` once the owners are classified.
/// `has_dependents`: whether the item owns anything in the graph;
/// `dependent_deleting`: whether one of those is itself deleting its
/// dependents (a possible cycle: the item's references are unblocked).
pub fn attempt_to_delete(
    latest: &Latest,
    owners: &[(OwnerReference, Owner)],
    has_dependents: bool,
    dependent_deleting: bool,
) -> Plan {
    if owners.is_empty() {
        return Plan::Keep;
    }
    let of = |state: Owner| {
        owners
            .iter()
            .filter(move |(_, s)| *s == state)
            .map(|(r, _)| r.uid.clone())
    };
    let solid = of(Owner::Solid).count();
    let waiting: Vec<String> = of(Owner::Waiting).collect();
    if solid > 0 {
        let gone: Vec<String> = of(Owner::Dangling).chain(waiting).collect();
        if gone.is_empty() {
            return Plan::Keep;
        }
        return Plan::RemoveReferences(remove_references(latest, &gone));
    }
    if !waiting.is_empty() && has_dependents {
        return Plan::Delete {
            unblock: dependent_deleting.then(|| unblock_references(latest)),
            propagation: Propagation::Foreground,
        };
    }
    let has = |name: &str| latest.finalizers.iter().any(|f| f == name);
    let propagation = if has(ORPHAN) {
        Propagation::Orphan
    } else if has(FOREGROUND) {
        Propagation::Foreground
    } else {
        Propagation::Background
    };
    Plan::Delete {
        unblock: None,
        propagation,
    }
}

/// What an owner deleting its dependents needs next.
#[derive(Clone, Debug, PartialEq)]
pub enum Foreground {
    /// No blocking dependent is left: the `foregroundDeletion` finalizer
    /// goes.
    RemoveFinalizer,
    /// These blocking dependents are looked at (the others wait for
    /// their own dependents).
    Attempt(Vec<String>),
}

/// Upstream's `processDeletingDependentsItem` for the node `uid`.
pub fn deleting_dependents(graph: &Graph, uid: &str) -> Foreground {
    let blocking = graph.blocking_dependents(uid);
    if blocking.is_empty() {
        return Foreground::RemoveFinalizer;
    }
    Foreground::Attempt(
        blocking
            .into_iter()
            .filter(|d| !d.deleting_dependents)
            .map(|d| d.identity.uid.clone())
            .collect(),
    )
}

/// A merge patch keeping every reference but those to `uids`, guarded by
/// the item's `resourceVersion` and `uid`. With none left the list is
/// `null` (removed), as upstream's patch leaves no empty list behind.
pub fn remove_references(latest: &Latest, uids: &[String]) -> Value {
    let kept: Vec<&OwnerReference> = latest
        .owners
        .iter()
        .filter(|o| !uids.contains(&o.uid))
        .collect();
    let kept = if kept.is_empty() {
        Value::Null
    } else {
        json!(kept)
    };
    json!({"metadata": {
        "ownerReferences": kept,
        "resourceVersion": latest.resource_version,
        "uid": latest.uid,
    }})
}

/// A merge patch setting `blockOwnerDeletion: false` on every blocking
/// reference of the item.
pub fn unblock_references(latest: &Latest) -> Value {
    let references: Vec<OwnerReference> = latest
        .owners
        .iter()
        .cloned()
        .map(|mut o| {
            if o.block_owner_deletion == Some(true) {
                o.block_owner_deletion = Some(false);
            }
            o
        })
        .collect();
    json!({"metadata": {
        "ownerReferences": references,
        "resourceVersion": latest.resource_version,
        "uid": latest.uid,
    }})
}

/// A merge patch removing `finalizer`, guarded by `resourceVersion`;
/// `None` when the item does not have it.
pub fn remove_finalizer(latest: &Latest, finalizer: &str) -> Option<Value> {
    if !latest.finalizers.iter().any(|f| f == finalizer) {
        return None;
    }
    let kept: Vec<&String> = latest
        .finalizers
        .iter()
        .filter(|f| *f != finalizer)
        .collect();
    Some(json!({"metadata": {
        "finalizers": kept,
        "resourceVersion": latest.resource_version,
    }}))
}

/// A merge patch orphaning a dependent of `owner_uid`: its reference to
/// that owner goes; `None` when it has none.
pub fn orphan(latest: &Latest, owner_uid: &str) -> Option<Value> {
    latest
        .owners
        .iter()
        .any(|o| o.uid == owner_uid)
        .then(|| remove_references(latest, &[owner_uid.to_string()]))
}
