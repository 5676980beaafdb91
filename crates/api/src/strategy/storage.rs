//! Persistent volumes and their claims.

use super::kind_strategy;
use crate::printers::storage as print;

kind_strategy! {
    /// core/v1 PersistentVolume.
    PersistentVolumeStrategy, PERSISTENT_VOLUME, api::core::v1::PersistentVolume {
        defaults: crate::defaults::core::persistent_volume,
        validate: |object, _old| crate::validate::core::persistent_volume(object),
        printer: (print::PERSISTENT_VOLUME, print::persistent_volume),
    }
}

kind_strategy! {
    /// core/v1 PersistentVolumeClaim.
    PersistentVolumeClaimStrategy, PERSISTENT_VOLUME_CLAIM, api::core::v1::PersistentVolumeClaim {
        defaults: crate::defaults::core::persistent_volume_claim,
        validate: crate::validate::core::persistent_volume_claim,
        printer: (print::PERSISTENT_VOLUME_CLAIM, print::persistent_volume_claim),
    }
}
