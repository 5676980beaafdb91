//! Horizontal pod autoscalers (autoscaling/v2, and v1 served from the same
//! objects). Upstream keeps no
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

kind_strategy! {
    /// autoscaling/v1 HorizontalPodAutoscaler: the same objects as v2's,
    /// checked and printed in v2's form (upstream validates and prints the
    /// internal form both versions share).
    HorizontalPodAutoscalerV1Strategy, HORIZONTAL_POD_AUTOSCALER_V1, api::autoscaling::v1::HorizontalPodAutoscaler {
        defaults: v1_defaults,
        validate: |object: &serde_json::Value, old: Option<&serde_json::Value>| {
            let old = old.map(as_v2);
            crate::validate::autoscaling::horizontal_pod_autoscaler(&as_v2(object), old.as_ref())
        },
        printer: (print::HORIZONTAL_POD_AUTOSCALER, |object, now| {
            print::horizontal_pod_autoscaler(&as_v2(object), now)
        }),
    }
}

/// v1's defaults: one replica at least.
fn v1_defaults(object: &mut serde_json::Value) {
    if let Some(spec) = object
        .get_mut("spec")
        .and_then(serde_json::Value::as_object_mut)
    {
        spec.entry("minReplicas").or_insert(serde_json::json!(1));
    }
}

/// A v1 autoscaler in v2's form, defaulted as v2 objects are.
fn as_v2(v1: &serde_json::Value) -> serde_json::Value {
    let mut v2 = crate::conversion::hpa::to_v2(v1);
    crate::defaults::autoscaling::horizontal_pod_autoscaler(&mut v2);
    v2
}
