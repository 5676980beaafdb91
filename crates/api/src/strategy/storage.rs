//! Persistent volumes, their claims, storage classes, and the CSI
//! drivers registered on each node (CSINode, which the scheduler reads
//! for volume limits).

use super::kind_strategy;
use crate::printers::storage as print;

kind_strategy! {
    /// core/v1 PersistentVolume.
    PersistentVolumeStrategy, PERSISTENT_VOLUME, api::core::v1::PersistentVolume {
        returns_deleted: true,
        defaults: crate::defaults::core::persistent_volume,
        validate: |object, _old| crate::validate::core::persistent_volume(object),
        printer: (print::PERSISTENT_VOLUME, print::persistent_volume),
    }
}

kind_strategy! {
    /// core/v1 PersistentVolumeClaim.
    PersistentVolumeClaimStrategy, PERSISTENT_VOLUME_CLAIM, api::core::v1::PersistentVolumeClaim {
        returns_deleted: true,
        defaults: crate::defaults::core::persistent_volume_claim,
        validate: crate::validate::core::persistent_volume_claim,
        printer: (print::PERSISTENT_VOLUME_CLAIM, print::persistent_volume_claim),
    }
}

kind_strategy! {
    /// storage.k8s.io/v1 StorageClass.
    StorageClassStrategy, STORAGE_CLASS, api::storage::v1::StorageClass {
        defaults: crate::defaults::cluster::storage_class,
        validate: crate::validate::storage_class::storage_class,
        printer: (print::STORAGE_CLASS, print::storage_class_row),
    }
}

kind_strategy! {
    /// storage.k8s.io/v1 CSINode.
    CsiNodeStrategy, CSI_NODE, api::storage::v1::CSINode {
        printer: (print::CSI_NODE, print::csi_node_row),
    }
}
