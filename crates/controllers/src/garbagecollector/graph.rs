//! The ownerReference graph, as upstream's `GraphBuilder` keeps it: one
//! node per uid with the object's identity (apiVersion, kind, namespace,
//! name), the references to its owners and the uids of its dependents.
//! An owner that is referenced but not yet observed is a *virtual* node
//! whose identity is taken from the first reference to it; the loop looks
//! it up live and removes it when it is absent.
//!
//! [`Graph::apply`] takes one observed change and says what the collector
//! must look at again ([`Effects`]); it does no I/O.

use std::collections::{BTreeMap, BTreeSet};

use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// The finalizer that makes a deletion wait for the dependents' deletion.
pub const FOREGROUND: &str = "foregroundDeletion";
/// The finalizer that makes a deletion orphan the dependents first.
pub const ORPHAN: &str = "orphan";

/// Who an object is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// `group/version` (or `version` for the core group).
    pub api_version: String,
    /// The kind.
    pub kind: String,
    /// The namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// The name.
    pub name: String,
    /// The uid.
    pub uid: String,
}

impl Identity {
    /// The identity an owner reference gives its owner, in `namespace`
    /// (the dependent's: a reference carries none).
    pub fn of_reference(reference: &OwnerReference, namespace: &str) -> Self {
        Identity {
            api_version: reference.api_version.clone(),
            kind: reference.kind.clone(),
            namespace: namespace.to_string(),
            name: reference.name.clone(),
            uid: reference.uid.clone(),
        }
    }

    /// Whether `reference` names this object by the same coordinates.
    pub fn matches(&self, reference: &OwnerReference) -> bool {
        self.api_version == reference.api_version
            && self.kind == reference.kind
            && self.name == reference.name
            && self.uid == reference.uid
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}/{}, namespace: {}, name: {}, uid: {}]",
            self.api_version, self.kind, self.namespace, self.name, self.uid
        )
    }
}

/// What a watch tells of one object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    /// Who it is.
    pub identity: Identity,
    /// Its `metadata.ownerReferences`.
    pub owners: Vec<OwnerReference>,
    /// Whether it has a `deletionTimestamp`.
    pub being_deleted: bool,
    /// Its `metadata.finalizers`.
    pub finalizers: Vec<String>,
}

impl Object {
    fn waits_for(&self, finalizer: &str) -> bool {
        self.being_deleted && self.finalizers.iter().any(|f| f == finalizer)
    }
}

/// One node of the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Who it is (for a virtual node, as its first dependent names it).
    pub identity: Identity,
    /// The references to its owners.
    pub owners: Vec<OwnerReference>,
    /// The uids of the nodes that name it as an owner.
    pub dependents: BTreeSet<String>,
    /// Whether a watch has shown it (false: a virtual node).
    pub observed: bool,
    /// Whether it has a `deletionTimestamp`.
    pub being_deleted: bool,
    /// Whether it is being deleted in the foreground.
    pub deleting_dependents: bool,
}

/// A change for the graph.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// An object added or changed.
    Upsert(Object),
    /// An object deleted, as a watch saw it.
    Delete(Identity),
    /// An object found absent by a live lookup (upstream's virtual delete
    /// event): only a node of the same identity goes.
    Absent(Identity),
}

/// What the collector must do after a change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effects {
    /// Uids to attempt to delete (upstream's `attemptToDelete` queue).
    pub attempt_delete: BTreeSet<String>,
    /// Uids whose dependents are to be orphaned (`attemptToOrphan`).
    pub attempt_orphan: BTreeSet<String>,
    /// Dependents whose reference (by owner uid) names an owner observed
    /// in another namespace: upstream's `OwnerRefInvalidNamespace`.
    pub invalid_namespace: Vec<(Identity, OwnerReference)>,
}

/// The graph: nodes by uid.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: BTreeMap<String, Node>,
}

impl Graph {
    /// The node of `uid`.
    pub fn node(&self, uid: &str) -> Option<&Node> {
        self.nodes.get(uid)
    }

    /// How many nodes there are.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The dependents of `uid` that block its deletion
    /// (`blockOwnerDeletion: true` in their reference to it).
    pub fn blocking_dependents(&self, uid: &str) -> Vec<&Node> {
        let Some(node) = self.nodes.get(uid) else {
            return Vec::new();
        };
        node.dependents
            .iter()
            .filter_map(|d| self.nodes.get(d))
            .filter(|d| {
                d.owners
                    .iter()
                    .any(|o| o.uid == uid && o.block_owner_deletion == Some(true))
            })
            .collect()
    }

    /// The dependents of `uid`.
    pub fn dependents(&self, uid: &str) -> Vec<&Node> {
        self.nodes
            .get(uid)
            .map(|n| {
                n.dependents
                    .iter()
                    .filter_map(|d| self.nodes.get(d))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Takes one change in; what to look at again.
    pub fn apply(&mut self, change: Change) -> Effects {
        let mut effects = Effects::default();
        match change {
            Change::Upsert(object) => self.upsert(object, &mut effects),
            Change::Delete(identity) => self.remove(&identity.uid, &mut effects),
            Change::Absent(identity) => self.absent(identity, &mut effects),
        }
        effects
    }

    fn upsert(&mut self, object: Object, effects: &mut Effects) {
        let uid = object.identity.uid.clone();
        let old = self.nodes.get(&uid).cloned();
        let mut node = old.clone().unwrap_or_else(|| Node {
            identity: object.identity.clone(),
            owners: Vec::new(),
            dependents: BTreeSet::new(),
            observed: true,
            being_deleted: false,
            deleting_dependents: false,
        });
        if !node.observed {
            // A virtual node seen at last: its dependents that named it
            // otherwise have a look again.
            for dependent in &node.dependents {
                let Some(dep) = self.nodes.get(dependent) else {
                    continue;
                };
                let matching = dep
                    .owners
                    .iter()
                    .find(|o| o.uid == uid)
                    .is_some_and(|o| object.identity.matches(o))
                    && dep.identity.namespace == object.identity.namespace;
                if !matching {
                    let wrong_namespace = !object.identity.namespace.is_empty()
                        && dep.identity.namespace != object.identity.namespace;
                    if let Some(reference) = dep.owners.iter().find(|o| o.uid == uid)
                        && wrong_namespace
                    {
                        effects
                            .invalid_namespace
                            .push((dep.identity.clone(), reference.clone()));
                    }
                    effects.attempt_delete.insert(dependent.clone());
                }
            }
            node.identity = object.identity.clone();
            node.observed = true;
        }
        let was_foreground = old.as_ref().is_some_and(|n| n.deleting_dependents);
        let (added, removed, unblocked) = owner_changes(&node.owners, &object.owners);
        node.owners = object.owners.clone();
        node.being_deleted = object.being_deleted;
        if object.waits_for(FOREGROUND) {
            node.deleting_dependents = true;
        }
        self.nodes.insert(uid.clone(), node);
        for owner in removed.iter().chain(&unblocked) {
            if let Some(owner_node) = self.nodes.get_mut(&owner.uid) {
                if removed.iter().any(|r| r.uid == owner.uid) {
                    owner_node.dependents.remove(&uid);
                }
                if owner_node.deleting_dependents {
                    effects.attempt_delete.insert(owner.uid.clone());
                }
            }
        }
        self.add_to_owners(&uid, &added, effects);
        // Orphaning is idempotent: asked again on every change while the
        // finalizer stays, which also covers a change missed in a re-list.
        if object.waits_for(ORPHAN) {
            effects.attempt_orphan.insert(uid.clone());
        }
        if object.waits_for(FOREGROUND) && !was_foreground {
            effects
                .attempt_delete
                .extend(self.nodes[&uid].dependents.iter().cloned());
            effects.attempt_delete.insert(uid);
        }
    }

    /// Adds `uid` as a dependent of each of `owners`, making virtual nodes
    /// of owners not in the graph, as upstream's `addDependentToOwners`.
    fn add_to_owners(&mut self, uid: &str, owners: &[OwnerReference], effects: &mut Effects) {
        let Some(identity) = self.nodes.get(uid).map(|n| n.identity.clone()) else {
            return;
        };
        let mut suspect = false;
        for reference in owners {
            match self.nodes.get_mut(&reference.uid) {
                None => {
                    let mut owner = Node {
                        identity: Identity::of_reference(reference, &identity.namespace),
                        owners: Vec::new(),
                        dependents: BTreeSet::new(),
                        observed: false,
                        being_deleted: false,
                        deleting_dependents: false,
                    };
                    owner.dependents.insert(uid.to_string());
                    self.nodes.insert(reference.uid.clone(), owner);
                    effects.attempt_delete.insert(reference.uid.clone());
                }
                Some(owner) => {
                    owner.dependents.insert(uid.to_string());
                    let namespaced = !owner.identity.namespace.is_empty();
                    if suspect {
                        continue;
                    }
                    if namespaced && owner.identity.namespace != identity.namespace {
                        if owner.observed {
                            effects
                                .invalid_namespace
                                .push((identity.clone(), reference.clone()));
                        }
                        suspect = true;
                    } else if !owner.identity.matches(reference)
                        || (!namespaced
                            && !owner.observed
                            && owner.identity.namespace != identity.namespace)
                    {
                        suspect = true;
                    }
                }
            }
        }
        if suspect {
            effects.attempt_delete.insert(uid.to_string());
        }
    }

    /// A deletion seen: the node goes, its dependents and its owners that
    /// wait for their dependents are looked at again.
    fn remove(&mut self, uid: &str, effects: &mut Effects) {
        let Some(node) = self.nodes.remove(uid) else {
            return;
        };
        for owner in &node.owners {
            if let Some(owner_node) = self.nodes.get_mut(&owner.uid) {
                owner_node.dependents.remove(uid);
                if owner_node.deleting_dependents {
                    effects.attempt_delete.insert(owner.uid.clone());
                }
            }
        }
        effects.attempt_delete.extend(node.dependents);
    }

    /// A live lookup found `identity` absent. An observed node of other
    /// coordinates stays (its dependents that named those look again); a
    /// virtual node that some dependents name otherwise stays under one of
    /// those names and is looked up again.
    fn absent(&mut self, identity: Identity, effects: &mut Effects) {
        let Some(node) = self.nodes.get(&identity.uid).cloned() else {
            return;
        };
        let names_it = |dep: &Node| {
            dep.owners
                .iter()
                .find(|o| o.uid == identity.uid)
                .is_some_and(|o| {
                    Identity::of_reference(o, &dep.identity.namespace) == identity
                        || (identity.namespace.is_empty() && identity.matches(o))
                })
        };
        let (matching, other): (Vec<&Node>, Vec<&Node>) = node
            .dependents
            .iter()
            .filter_map(|d| self.nodes.get(d))
            .partition(|d| names_it(d));
        if node.observed && node.identity != identity {
            effects
                .attempt_delete
                .extend(other.iter().map(|d| d.identity.uid.clone()));
            effects
                .attempt_delete
                .extend(matching.iter().map(|d| d.identity.uid.clone()));
            return;
        }
        if !node.observed && !other.is_empty() {
            effects
                .attempt_delete
                .extend(matching.iter().map(|d| d.identity.uid.clone()));
            let alternative = other.iter().find_map(|d| {
                let reference = d.owners.iter().find(|o| o.uid == identity.uid)?;
                Some(Identity::of_reference(reference, &d.identity.namespace))
            });
            if let Some(alternative) = alternative
                && node.identity == identity
                && let Some(kept) = self.nodes.get_mut(&identity.uid)
            {
                kept.identity = alternative;
                effects.attempt_delete.insert(identity.uid.clone());
            }
            return;
        }
        self.remove(&identity.uid, effects);
    }
}

/// The references added, removed, and changed from blocking to not.
fn owner_changes(
    old: &[OwnerReference],
    new: &[OwnerReference],
) -> (
    Vec<OwnerReference>,
    Vec<OwnerReference>,
    Vec<OwnerReference>,
) {
    let added = new
        .iter()
        .filter(|n| !old.iter().any(|o| o.uid == n.uid))
        .cloned()
        .collect();
    let removed = old
        .iter()
        .filter(|o| !new.iter().any(|n| n.uid == o.uid))
        .cloned()
        .collect();
    let unblocked = new
        .iter()
        .filter(|n| {
            old.iter().any(|o| {
                o.uid == n.uid
                    && o.block_owner_deletion == Some(true)
                    && n.block_owner_deletion != Some(true)
            })
        })
        .cloned()
        .collect();
    (added, removed, unblocked)
}
