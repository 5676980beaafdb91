//! The `VolumeRestrictions` plugin: a pod may not share a disk that its
//! kind forbids sharing with a pod already on the node (GCE PD, AWS EBS,
//! Ceph RBD, iSCSI), nor use a `ReadWriteOncePod` claim that another pod
//! already uses anywhere in the cluster, as upstream's
//! `volumerestrictions` plugin.

use std::collections::BTreeSet;
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Pod, Volume};

use crate::framework::events::Changed;
use crate::framework::{
    ActionType, ClusterChange, ClusterEventWithHint, CycleState, EventResource, Filter, Handle,
    Listers, NodeInfo, Plugin, PodInfo, PreFilter, PreFilterResult, QueueingHint, Snapshot, Status,
};

/// The plugin's name in configurations.
pub const NAME: &str = "VolumeRestrictions";

/// Where PreFilter keeps what Filter reads.
const STATE_KEY: &str = "PreFilterVolumeRestrictions";

/// A disk shared with a pod on the node that may not share it.
pub const ERR_REASON_DISK_CONFLICT: &str = "node(s) had no available disk";
/// A `ReadWriteOncePod` claim already in use.
pub const ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT: &str =
    "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

/// The plugin.
pub struct VolumeRestrictions;

/// What PreFilter found: the pod's `ReadWriteOncePod` claims and how many
/// uses of them by scheduled pods there are.
#[derive(Debug, Clone)]
struct State {
    read_write_once_pod_claims: Arc<BTreeSet<String>>,
    conflicting_uses: i64,
}

impl State {
    /// How many of `pod`'s volumes name one of the claims.
    fn uses_by(&self, pod: &Pod) -> i64 {
        let volumes = pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
        let uses = volumes
            .filter_map(|v| v.persistent_volume_claim.as_ref())
            .filter(|c| self.read_write_once_pod_claims.contains(&c.claim_name))
            .count();
        i64::try_from(uses).unwrap_or(i64::MAX)
    }
}

impl Plugin for VolumeRestrictions {
    fn name(&self) -> &str {
        NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilter> {
        Some(self)
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }

    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        Some(vec![
            // Volumes are immutable: only a pod going away frees a disk
            // or a ReadWriteOncePod claim.
            ClusterEventWithHint::hinted(
                EventResource::AssignedPod,
                ActionType::DELETE,
                schedulable_after_pod_deleted,
            ),
            // With queueing hints on (v1.33's default) node updates are
            // not needed: a new node is what may help.
            ClusterEventWithHint::always(EventResource::Node, ActionType::ADD),
            // The claim must exist to read its access modes. The change
            // carries no claim to compare names with, so any added claim
            // requeues.
            ClusterEventWithHint::always(EventResource::PersistentVolumeClaim, ActionType::ADD),
        ])
    }
}

/// Whether `volume` may not be used while `existing` uses its disk.
fn is_volume_conflict(volume: &Volume, existing: &Pod) -> bool {
    let volumes = existing
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten());
    volumes
        .into_iter()
        .any(|other| volumes_conflict(volume, other))
}

fn volumes_conflict(volume: &Volume, other: &Volume) -> bool {
    let read_only = |a: Option<bool>, b: Option<bool>| a.unwrap_or(false) && b.unwrap_or(false);
    if let (Some(disk), Some(theirs)) = (&volume.gce_persistent_disk, &other.gce_persistent_disk) {
        // GCE PDs may be shared read-only.
        if disk.pd_name == theirs.pd_name && !read_only(disk.read_only, theirs.read_only) {
            return true;
        }
    }
    if let (Some(disk), Some(theirs)) = (
        &volume.aws_elastic_block_store,
        &other.aws_elastic_block_store,
    ) {
        // EBS volumes attach to one instance, read-only or not.
        if disk.volume_id == theirs.volume_id {
            return true;
        }
    }
    if let (Some(disk), Some(theirs)) = (&volume.iscsi, &other.iscsi)
        && disk.iqn == theirs.iqn
        && !read_only(disk.read_only, theirs.read_only)
    {
        return true;
    }
    if let (Some(disk), Some(theirs)) = (&volume.rbd, &other.rbd) {
        // One image: a shared monitor, the same pool and image name. The
        // API server defaults the pool to `rbd`.
        let pool = |p: &Option<String>| p.clone().unwrap_or_else(|| "rbd".to_string());
        let shared_monitor = disk.monitors.iter().any(|m| theirs.monitors.contains(m));
        if shared_monitor
            && pool(&disk.pool) == pool(&theirs.pool)
            && disk.image == theirs.image
            && !read_only(disk.read_only, theirs.read_only)
        {
            return true;
        }
    }
    false
}

/// Whether the volume is of a kind whose sharing is restricted.
fn needs_restrictions_check(volume: &Volume) -> bool {
    volume.gce_persistent_disk.is_some()
        || volume.aws_elastic_block_store.is_some()
        || volume.rbd.is_some()
        || volume.iscsi.is_some()
}

/// Whether `pod` may join the pods of `pods` without a disk conflict.
fn satisfies_volume_conflicts<'a>(
    pod: &Pod,
    mut pods: impl Iterator<Item = &'a Pod> + Clone,
) -> bool {
    let volumes = pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
    let restricted: Vec<&Volume> = volumes.filter(|v| needs_restrictions_check(v)).collect();
    if restricted.is_empty() {
        return true;
    }
    !pods.any(|existing| restricted.iter().any(|v| is_volume_conflict(v, existing)))
}

/// The names of `pod`'s claims with the `ReadWriteOncePod` access mode;
/// a claim not found is the pod's error.
fn read_write_once_pod_claims(
    pod: &PodInfo,
    listers: &Listers,
) -> Result<BTreeSet<String>, Status> {
    let mut claims = BTreeSet::new();
    let volumes = pod.pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
    for claim in volumes.filter_map(|v| v.persistent_volume_claim.as_ref()) {
        let name = &claim.claim_name;
        let Some(pvc) = listers
            .persistent_volume_claims
            .get(Some(pod.namespace()), name)
        else {
            return Err(Status::unresolvable(format!(
                "persistentvolumeclaim \"{name}\" not found"
            )));
        };
        let modes = pvc.spec.as_ref().and_then(|s| s.access_modes.as_ref());
        if modes.is_some_and(|m| m.iter().any(|m| m == "ReadWriteOncePod")) {
            claims.insert(name.clone());
        }
    }
    Ok(claims)
}

impl PreFilter for VolumeRestrictions {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        listers: &Listers,
    ) -> (Option<PreFilterResult>, Status) {
        let volumes = pod.pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
        let needs_check = volumes.into_iter().any(needs_restrictions_check);
        let claims = match read_write_once_pod_claims(pod, listers) {
            Ok(claims) => claims,
            Err(status) => return (None, status),
        };
        // At most one scheduled pod may use a ReadWriteOncePod claim.
        let conflicting_uses = claims
            .iter()
            .filter(|name| {
                let key = format!("{}/{name}", pod.namespace());
                let nodes = snapshot.nodes().iter();
                nodes
                    .into_iter()
                    .any(|n| n.pvc_ref_counts.contains_key(&key))
            })
            .count();
        if !needs_check && conflicting_uses == 0 {
            return (None, Status::skip());
        }
        state.write(
            STATE_KEY,
            State {
                read_write_once_pod_claims: Arc::new(claims),
                conflicting_uses: i64::try_from(conflicting_uses).unwrap_or(i64::MAX),
            },
        );
        (None, Status::success())
    }

    fn add_pod(
        &self,
        state: &mut CycleState,
        _pod: &PodInfo,
        added: &Arc<PodInfo>,
        _node: &NodeInfo,
    ) -> Status {
        update_uses(state, &added.pod, 1)
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        _pod: &PodInfo,
        removed: &Arc<PodInfo>,
        _node: &NodeInfo,
    ) -> Status {
        update_uses(state, &removed.pod, -1)
    }
}

fn update_uses(state: &mut CycleState, pod: &Pod, sign: i64) -> Status {
    let Some(state) = state.read_mut::<State>(STATE_KEY) else {
        return missing_state();
    };
    state.conflicting_uses += sign * state.uses_by(pod);
    Status::success()
}

fn missing_state() -> Status {
    Status::error(format!("cannot read {STATE_KEY:?} from cycleState"))
}

impl Filter for VolumeRestrictions {
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let pods = node.pods.iter().map(|p| p.pod.as_ref());
        if !satisfies_volume_conflicts(&pod.pod, pods) {
            return Status::unschedulable(ERR_REASON_DISK_CONFLICT);
        }
        let Some(state) = state.read::<State>(STATE_KEY) else {
            return missing_state();
        };
        if state.conflicting_uses > 0 {
            // Preemption of the pod using the claim may help.
            return Status::unschedulable(ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT);
        }
        Status::success()
    }
}

/// A deleted pod helps when it held a disk the pod conflicts on, or used
/// one of the pod's claims (which may be ReadWriteOncePod).
fn schedulable_after_pod_deleted(pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let deleted = match (&change.old, &change.new) {
        (Some(Changed::Pod(deleted)), _) | (None, Some(Changed::Pod(deleted))) => deleted,
        _ => return QueueingHint::Queue,
    };
    let namespace = crate::framework::pod_info::namespace;
    if namespace(deleted) != namespace(pod) {
        return QueueingHint::Skip;
    }
    if !satisfies_volume_conflicts(pod, std::iter::once(deleted.as_ref())) {
        return QueueingHint::Queue;
    }
    let claims = |p: &Pod| -> BTreeSet<String> {
        let volumes = p.spec.iter().flat_map(|s| s.volumes.iter().flatten());
        let claims = volumes.filter_map(|v| v.persistent_volume_claim.as_ref());
        claims.map(|c| c.claim_name.clone()).collect()
    };
    if claims(pod).intersection(&claims(deleted)).next().is_some() {
        return QueueingHint::Queue;
    }
    QueueingHint::Skip
}

/// Makes the plugin (it takes no arguments).
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(VolumeRestrictions))
}

#[cfg(test)]
mod tests;
