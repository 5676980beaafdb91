//! The table of horizontal pod autoscalers, with upstream's summary of
//! each metric's current value against its target.

use jiff::Timestamp;
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricTarget, MetricValueStatus,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::{Value, json};

use super::format::{age, quantity};
use super::{AGE, Column, NAME, Row, col};

/// How many metrics the Targets column shows before `+ N more...`.
const SHOWN_METRICS: usize = 2;
const UNKNOWN: &str = "<unknown>";

pub(crate) const HORIZONTAL_POD_AUTOSCALER: &[Column] = &[
    NAME,
    col(
        "Reference",
        "string",
        "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
    ),
    col(
        "Targets",
        "string",
        "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.",
    ),
    col(
        "MinPods",
        "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.",
    ),
    col(
        "MaxPods",
        "string",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.",
    ),
    col(
        "Replicas",
        "string",
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
    ),
    AGE,
];

pub(crate) fn horizontal_pod_autoscaler(object: &Value, now: Timestamp) -> Option<Row> {
    let autoscaler: HorizontalPodAutoscaler = super::typed(object)?;
    let spec = autoscaler.spec.unwrap_or_default();
    let status = autoscaler.status.unwrap_or_default();
    let target = &spec.scale_target_ref;
    let statuses = status.current_metrics.unwrap_or_default();
    let min = spec
        .min_replicas
        .map_or_else(|| "<unset>".to_string(), |m| m.to_string());
    Some(Row::new(vec![
        json!(autoscaler.metadata.name.unwrap_or_default()),
        json!(format!("{}/{}", target.kind, target.name)),
        json!(metrics(
            spec.metrics.as_deref().unwrap_or_default(),
            &statuses
        )),
        json!(min),
        json!(spec.max_replicas),
        json!(status.current_replicas.unwrap_or(0)),
        json!(age(autoscaler.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

/// Upstream's `formatHPAMetrics`.
fn metrics(specs: &[MetricSpec], statuses: &[MetricStatus]) -> String {
    if specs.is_empty() {
        return "<none>".to_string();
    }
    let cells: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| metric(spec, statuses.get(i)))
        .collect();
    let shown = cells[..cells.len().min(SHOWN_METRICS)].join(", ");
    if cells.len() > SHOWN_METRICS {
        format!("{shown} + {} more...", cells.len() - SHOWN_METRICS)
    } else {
        shown
    }
}

fn text(value: Option<&Quantity>) -> String {
    quantity(value.map(|q| q.0.as_str()))
}

/// A known current value, else `<unknown>`.
fn current(value: Option<&Quantity>) -> String {
    value.map_or_else(|| UNKNOWN.to_string(), |q| quantity(Some(&q.0)))
}

/// `current/target`, `(avg)` when the target is an average.
fn value_or_average(target: &MetricTarget, current_value: Option<&MetricValueStatus>) -> String {
    match &target.average_value {
        Some(average) => {
            let now = current(current_value.and_then(|c| c.average_value.as_ref()));
            format!("{now}/{} (avg)", text(Some(average)))
        }
        None => {
            let now = current_value.map_or_else(|| UNKNOWN.to_string(), |c| text(c.value.as_ref()));
            format!("{now}/{}", text(target.value.as_ref()))
        }
    }
}

/// `name: current/target` of a resource metric, as a value or a
/// utilization.
fn resource(
    name: &str,
    target: &MetricTarget,
    current_value: Option<&MetricValueStatus>,
) -> String {
    if let Some(average) = &target.average_value {
        let now =
            current_value.map_or_else(|| UNKNOWN.to_string(), |c| text(c.average_value.as_ref()));
        return format!("{name}: {now}/{}", text(Some(average)));
    }
    let now = current_value
        .and_then(|c| c.average_utilization)
        .map_or_else(|| UNKNOWN.to_string(), |u| format!("{u}%"));
    let goal = target
        .average_utilization
        .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
    format!("{name}: {now}/{goal}")
}

fn metric(spec: &MetricSpec, status: Option<&MetricStatus>) -> String {
    match spec.type_.as_str() {
        "External" => match &spec.external {
            Some(external) => {
                let now = status.and_then(|s| s.external.as_ref()).map(|e| &e.current);
                value_or_average(&external.target, now)
            }
            None => "<unknown type>".to_string(),
        },
        "Pods" => match &spec.pods {
            Some(pods) => {
                let now = status.and_then(|s| s.pods.as_ref()).map_or_else(
                    || UNKNOWN.to_string(),
                    |p| text(p.current.average_value.as_ref()),
                );
                format!("{now}/{}", text(pods.target.average_value.as_ref()))
            }
            None => "<unknown type>".to_string(),
        },
        "Object" => match &spec.object {
            Some(object) => {
                let now = status.and_then(|s| s.object.as_ref()).map(|o| &o.current);
                value_or_average(&object.target, now)
            }
            None => "<unknown type>".to_string(),
        },
        "Resource" => match &spec.resource {
            Some(source) => {
                let now = status.and_then(|s| s.resource.as_ref()).map(|r| &r.current);
                resource(&source.name, &source.target, now)
            }
            None => "<unknown type>".to_string(),
        },
        "ContainerResource" => match &spec.container_resource {
            Some(source) => {
                let now = status
                    .and_then(|s| s.container_resource.as_ref())
                    .map(|r| &r.current);
                resource(&source.name, &source.target, now)
            }
            None => "<unknown type>".to_string(),
        },
        _ => "<unknown type>".to_string(),
    }
}
