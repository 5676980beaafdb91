//! Defaults of autoscaling/v2 HorizontalPodAutoscalers, as upstream's
//! `SetDefaults_HorizontalPodAutoscaler`: one replica at least, 80% CPU
//! when no metric is given, and a behavior's missing rules filled from
//! the default scale-up and scale-down rules.

use serde_json::{Value, json};

use crate::json::{at, default_absent, list_of, object_entry};

/// The CPU utilization an autoscaler targets when it names no metric.
const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// HorizontalPodAutoscaler.
pub(crate) fn horizontal_pod_autoscaler(object: &mut Value) {
    let Some(spec) = object_entry(object, "spec") else {
        return;
    };
    default_absent(spec, "minReplicas", json!(1));
    if list_of(spec, "metrics").is_empty() {
        spec["metrics"] = json!([{
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION},
            },
        }]);
    }
    if at(spec, &["behavior"]).is_some_and(Value::is_object) {
        let behavior = &mut spec["behavior"];
        behavior["scaleUp"] = with_defaults(behavior.get("scaleUp"), scale_up());
        behavior["scaleDown"] = with_defaults(behavior.get("scaleDown"), scale_down());
    }
}

/// Scaling up: at once, by the larger of 4 pods or 100% every 15 s.
fn scale_up() -> Value {
    json!({
        "stabilizationWindowSeconds": 0,
        "selectPolicy": "Max",
        "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ],
    })
}

/// Scaling down: by up to 100% every 15 s, after the controller's own
/// stabilization window (left unset here).
fn scale_down() -> Value {
    json!({
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
    })
}

/// `defaults` with the fields `given` sets taken from it.
fn with_defaults(given: Option<&Value>, mut defaults: Value) -> Value {
    let Some(given) = given.and_then(Value::as_object) else {
        return defaults;
    };
    for key in [
        "selectPolicy",
        "stabilizationWindowSeconds",
        "policies",
        "tolerance",
    ] {
        if let Some(value) = given.get(key).filter(|v| !v.is_null()) {
            defaults[key] = value.clone();
        }
    }
    defaults
}
