//! Pods: their first status (phase and quality-of-service class), graceful
//! deletion, the pod table and the fields a pod can be selected by.

use serde_json::{Value, json};

use super::{Message, Strategy, protobuf::message};
use crate::field_error::FieldError;
use crate::field_selector::{Field, NAME, NAMESPACE, Reader, SelectableFields, text};
use crate::printers::{self, Printer};

/// A pod's grace period when neither the delete nor the pod names one.
const DEFAULT_GRACE_SECONDS: i64 = 30;

const FIELDS: SelectableFields = SelectableFields::core(&[
    NAME,
    NAMESPACE,
    text("spec.nodeName", &["spec", "nodeName"]),
    text("spec.restartPolicy", &["spec", "restartPolicy"]),
    text("spec.schedulerName", &["spec", "schedulerName"]),
    text("spec.serviceAccountName", &["spec", "serviceAccountName"]),
    Field {
        name: "spec.hostNetwork",
        reader: Reader::Bool(&["spec", "hostNetwork"]),
    },
    text("status.phase", &["status", "phase"]),
    Field {
        name: "status.podIP",
        reader: Reader::PodIp,
    },
    text("status.nominatedNodeName", &["status", "nominatedNodeName"]),
])
.with_aliases(&[("spec.host", "spec.nodeName")]);

static PRINTER: Printer = Printer::new(printers::pod::COLUMNS, printers::pod::row);

/// core/v1 Pod.
pub(crate) struct PodStrategy;
pub(crate) static POD: PodStrategy = PodStrategy;

impl Strategy for PodStrategy {
    fn protobuf(&self) -> Option<Message> {
        Some(message!(api::core::v1::Pod))
    }

    /// A pod with scheduling gates starts with `PodScheduled=False`,
    /// reason `SchedulingGated`, as upstream's strategy gives it, so that
    /// `kubectl get pods` says why it waits.
    fn prepare_for_create(&self, object: &mut Value) {
        object["status"] = json!({"phase": "Pending", "qosClass": qos_class(object)});
        let gated = object
            .pointer("/spec/schedulingGates")
            .and_then(Value::as_array)
            .is_some_and(|gates| !gates.is_empty());
        if gated {
            object["status"]["conditions"] = json!([{
                "type": "PodScheduled",
                "status": "False",
                "reason": "SchedulingGated",
                "message": "Scheduling is blocked due to non-empty scheduling gates",
            }]);
        }
    }

    fn defaults(&self, object: &mut Value) {
        crate::defaults::pod::pod(object);
    }

    fn validate(&self, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
        crate::validate::pod::pod(object, old)
    }

    /// None when the pod never ran on a node or has finished; else the
    /// requested period, the pod's own, or 30 s.
    fn grace_period(&self, pod: &Value, requested: Option<i64>) -> i64 {
        let scheduled = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let finished = matches!(
            pod.pointer("/status/phase").and_then(Value::as_str),
            Some("Succeeded" | "Failed")
        );
        if !scheduled || finished {
            return 0;
        }
        requested.unwrap_or_else(|| {
            pod.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(DEFAULT_GRACE_SECONDS)
        })
    }

    fn returns_deleted_object(&self) -> bool {
        true
    }

    fn printer(&self) -> Option<&'static Printer> {
        Some(&PRINTER)
    }

    fn selectable_fields(&self) -> &'static SelectableFields {
        &FIELDS
    }
}

/// A pod's quality-of-service class from its containers' resources.
fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|field| {
            pod.pointer(&format!("/spec/{field}"))
                .and_then(Value::as_array)
        })
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for container in containers {
        let requests = container.pointer("/resources/requests");
        let limits = container.pointer("/resources/limits");
        for resource in ["cpu", "memory"] {
            let request = requests.and_then(|r| r.get(resource));
            let limit = limits.and_then(|l| l.get(resource));
            any |= request.is_some() || limit.is_some();
            guaranteed &= limit.is_some() && (request.is_none() || request == limit);
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_classes() {
        let pod = |resources: Value| json!({"spec": {"containers": [{"name": "a", "resources": resources}]}});
        assert_eq!(qos_class(&pod(json!({}))), "BestEffort");
        let full = json!({"cpu": "1", "memory": "1Gi"});
        assert_eq!(qos_class(&pod(json!({"limits": full}))), "Guaranteed");
        assert_eq!(
            qos_class(&pod(json!({"requests": {"cpu": "1"}}))),
            "Burstable"
        );
    }

    #[test]
    fn grace_only_for_pods_that_run() {
        let pending = json!({"spec": {}});
        assert_eq!(POD.grace_period(&pending, Some(10)), 0);
        let running = json!({"spec": {"nodeName": "a"}, "status": {"phase": "Running"}});
        assert_eq!(POD.grace_period(&running, None), DEFAULT_GRACE_SECONDS);
        assert_eq!(POD.grace_period(&running, Some(5)), 5);
        let done = json!({"spec": {"nodeName": "a"}, "status": {"phase": "Succeeded"}});
        assert_eq!(POD.grace_period(&done, None), 0);
    }
}
