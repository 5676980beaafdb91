//! The `NodeVolumeLimits` plugin (upstream's `CSILimits`): a node takes
//! no more CSI volumes of a driver than its CSINode says the driver can
//! attach (`spec.drivers[].allocatable.count`, or the node's legacy
//! `attachable-volumes-csi-<driver>` allocatable). Volumes are counted
//! by driver and handle from the PersistentVolumes bound to the claims
//! of the node's pods and of the new pod; a claim not yet bound counts
//! as a volume its class's provisioner will make. In-tree volumes that
//! CSI migration would translate are not counted (no translation here).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use keelson_api::k8s_openapi::api::storage::v1::CSINode;

use crate::framework::events::Changed;
use crate::framework::{
    ActionType, ClusterChange, ClusterEventWithHint, CycleState, EventResource, Filter, Handle,
    Listers, NodeInfo, Plugin, PodInfo, PreFilter, PreFilterResult, QueueingHint, Snapshot, Status,
};
use crate::plugins::volume_binding::claims::{
    claim_class, not_found, pod_claims, volume_is_for_pod,
};

/// The plugin's name in configurations.
pub const NAME: &str = "NodeVolumeLimits";

/// Where PreFilter keeps the new pod's volumes.
const STATE_KEY: &str = "PreFilterNodeVolumeLimits";

/// More volumes of a driver than the node can attach.
pub const ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED: &str = "node(s) exceed max volume count";

/// The prefix of a driver's attach limit among a node's allocatable.
const CSI_ATTACH_LIMIT_PREFIX: &str = "attachable-volumes-csi-";

/// Stands for the handle of a volume not provisioned yet, so that it
/// cannot collide with a real one; the claim's key follows it.
const UNBOUND_HANDLE_PREFIX: &str = "\u{0}unbound-claim-";

/// The plugin.
pub struct NodeVolumeLimits {
    /// The CSINodes, read per node in Filter.
    listers: Arc<Listers>,
}

/// A volume as counted: its driver's limit key and its unique name
/// (`driver/handle`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CountedVolume {
    limit_key: String,
    unique_name: String,
}

impl Plugin for NodeVolumeLimits {
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
            // Any new CSINode may report a limit that lets the pod in.
            ClusterEventWithHint::always(EventResource::CSINode, ActionType::ADD),
            ClusterEventWithHint::hinted(
                EventResource::AssignedPod,
                ActionType::DELETE,
                schedulable_after_pod_deleted,
            ),
            // The change carries no claim to compare names with.
            ClusterEventWithHint::always(EventResource::PersistentVolumeClaim, ActionType::ADD),
        ])
    }
}

/// A deleted pod frees attachments only if it was on a node and had
/// claims.
fn schedulable_after_pod_deleted(_pod: &Pod, change: &ClusterChange) -> QueueingHint {
    let deleted = match (&change.old, &change.new) {
        (Some(Changed::Pod(deleted)), _) | (None, Some(Changed::Pod(deleted))) => deleted,
        _ => return QueueingHint::Queue,
    };
    let spec = deleted.spec.as_ref();
    let on_node = spec
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    if on_node && pod_claims(deleted).next().is_some() {
        QueueingHint::Queue
    } else {
        QueueingHint::Skip
    }
}

/// The limit key of a driver, as upstream's `GetCSIAttachLimitKey` for
/// names that fit a resource name (longer ones are hashed upstream; here
/// they keep their whole name, so only a node's legacy allocatable for
/// such a driver goes unread).
fn limit_key(driver: &str) -> String {
    format!("{CSI_ATTACH_LIMIT_PREFIX}{driver}")
}

/// The volumes of `pod`'s claims that count against a limit. A claim
/// not found is an error for the new pod and not counted otherwise.
fn attachable_volumes(
    listers: &Listers,
    pod: &Pod,
    new_pod: bool,
    into: &mut HashSet<CountedVolume>,
) -> Result<(), Status> {
    let namespace = crate::framework::pod_info::namespace(pod);
    for (name, ephemeral) in pod_claims(pod) {
        if name.is_empty() {
            return Err(Status::error("PersistentVolumeClaim had no name"));
        }
        let Some(claim) = listers.persistent_volume_claims.get(Some(namespace), &name) else {
            if new_pod {
                let missing = not_found("persistentvolumeclaim", &name);
                return Err(Status::unresolvable(format!(
                    "looking up PVC {namespace}/{name}: {missing}"
                )));
            }
            continue;
        };
        if ephemeral {
            volume_is_for_pod(pod, &claim).map_err(Status::error)?;
        }
        if let Some(volume) = driver_info(listers, &claim, namespace, &name) {
            into.insert(volume);
        }
    }
    Ok(())
}

/// The driver and handle of a claim's volume: its bound CSI volume's,
/// or (unbound, or bound to a volume not found) its class's
/// provisioner and a handle standing for the volume to be made.
fn driver_info(
    listers: &Listers,
    claim: &PersistentVolumeClaim,
    namespace: &str,
    name: &str,
) -> Option<CountedVolume> {
    let spec = claim.spec.as_ref();
    let volume_name = spec
        .and_then(|s| s.volume_name.as_deref())
        .unwrap_or_default();
    let bound = (!volume_name.is_empty())
        .then(|| listers.persistent_volumes.get(None, volume_name))
        .flatten();
    if let Some(volume) = bound {
        let csi = volume.spec.as_ref()?.csi.as_ref()?;
        return Some(CountedVolume {
            limit_key: limit_key(&csi.driver),
            unique_name: format!("{}/{}", csi.driver, csi.volume_handle),
        });
    }
    let class_name = claim_class(claim);
    if class_name.is_empty() {
        // Without a class the claim binds immediately: nothing to
        // provision on this node.
        return None;
    }
    let class = listers.storage_classes.get(None, class_name)?;
    let driver = &class.provisioner;
    Some(CountedVolume {
        limit_key: limit_key(driver),
        unique_name: format!("{driver}/{UNBOUND_HANDLE_PREFIX}{namespace}/{name}"),
    })
}

/// A node's attach limits by key: the node's legacy allocatable, then
/// its CSINode's counts.
fn volume_limits(node: &NodeInfo, csi_node: Option<&CSINode>) -> HashMap<String, i64> {
    let legacy = node.allocatable.scalar.iter();
    let mut limits: HashMap<String, i64> = legacy
        .filter(|(name, _)| name.starts_with("attachable-volumes-"))
        .map(|(name, count)| (name.clone(), *count))
        .collect();
    let drivers = csi_node
        .map(|c| c.spec.drivers.as_slice())
        .unwrap_or_default();
    for driver in drivers {
        if let Some(count) = driver.allocatable.as_ref().and_then(|a| a.count) {
            limits.insert(limit_key(&driver.name), i64::from(count));
        }
    }
    limits
}

impl PreFilter for NodeVolumeLimits {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _snapshot: &Snapshot,
        listers: &Listers,
    ) -> (Option<PreFilterResult>, Status) {
        if pod_claims(&pod.pod).next().is_none() {
            return (None, Status::skip());
        }
        // The new pod's volumes do not depend on the node: found once.
        let mut volumes = HashSet::new();
        if let Err(status) = attachable_volumes(listers, &pod.pod, true, &mut volumes) {
            return (None, status);
        }
        if volumes.is_empty() {
            return (None, Status::skip());
        }
        state.write(STATE_KEY, Arc::new(volumes));
        (None, Status::success())
    }
}

impl Filter for NodeVolumeLimits {
    fn filter(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(new_volumes) = state.read::<Arc<HashSet<CountedVolume>>>(STATE_KEY) else {
            return Status::error(format!("cannot read {STATE_KEY:?} from cycleState"));
        };
        let csi_node = self.listers.csi_nodes.get(None, node.name());
        let limits = volume_limits(node, csi_node.as_deref());
        let limited = |v: &CountedVolume| limits.contains_key(&v.limit_key);
        if !new_volumes.iter().any(limited) {
            return Status::success();
        }
        let mut attached = HashSet::new();
        for existing in &node.pods {
            if let Err(status) =
                attachable_volumes(&self.listers, &existing.pod, false, &mut attached)
            {
                return status;
            }
        }
        // A volume already attached for another pod is not attached again.
        let mut wanted: HashMap<&str, i64> = HashMap::new();
        for volume in new_volumes
            .iter()
            .filter(|v| limited(v) && !attached.contains(*v))
        {
            *wanted.entry(volume.limit_key.as_str()).or_default() += 1;
        }
        for (key, count) in wanted {
            let in_use = attached.iter().filter(|v| v.limit_key == key).count();
            let in_use = i64::try_from(in_use).unwrap_or(i64::MAX);
            let limit = limits.get(key).copied().unwrap_or(i64::MAX);
            if in_use + count > limit {
                return Status::unschedulable(ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED);
            }
        }
        Status::success()
    }
}

/// Makes the plugin (it takes no arguments).
pub fn new(_args: Option<&serde_json::Value>, handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(NodeVolumeLimits {
        listers: handle.listers.clone(),
    }))
}

#[cfg(test)]
mod tests;
