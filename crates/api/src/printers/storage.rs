//! The tables of persistent volumes, persistent volume claims and storage
//! classes.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::{CSINode, StorageClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

use super::format::{self, age};
use super::{AGE, Column, NAME, Row, col, wide};

/// The annotation that named the storage class before the field existed.
const STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

pub(crate) const PERSISTENT_VOLUME: &[Column] = &[
    NAME,
    col(
        "Capacity",
        "string",
        "capacity is the description of the persistent volume's resources and capacity.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains all ways the volume can be mounted.",
    ),
    col(
        "Reclaim Policy",
        "string",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
    ),
    col(
        "Status",
        "string",
        "phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    col(
        "Claim",
        "string",
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
    ),
    col("StorageClass", "string", "StorageClass of the pv"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    col(
        "Reason",
        "string",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
    ),
];

pub(crate) const PERSISTENT_VOLUME_CLAIM: &[Column] = &[
    NAME,
    col(
        "Status",
        "string",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    col(
        "Volume",
        "string",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    col(
        "Capacity",
        "string",
        "capacity represents the actual resources of the underlying volume.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains the actual access modes the volume backing the PVC has.",
    ),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        "volumeMode defines what type of volume is required by the claim.",
    ),
];

/// The storage class: the legacy annotation, else the field.
fn storage_class(metadata: &ObjectMeta, field: Option<&String>) -> String {
    metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(STORAGE_CLASS_ANNOTATION))
        .or(field)
        .cloned()
        .unwrap_or_default()
}

/// The phase, or `Terminating` once deletion started.
fn phase(metadata: &ObjectMeta, phase: Option<String>) -> String {
    if metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        phase.unwrap_or_default()
    }
}

fn unset(value: Option<String>) -> String {
    value.unwrap_or_else(|| "<unset>".to_string())
}

pub(crate) fn persistent_volume(object: &Value, now: Timestamp) -> Option<Row> {
    let volume: PersistentVolume = super::typed(object)?;
    let spec = volume.spec.unwrap_or_default();
    let status = volume.status.unwrap_or_default();
    let claim = spec
        .claim_ref
        .as_ref()
        .map(|c| {
            format!(
                "{}/{}",
                c.namespace.as_deref().unwrap_or_default(),
                c.name.as_deref().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let capacity = spec
        .capacity
        .as_ref()
        .and_then(|c| c.get("storage"))
        .map(|q| q.0.as_str());
    Some(Row::new(vec![
        json!(volume.metadata.name.clone().unwrap_or_default()),
        json!(format::quantity(capacity)),
        json!(format::access_modes(spec.access_modes.as_ref())),
        json!(
            spec.persistent_volume_reclaim_policy
                .clone()
                .unwrap_or_default()
        ),
        json!(phase(&volume.metadata, status.phase)),
        json!(claim),
        json!(storage_class(
            &volume.metadata,
            spec.storage_class_name.as_ref()
        )),
        json!(unset(spec.volume_attributes_class_name)),
        json!(status.reason.unwrap_or_default()),
        json!(age(volume.metadata.creation_timestamp.as_ref(), now)),
        json!(unset(spec.volume_mode)),
    ]))
}

pub(crate) fn persistent_volume_claim(object: &Value, now: Timestamp) -> Option<Row> {
    let claim: PersistentVolumeClaim = super::typed(object)?;
    let spec = claim.spec.unwrap_or_default();
    let status = claim.status.unwrap_or_default();
    let volume = spec.volume_name.clone().unwrap_or_default();
    let (capacity, access_modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        let capacity = status
            .capacity
            .as_ref()
            .and_then(|c| c.get("storage"))
            .map(|q| q.0.as_str());
        (
            format::quantity(capacity),
            format::access_modes(status.access_modes.as_ref()),
        )
    };
    Some(Row::new(vec![
        json!(claim.metadata.name.clone().unwrap_or_default()),
        json!(phase(&claim.metadata, status.phase)),
        json!(volume),
        json!(capacity),
        json!(access_modes),
        json!(storage_class(
            &claim.metadata,
            spec.storage_class_name.as_ref()
        )),
        json!(unset(spec.volume_attributes_class_name)),
        json!(age(claim.metadata.creation_timestamp.as_ref(), now)),
        json!(unset(spec.volume_mode)),
    ]))
}

/// The annotations that mark the default storage class.
const DEFAULT_CLASS_ANNOTATIONS: &[&str] = &[
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];

pub(crate) const STORAGE_CLASS: &[Column] = &[
    NAME,
    col(
        "Provisioner",
        "string",
        "provisioner indicates the type of the provisioner.",
    ),
    col(
        "ReclaimPolicy",
        "string",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.",
    ),
    col(
        "VolumeBindingMode",
        "string",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.",
    ),
    col(
        "AllowVolumeExpansion",
        "string",
        "allowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    AGE,
];

/// The class's name, marked ` (default)` for the default class.
pub(crate) fn storage_class_row(object: &Value, now: Timestamp) -> Option<Row> {
    let class: StorageClass = super::typed(object)?;
    let annotations = class.metadata.annotations.clone().unwrap_or_default();
    let default = DEFAULT_CLASS_ANNOTATIONS
        .iter()
        .any(|key| annotations.get(*key).is_some_and(|v| v == "true"));
    let mut name = class.metadata.name.clone().unwrap_or_default();
    if default {
        name.push_str(" (default)");
    }
    Some(Row::new(vec![
        json!(name),
        json!(class.provisioner),
        json!(class.reclaim_policy.unwrap_or_else(|| "Delete".to_string())),
        json!(
            class
                .volume_binding_mode
                .unwrap_or_else(|| "Immediate".to_string())
        ),
        json!(class.allow_volume_expansion.unwrap_or(false)),
        json!(age(class.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) const CSI_NODE: &[Column] = &[
    NAME,
    col(
        "Drivers",
        "integer",
        "Drivers indicates the number of CSI drivers registered on the node",
    ),
    AGE,
];

/// A CSINode's row: its name, how many drivers, its age.
pub(crate) fn csi_node_row(object: &Value, now: Timestamp) -> Option<Row> {
    let node: CSINode = super::typed(object)?;
    Some(Row::new(vec![
        json!(node.metadata.name.clone().unwrap_or_default()),
        json!(node.spec.drivers.len()),
        json!(age(node.metadata.creation_timestamp.as_ref(), now)),
    ]))
}
