//! Horizontal pod autoscalers (autoscaling/v2). Upstream keeps no
//! generation for them.

use super::kind_strategy;
use crate::printers::autoscaling as print;

kind_strategy! {
    /// autoscaling/v2 HorizontalPodAutoscaler.
    HorizontalPodAutoscalerStrategy, HORIZONTAL_POD_AUTOSCALER, api::autoscaling::v2::HorizontalPodAutoscaler {
        defaults: crate::defaults::autoscaling::horizontal_pod_autoscaler,
        validate: crate::validate::autoscaling::horizontal_pod_autoscaler,
        printer: (print::HORIZONTAL_POD_AUTOSCALER, print::horizontal_pod_autoscaler),
    }
}
