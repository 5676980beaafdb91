//! Which pods a ReplicaSet owns: upstream's `PodControllerRefManager`
//! claim. A pod controlled by this ReplicaSet stays while its labels match
//! the selector and is released when they stop matching; an orphan whose
//! labels match is adopted. Pods controlled by anyone else are left alone.
//! Nothing is adopted or released while the ReplicaSet is being deleted,
//! and a pod being deleted is never adopted.

use std::collections::BTreeMap;

use keelson_api::k8s_openapi::api::apps::v1::ReplicaSet;
use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use keelson_api::label_selector::Selector;
use serde_json::json;

use crate::pods::controller_of;

/// A strategic-merge patch (`application/strategic-merge-patch+json`) to
/// send to one pod. It carries the pod's uid, so that it fails on a pod of
/// the same name made since the pod was read.
#[derive(Debug, Clone, PartialEq)]
pub struct PodPatch {
    /// The pod's name, in the ReplicaSet's namespace.
    pub name: String,
    /// The patch body.
    pub patch: serde_json::Value,
}

/// What the claim decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Claim {
    /// The pods the ReplicaSet owns from now on, in the order given; an
    /// adopted pod carries its new controller reference.
    pub claimed: Vec<Pod>,
    pub adopt: Vec<PodPatch>,
    pub release: Vec<PodPatch>,
}

/// The kind of controller a ReplicaSet stands for: itself, or a
/// ReplicationController converted to one (as upstream's replication
/// controller runs the ReplicaSet controller's code on converted objects).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OwnerKind {
    /// `apps/v1` ReplicaSet.
    #[default]
    ReplicaSet,
    /// `v1` ReplicationController.
    ReplicationController,
}

impl OwnerKind {
    /// The `apiVersion` and `kind` of its owner references.
    pub fn type_meta(self) -> (&'static str, &'static str) {
        match self {
            Self::ReplicaSet => ("apps/v1", "ReplicaSet"),
            Self::ReplicationController => ("v1", "ReplicationController"),
        }
    }
}

/// The controller reference a ReplicaSet puts on its pods.
pub fn controller_ref(rs: &ReplicaSet) -> OwnerReference {
    controller_ref_of(rs, OwnerKind::ReplicaSet)
}

/// The controller reference `rs`, standing for a controller of `kind`,
/// puts on its pods.
pub fn controller_ref_of(rs: &ReplicaSet, kind: OwnerKind) -> OwnerReference {
    let (api_version, kind) = kind.type_meta();
    OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: rs.metadata.name.clone().unwrap_or_default(),
        uid: rs.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Claims `pods` (already filtered to active ones) for `rs`.
pub(crate) fn claim(rs: &ReplicaSet, kind: OwnerKind, selector: &Selector, pods: &[&Pod]) -> Claim {
    let rs_uid = rs.metadata.uid.as_deref().unwrap_or_default();
    let rs_deleting = rs.metadata.deletion_timestamp.is_some();
    let no_labels = BTreeMap::new();
    let mut out = Claim::default();
    for pod in pods {
        let matches = selector.matches(pod.metadata.labels.as_ref().unwrap_or(&no_labels));
        match controller_of(pod.metadata.owner_references.as_ref()) {
            Some(owner) if owner.uid != rs_uid => {}
            Some(_) if matches => out.claimed.push((*pod).clone()),
            Some(_) if !rs_deleting => out.release.push(release_patch(rs_uid, pod)),
            Some(_) => {}
            None if !matches || rs_deleting || pod.metadata.deletion_timestamp.is_some() => {}
            None if pod.metadata.namespace != rs.metadata.namespace => {}
            None => {
                out.adopt.push(adopt_patch(rs, kind, pod));
                let mut adopted = (*pod).clone();
                adopted
                    .metadata
                    .owner_references
                    .get_or_insert_with(Vec::new)
                    .push(controller_ref_of(rs, kind));
                out.claimed.push(adopted);
            }
        }
    }
    out
}

fn adopt_patch(rs: &ReplicaSet, kind: OwnerKind, pod: &Pod) -> PodPatch {
    let owner = controller_ref_of(rs, kind);
    PodPatch {
        name: pod.metadata.name.clone().unwrap_or_default(),
        patch: json!({
            "metadata": {
                "ownerReferences": [{
                    "apiVersion": owner.api_version,
                    "kind": owner.kind,
                    "name": owner.name,
                    "uid": owner.uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
                "uid": pod.metadata.uid,
            }
        }),
    }
}

fn release_patch(rs_uid: &str, pod: &Pod) -> PodPatch {
    PodPatch {
        name: pod.metadata.name.clone().unwrap_or_default(),
        patch: json!({
            "metadata": {
                "ownerReferences": [{"$patch": "delete", "uid": rs_uid}],
                "uid": pod.metadata.uid,
            }
        }),
    }
}
