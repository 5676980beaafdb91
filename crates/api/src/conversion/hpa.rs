//! autoscaling/v1 HorizontalPodAutoscalers, served from the autoscaling/v2
//! objects the store holds, as upstream serves both versions of one
//! object. v1 says only "a CPU utilization"; everything else v2 says
//! rides in v1's annotations, as upstream's conversion keeps it: the other
//! metrics (`autoscaling.alpha.kubernetes.io/metrics`), the behavior
//! (`.../behavior`), the other current metrics (`.../current-metrics`) and
//! the conditions (`.../conditions`). keelson writes them as v2 JSON.

use serde_json::{Map, Value, json};

const METRICS: &str = "autoscaling.alpha.kubernetes.io/metrics";
const BEHAVIOR: &str = "autoscaling.alpha.kubernetes.io/behavior";
const CURRENT_METRICS: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
const CONDITIONS: &str = "autoscaling.alpha.kubernetes.io/conditions";

/// The spec fields both versions share.
const SPEC_FIELDS: &[&str] = &["scaleTargetRef", "minReplicas", "maxReplicas"];
/// The status fields both versions share.
const STATUS_FIELDS: &[&str] = &[
    "observedGeneration",
    "lastScaleTime",
    "currentReplicas",
    "desiredReplicas",
];

/// Whether a v2 metric (spec or status) is the CPU utilization v1 names.
fn is_cpu_utilization(metric: &Value, side: &str) -> bool {
    metric["type"] == "Resource"
        && metric["resource"]["name"] == "cpu"
        && metric["resource"][side]["averageUtilization"].is_i64()
}

/// The v2 form (stored) of a v1 autoscaler.
pub fn to_v2(v1: &Value) -> Value {
    let mut metadata = v1.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let taken = take_annotations(&mut metadata);
    let annotation = |key: &str| {
        let text = taken.get(key).and_then(Value::as_str)?;
        serde_json::from_str::<Value>(text).ok()
    };
    let spec = &v1["spec"];
    let mut v2_spec = Map::new();
    copy(spec, &mut v2_spec, SPEC_FIELDS);
    let mut metrics = Vec::new();
    if let Some(percent) = spec["targetCPUUtilizationPercentage"].as_i64() {
        metrics.push(json!({"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": percent}}}));
    }
    metrics.extend(
        annotation(METRICS)
            .and_then(|m| m.as_array().cloned())
            .unwrap_or_default(),
    );
    if !metrics.is_empty() {
        v2_spec.insert("metrics".into(), Value::Array(metrics));
    }
    if let Some(behavior) = annotation(BEHAVIOR) {
        v2_spec.insert("behavior".into(), behavior);
    }
    let mut object = json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata,
        "spec": v2_spec,
    });
    if let Some(status) = v1.get("status").filter(|s| s.is_object()) {
        object["status"] =
            status_to_v2(status, annotation(CURRENT_METRICS), annotation(CONDITIONS));
    }
    object
}

fn status_to_v2(status: &Value, current: Option<Value>, conditions: Option<Value>) -> Value {
    let mut v2 = Map::new();
    copy(status, &mut v2, STATUS_FIELDS);
    let mut metrics = Vec::new();
    if let Some(percent) = status["currentCPUUtilizationPercentage"].as_i64() {
        metrics.push(json!({"type": "Resource", "resource": {"name": "cpu",
            "current": {"averageUtilization": percent}}}));
    }
    metrics.extend(
        current
            .and_then(|m| m.as_array().cloned())
            .unwrap_or_default(),
    );
    if !metrics.is_empty() {
        v2.insert("currentMetrics".into(), Value::Array(metrics));
    }
    if let Some(conditions) = conditions {
        v2.insert("conditions".into(), conditions);
    }
    Value::Object(v2)
}

/// The v1 form of a stored v2 autoscaler.
pub fn from_v2(v2: &Value) -> Value {
    let mut metadata = v2.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let spec = &v2["spec"];
    let mut v1_spec = Map::new();
    copy(spec, &mut v1_spec, SPEC_FIELDS);
    let (cpu, others) = split_metrics(&spec["metrics"], "target");
    if let Some(cpu) = cpu {
        v1_spec.insert(
            "targetCPUUtilizationPercentage".into(),
            cpu["resource"]["target"]["averageUtilization"].clone(),
        );
    }
    let mut annotations = Vec::new();
    if !others.is_empty() {
        annotations.push((METRICS, Value::Array(others)));
    }
    if let Some(behavior) = spec.get("behavior").filter(|b| !b.is_null()) {
        annotations.push((BEHAVIOR, behavior.clone()));
    }
    let mut object = json!({
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "spec": v1_spec,
    });
    if let Some(status) = v2.get("status").filter(|s| s.is_object()) {
        let mut v1_status = Map::new();
        copy(status, &mut v1_status, STATUS_FIELDS);
        let (cpu, others) = split_metrics(&status["currentMetrics"], "current");
        if let Some(cpu) = cpu {
            v1_status.insert(
                "currentCPUUtilizationPercentage".into(),
                cpu["resource"]["current"]["averageUtilization"].clone(),
            );
        }
        if !others.is_empty() {
            annotations.push((CURRENT_METRICS, Value::Array(others)));
        }
        if let Some(conditions) = status
            .get("conditions")
            .filter(|c| c.as_array().is_some_and(|c| !c.is_empty()))
        {
            annotations.push((CONDITIONS, conditions.clone()));
        }
        object["status"] = Value::Object(v1_status);
    }
    put_annotations(&mut metadata, annotations);
    object["metadata"] = metadata;
    object
}

/// The CPU utilization metric and the others.
fn split_metrics(metrics: &Value, side: &str) -> (Option<Value>, Vec<Value>) {
    let mut cpu = None;
    let mut others = Vec::new();
    for metric in metrics.as_array().into_iter().flatten() {
        if cpu.is_none() && is_cpu_utilization(metric, side) {
            cpu = Some(metric.clone());
        } else {
            others.push(metric.clone());
        }
    }
    (cpu, others)
}

/// Copies the set `fields` of `from`.
fn copy(from: &Value, to: &mut Map<String, Value>, fields: &[&str]) {
    for field in fields {
        if let Some(value) = from.get(*field).filter(|v| !v.is_null()) {
            to.insert(field.to_string(), value.clone());
        }
    }
}

/// Removes and returns the conversion's annotations.
fn take_annotations(metadata: &mut Value) -> Map<String, Value> {
    let mut taken = Map::new();
    if let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    {
        for key in [METRICS, BEHAVIOR, CURRENT_METRICS, CONDITIONS] {
            if let Some(value) = annotations.remove(key) {
                taken.insert(key.to_string(), value);
            }
        }
        if annotations.is_empty()
            && let Some(map) = metadata.as_object_mut()
        {
            map.remove("annotations");
        }
    }
    taken
}

fn put_annotations(metadata: &mut Value, annotations: Vec<(&str, Value)>) {
    if annotations.is_empty() || !metadata.is_object() {
        return;
    }
    if !metadata["annotations"].is_object() {
        metadata["annotations"] = json!({});
    }
    for (key, value) in annotations {
        metadata["annotations"][key] = Value::String(value.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_maps_to_a_utilization_metric_and_back() {
        let v1 = json!({
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 5, "targetCPUUtilizationPercentage": 70},
            "status": {"currentReplicas": 2, "desiredReplicas": 3, "currentCPUUtilizationPercentage": 55},
        });
        let v2 = to_v2(&v1);
        assert_eq!(v2["apiVersion"], "autoscaling/v2");
        assert_eq!(
            v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            70
        );
        assert_eq!(
            v2["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"],
            55
        );
        assert_eq!(from_v2(&v2), v1);
    }

    #[test]
    fn what_v1_cannot_say_rides_in_annotations() {
        let memory = json!({"type": "Resource", "resource": {"name": "memory",
            "target": {"type": "AverageValue", "averageValue": "500Mi"}}});
        let v2 = json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "annotations": {"team": "a"}},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
                     "metrics": [memory], "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}},
        });
        let v1 = from_v2(&v2);
        assert!(v1["spec"].get("targetCPUUtilizationPercentage").is_none());
        let annotations = &v1["metadata"]["annotations"];
        assert_eq!(annotations["team"], "a");
        assert!(
            annotations[METRICS]
                .as_str()
                .is_some_and(|m| m.contains("500Mi"))
        );
        let back = to_v2(&v1);
        assert_eq!(back, v2);
    }
}
