//! PreFilter's reading of a pod's claims (upstream's `podHasPVCs` and
//! `GetPodVolumeClaims`): each claim found and usable, then sorted into
//! bound, unbound waiting for the first consumer, and unbound that
//! should have been bound already; with the volumes and classes Filter
//! reads on every node fetched once.

use std::collections::HashMap;
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use keelson_api::k8s_openapi::api::storage::v1::StorageClass;

use super::assume::AssumeCache;
use super::claims::{claim_class, not_found, pod_claims, volume_is_for_pod};
use crate::framework::Listers;

/// Set on a claim once the PV controller has finished binding it.
pub(crate) const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// The class annotation that preceded `spec.storageClassName`.
const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// A pod's claims as PreFilter sorted them.
#[derive(Debug, Clone, Default)]
pub(crate) struct PodVolumeClaims {
    /// Bound claims, with their volumes (`None`: the volume is not found).
    pub(crate) bound: Vec<(Arc<PersistentVolumeClaim>, Option<Arc<PersistentVolume>>)>,
    /// Unbound claims of classes that wait for the first consumer.
    pub(crate) unbound_delay_binding: Vec<Arc<PersistentVolumeClaim>>,
    /// How many unbound claims should have been bound already.
    pub(crate) unbound_immediate: usize,
    /// The volumes of each class of the unbound claims.
    pub(crate) volumes_by_class: HashMap<String, Vec<Arc<PersistentVolume>>>,
    /// The classes of the unbound claims (`None`: not found).
    pub(crate) classes: HashMap<String, Option<Arc<StorageClass>>>,
}

/// `namespace/name` of a claim.
pub(crate) fn claim_key(claim: &PersistentVolumeClaim) -> String {
    let namespace = claim.metadata.namespace.as_deref().unwrap_or_default();
    let name = claim.metadata.name.as_deref().unwrap_or_default();
    format!("{namespace}/{name}")
}

/// The claim `name` in `namespace`, as assumed or else as listed.
pub(crate) fn lookup_claim(
    listers: &Listers,
    assumed: &AssumeCache,
    namespace: &str,
    name: &str,
) -> Option<Arc<PersistentVolumeClaim>> {
    let listed = listers
        .persistent_volume_claims
        .get(Some(namespace), name)?;
    Some(
        assumed
            .claims
            .latest(&format!("{namespace}/{name}"), listed),
    )
}

/// Whether the PV controller finished binding the claim.
pub(crate) fn is_fully_bound(claim: &PersistentVolumeClaim) -> bool {
    let annotations = claim.metadata.annotations.as_ref();
    !volume_name(claim).is_empty()
        && annotations.is_some_and(|a| a.contains_key(ANN_BIND_COMPLETED))
}

/// The volume a claim names (`""` when none).
pub(crate) fn volume_name(claim: &PersistentVolumeClaim) -> &str {
    let spec = claim.spec.as_ref();
    spec.and_then(|s| s.volume_name.as_deref())
        .unwrap_or_default()
}

/// The class of a volume: the beta annotation, else its spec's.
pub(crate) fn volume_class(volume: &PersistentVolume) -> &str {
    let annotations = volume.metadata.annotations.as_ref();
    if let Some(class) = annotations.and_then(|a| a.get(BETA_STORAGE_CLASS)) {
        return class;
    }
    let spec = volume.spec.as_ref();
    spec.and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or_default()
}

/// Whether the pod uses claims, each of them found and usable; the
/// message a user reads when one is not.
pub(crate) fn pod_has_claims(
    pod: &Pod,
    listers: &Listers,
    assumed: &AssumeCache,
) -> Result<bool, String> {
    let namespace = crate::framework::pod_info::namespace(pod);
    let mut has = false;
    for (name, ephemeral) in pod_claims(pod) {
        has = true;
        let Some(claim) = lookup_claim(listers, assumed, namespace, &name) else {
            return Err(if ephemeral {
                format!(
                    "waiting for ephemeral volume controller to create the persistentvolumeclaim {name:?}"
                )
            } else {
                not_found("persistentvolumeclaim", &name)
            });
        };
        let phase = claim.status.as_ref().and_then(|s| s.phase.as_deref());
        if phase == Some("Lost") {
            let volume = volume_name(&claim);
            return Err(format!(
                "persistentvolumeclaim {name:?} bound to non-existent persistentvolume {volume:?}"
            ));
        }
        if claim.metadata.deletion_timestamp.is_some() {
            return Err(format!("persistentvolumeclaim {name:?} is being deleted"));
        }
        if ephemeral {
            volume_is_for_pod(pod, &claim)?;
        }
    }
    Ok(has)
}

/// Whether an unbound claim waits for its first consumer: its class
/// says `WaitForFirstConsumer` (no class, or one not found: immediate).
fn is_delay_binding(claim: &PersistentVolumeClaim, listers: &Listers) -> Result<bool, String> {
    let class_name = claim_class(claim);
    if class_name.is_empty() {
        return Ok(false);
    }
    let Some(class) = listers.storage_classes.get(None, class_name) else {
        return Ok(false);
    };
    match class.volume_binding_mode.as_deref() {
        None => Err(format!(
            "VolumeBindingMode not set for StorageClass {class_name:?}"
        )),
        Some(mode) => Ok(mode == "WaitForFirstConsumer"),
    }
}

/// Sorts the pod's claims (which [`pod_has_claims`] found).
pub(crate) fn pod_volume_claims(
    pod: &Pod,
    listers: &Listers,
    assumed: &AssumeCache,
) -> Result<PodVolumeClaims, String> {
    let namespace = crate::framework::pod_info::namespace(pod);
    let mut claims = PodVolumeClaims::default();
    for (name, _) in pod_claims(pod) {
        let claim = lookup_claim(listers, assumed, namespace, &name)
            .ok_or_else(|| format!("error getting PVC \"{namespace}/{name}\": not found"))?;
        if is_fully_bound(&claim) {
            let volume = lookup_volume(listers, assumed, volume_name(&claim));
            claims.bound.push((claim, volume));
        } else if is_delay_binding(&claim, listers)? && volume_name(&claim).is_empty() {
            claims.unbound_delay_binding.push(claim);
        } else {
            // Immediate claims, and claims pre-bound to a volume, are the
            // PV controller's to bind.
            claims.unbound_immediate += 1;
        }
    }
    for claim in &claims.unbound_delay_binding {
        let class = claim_class(claim).to_string();
        if claims.volumes_by_class.contains_key(&class) {
            continue;
        }
        let volumes = list_volumes(listers, assumed, &class);
        claims.volumes_by_class.insert(class.clone(), volumes);
        let found = listers.storage_classes.get(None, &class);
        claims.classes.insert(class, found);
    }
    Ok(claims)
}

/// The volume `name`, as assumed or else as listed.
pub(crate) fn lookup_volume(
    listers: &Listers,
    assumed: &AssumeCache,
    name: &str,
) -> Option<Arc<PersistentVolume>> {
    let listed = listers.persistent_volumes.get(None, name)?;
    Some(assumed.volumes.latest(name, listed))
}

/// The volumes of `class`, as assumed or else as listed, by name.
fn list_volumes(
    listers: &Listers,
    assumed: &AssumeCache,
    class: &str,
) -> Vec<Arc<PersistentVolume>> {
    let mut volumes: Vec<_> = listers
        .persistent_volumes
        .list()
        .into_iter()
        .filter(|v| volume_class(v) == class)
        .map(|v| {
            let name = v.metadata.name.clone().unwrap_or_default();
            assumed.volumes.latest(&name, v)
        })
        .collect();
    // The lister's order is a hash map's: sorted, ties between equal
    // volumes are broken the same way every cycle.
    volumes.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    volumes
}
