//! How the volume plugins read a pod's claims: the claim each volume
//! names (generic ephemeral volumes included), a claim's class, and the
//! messages a claim or volume not found gives, as upstream's
//! `storage/volume` and `storage/ephemeral` helpers.

use keelson_api::k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, Volume};

/// The annotation that named a claim's class before `storageClassName`.
const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// The class a claim asks for: the beta annotation, else
/// `spec.storageClassName`, else none (`""`).
pub(crate) fn claim_class(claim: &PersistentVolumeClaim) -> &str {
    let annotations = claim.metadata.annotations.as_ref();
    if let Some(class) = annotations.and_then(|a| a.get(BETA_STORAGE_CLASS)) {
        return class;
    }
    let spec = claim.spec.as_ref();
    spec.and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or_default()
}

/// The claim a volume uses, and whether it is a generic ephemeral
/// volume's (named `<pod>-<volume>`); `None` for other volumes.
pub(crate) fn volume_claim(pod: &Pod, volume: &Volume) -> Option<(String, bool)> {
    if let Some(claim) = &volume.persistent_volume_claim {
        return Some((claim.claim_name.clone(), false));
    }
    volume.ephemeral.as_ref()?;
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    Some((format!("{pod_name}-{}", volume.name), true))
}

/// The claims of the pod's volumes, in order.
pub(crate) fn pod_claims(pod: &Pod) -> impl Iterator<Item = (String, bool)> + '_ {
    let volumes = pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
    volumes.filter_map(move |v| volume_claim(pod, v))
}

/// Whether an ephemeral volume's claim was made for `pod` (the pod is its
/// controlling owner), as upstream's `ephemeral.VolumeIsForPod`.
pub(crate) fn volume_is_for_pod(pod: &Pod, claim: &PersistentVolumeClaim) -> Result<(), String> {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    let owners = claim.metadata.owner_references.iter().flatten();
    if owners
        .into_iter()
        .any(|o| o.controller == Some(true) && o.uid == uid)
    {
        return Ok(());
    }
    let namespace = crate::framework::pod_info::namespace(pod);
    Err(format!(
        "PVC {namespace}/{} was not created for pod {namespace}/{} (pod is not owner)",
        claim.metadata.name.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default(),
    ))
}

/// The API server's message for an object not found (`kind` as its
/// error names it: `persistentvolumeclaim`, `persistentvolume`,
/// `storageclass.storage.k8s.io`).
pub(crate) fn not_found(kind: &str, name: &str) -> String {
    format!("{kind} \"{name}\" not found")
}
/// The requested storage of a claim, in bytes (0 when it asks none).
pub(crate) fn requested_storage(claim: &PersistentVolumeClaim) -> i64 {
    let spec = claim.spec.as_ref();
    let requests = spec.and_then(|s| s.resources.as_ref()?.requests.as_ref());
    requests
        .and_then(|r| r.get("storage"))
        .map_or(0, |q| quantity_bytes(&q.0))
}

/// A quantity's value in whole units, rounded up (0 when unreadable).
pub(crate) fn quantity_bytes(text: &str) -> i64 {
    keelson_api::Quantity::parse(text)
        .ok()
        .and_then(|q| q.value())
        .unwrap_or(0)
}
