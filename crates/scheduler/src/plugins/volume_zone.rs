//! The `VolumeZone` plugin: the zone and region labels of the volumes
//! bound to a pod's claims must match the node's, as upstream's
//! `volumezone` plugin. Unbound claims of `WaitForFirstConsumer` classes
//! are left to `VolumeBinding`.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::framework::{
    ActionType, ClusterEventWithHint, CycleState, EventResource, Filter, Handle, Listers, NodeInfo,
    Plugin, PodInfo, PreFilter, PreFilterResult, Snapshot, Status,
};
use crate::plugins::volume_binding::claims::{claim_class, not_found};

/// The plugin's name in configurations.
pub const NAME: &str = "VolumeZone";

/// Where PreFilter keeps the pod's volume topologies.
const STATE_KEY: &str = "PreFilterVolumeZone";

/// A volume's zone or region that the node is not in.
pub const ERR_REASON_CONFLICT: &str = "node(s) had no available volume zone";

const BETA_ZONE: &str = "failure-domain.beta.kubernetes.io/zone";
const BETA_REGION: &str = "failure-domain.beta.kubernetes.io/region";
const ZONE: &str = "topology.kubernetes.io/zone";
const REGION: &str = "topology.kubernetes.io/region";

/// The labels compared, in upstream's order.
const TOPOLOGY_LABELS: [&str; 4] = [BETA_ZONE, BETA_REGION, ZONE, REGION];

/// Several zones in one label value are joined by this.
const MULTI_ZONE_DELIMITER: &str = "__";

/// The plugin.
pub struct VolumeZone;

/// One topology label of a bound volume: its key and the values allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct VolumeTopology {
    key: &'static str,
    values: BTreeSet<String>,
}

impl Plugin for VolumeZone {
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
        use ActionType as A;
        Some(vec![
            // A new WaitForFirstConsumer class lets an unbound claim wait
            // for binding; classes' binding modes are immutable.
            ClusterEventWithHint::always(EventResource::StorageClass, A::ADD),
            ClusterEventWithHint::always(EventResource::Node, A::ADD | A::UPDATE_NODE_LABEL),
            // A claim created or bound, a volume created or relabelled.
            ClusterEventWithHint::always(EventResource::PersistentVolumeClaim, A::ADD | A::UPDATE),
            ClusterEventWithHint::always(EventResource::PersistentVolume, A::ADD | A::UPDATE),
        ])
    }
}

/// The topology labels of the volumes bound to the pod's claims.
fn pod_volume_topologies(pod: &PodInfo, listers: &Listers) -> Result<Vec<VolumeTopology>, Status> {
    let mut topologies = Vec::new();
    let volumes = pod.pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
    for claim in volumes.filter_map(|v| v.persistent_volume_claim.as_ref()) {
        let name = claim.claim_name.as_str();
        if name.is_empty() {
            return Err(Status::unresolvable("PersistentVolumeClaim had no name"));
        }
        let pvc = listers
            .persistent_volume_claims
            .get(Some(pod.namespace()), name)
            .ok_or_else(|| Status::unresolvable(not_found("persistentvolumeclaim", name)))?;
        let volume_name = pvc.spec.as_ref().and_then(|s| s.volume_name.as_deref());
        let Some(volume_name) = volume_name.filter(|n| !n.is_empty()) else {
            unbound_claim_waits(claim_class(&pvc), listers)?;
            continue;
        };
        let pv = listers
            .persistent_volumes
            .get(None, volume_name)
            .ok_or_else(|| Status::unresolvable(not_found("persistentvolume", volume_name)))?;
        let labels = pv.metadata.labels.as_ref();
        for key in TOPOLOGY_LABELS {
            let Some(value) = labels.and_then(|l| l.get(key)) else {
                continue;
            };
            // A malformed value is ignored, as upstream logs and skips it.
            if let Some(values) = zones(value) {
                topologies.push(VolumeTopology { key, values });
            }
        }
    }
    Ok(topologies)
}

/// An unbound claim is fine only when its class waits for the first
/// consumer; otherwise the claim should have been bound already.
fn unbound_claim_waits(class_name: &str, listers: &Listers) -> Result<(), Status> {
    if class_name.is_empty() {
        return Err(Status::unresolvable(
            "PersistentVolumeClaim had no pv name and storageClass name",
        ));
    }
    let class = listers
        .storage_classes
        .get(None, class_name)
        .ok_or_else(|| {
            Status::unresolvable(not_found("storageclass.storage.k8s.io", class_name))
        })?;
    match class.volume_binding_mode.as_deref() {
        None => Err(Status::unresolvable(format!(
            "VolumeBindingMode not set for StorageClass {class_name:?}"
        ))),
        Some("WaitForFirstConsumer") => Ok(()),
        Some(_) => Err(Status::unresolvable("PersistentVolume had no name")),
    }
}

/// The zones of a label value (`a__b`); `None` when one is empty.
fn zones(value: &str) -> Option<BTreeSet<String>> {
    value
        .split(MULTI_ZONE_DELIMITER)
        .map(|zone| {
            let zone = zone.trim();
            (!zone.is_empty()).then(|| zone.to_string())
        })
        .collect()
}

/// The GA label a deprecated one was replaced by.
fn ga_label(key: &str) -> &str {
    match key {
        BETA_ZONE => ZONE,
        BETA_REGION => REGION,
        other => other,
    }
}

impl PreFilter for VolumeZone {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _snapshot: &Snapshot,
        listers: &Listers,
    ) -> (Option<PreFilterResult>, Status) {
        match pod_volume_topologies(pod, listers) {
            Err(status) => (None, status),
            Ok(topologies) if topologies.is_empty() => (None, Status::skip()),
            Ok(topologies) => {
                state.write(STATE_KEY, Arc::new(topologies));
                (None, Status::success())
            }
        }
    }
}

impl Filter for VolumeZone {
    fn filter(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(topologies) = state.read::<Arc<Vec<VolumeTopology>>>(STATE_KEY) else {
            return Status::error(format!("cannot read {STATE_KEY:?} from cycleState"));
        };
        let labels = node.labels();
        // A node without topology labels is in a single-zone cluster.
        if !TOPOLOGY_LABELS.iter().any(|key| labels.contains_key(*key)) {
            return Status::success();
        }
        for topology in topologies.iter() {
            // A volume's beta label matches the node's GA label too.
            let value = labels
                .get(topology.key)
                .or_else(|| labels.get(ga_label(topology.key)));
            if !value.is_some_and(|v| topology.values.contains(v)) {
                return Status::unresolvable(ERR_REASON_CONFLICT);
            }
        }
        Status::success()
    }
}

/// Makes the plugin (it takes no arguments).
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(VolumeZone))
}

#[cfg(test)]
mod tests;
