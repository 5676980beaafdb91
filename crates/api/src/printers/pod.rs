//! The pod table: `NAME READY STATUS RESTARTS AGE` and, wide, `IP NODE
//! NOMINATED NODE READINESS GATES`, with upstream's rules for the status
//! text (`Init:0/1`, `CrashLoopBackOff`, `Completed`, `Terminating`, ...)
//! and the restart count (`3 (5m ago)`).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition, PodSpec, PodStatus};
use serde_json::{Value, json};

use super::format::{age, since};
use super::{AGE, Column, NAME, Row, col, typed, wide};

pub(crate) const COLUMNS: &[Column] = &[
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide(
        "IP",
        "string",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    ),
    wide(
        "Node",
        "string",
        "NodeName indicates in which node this pod is scheduled.",
    ),
    wide(
        "Nominated Node",
        "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node.",
    ),
    wide(
        "Readiness Gates",
        "string",
        "If specified, all readiness gates will be evaluated for pod readiness.",
    ),
];

/// What the status columns of a pod say.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary {
    ready: usize,
    total: usize,
    reason: String,
    restarts: i64,
    last_restart: Option<Timestamp>,
}

pub(crate) fn row(object: &Value, now: Timestamp) -> Option<Row> {
    let pod: Pod = typed(object)?;
    let spec = pod.spec.unwrap_or_default();
    let status = pod.status.unwrap_or_default();
    let mut summary = summarize(&spec, &status);
    if pod.metadata.deletion_timestamp.is_some() {
        if status.reason.as_deref() == Some("NodeLost") {
            summary.reason = "Unknown".to_string();
        } else if !matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
            summary.reason = "Terminating".to_string();
        }
    }
    let mut restarts = summary.restarts.to_string();
    if summary.restarts != 0 && summary.last_restart.is_some() {
        restarts = format!("{restarts} ({} ago)", since(summary.last_restart, now));
    }
    let cells = vec![
        json!(pod.metadata.name.unwrap_or_default()),
        json!(format!("{}/{}", summary.ready, summary.total)),
        json!(summary.reason),
        json!(restarts),
        json!(age(pod.metadata.creation_timestamp.as_ref(), now)),
        json!(first_pod_ip(&status)),
        json!(non_empty(spec.node_name.as_deref())),
        json!(non_empty(status.nominated_node_name.as_deref())),
        json!(readiness_gates(&spec, &status)),
    ];
    let conditions = match status.phase.as_deref() {
        Some("Succeeded") => Some(completed(
            "Succeeded",
            "The pod has completed successfully.",
        )),
        Some("Failed") => Some(completed("Failed", "The pod failed.")),
        _ => None,
    };
    Some(Row { cells, conditions })
}

fn completed(reason: &str, message: &str) -> Value {
    json!([{ "type": "Completed", "status": "True", "reason": reason, "message": message }])
}

/// The ready and total containers, the status text and the restarts, as
/// upstream's `printPod` computes them (before the deletion rules).
fn summarize(spec: &PodSpec, status: &PodStatus) -> Summary {
    let init_specs = spec.init_containers.as_deref().unwrap_or_default();
    let restartable = |name: &str| {
        init_specs
            .iter()
            .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
    };
    let conditions = status.conditions.as_deref().unwrap_or_default();
    let mut summary = Summary {
        ready: 0,
        total: spec.containers.len()
            + init_specs
                .iter()
                .filter(|c| c.restart_policy.as_deref() == Some("Always"))
                .count(),
        reason: initial_reason(status, conditions),
        restarts: 0,
        last_restart: None,
    };
    let mut restartable_restarts = 0;
    let mut restartable_last = None;
    let mut initializing = false;
    let init_statuses = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default();
    for (i, container) in init_statuses.iter().enumerate() {
        summary.restarts += i64::from(container.restart_count);
        summary.last_restart = summary.last_restart.max(last_finished(container));
        if restartable(&container.name) {
            restartable_restarts += i64::from(container.restart_count);
            restartable_last = restartable_last.max(last_finished(container));
        }
        let state = container.state.clone().unwrap_or_default();
        if state.terminated.as_ref().is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if restartable(&container.name) && container.started == Some(true) {
            summary.ready += usize::from(container.ready);
            continue;
        }
        summary.reason = init_reason(container, i, init_specs.len());
        initializing = true;
        break;
    }
    if !initializing || condition_true(conditions, "Initialized") {
        summary.restarts = restartable_restarts;
        summary.last_restart = restartable_last;
        summarize_containers(&mut summary, status, conditions);
    }
    summary
}

/// The phase, or `status.reason`, or `SchedulingGated`.
fn initial_reason(status: &PodStatus, conditions: &[PodCondition]) -> String {
    let mut reason = status.phase.clone().unwrap_or_default();
    if let Some(r) = status.reason.as_deref().filter(|r| !r.is_empty()) {
        reason = r.to_string();
    }
    if conditions
        .iter()
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".to_string();
    }
    reason
}

/// The status text of the first init container that has not finished.
fn init_reason(container: &ContainerStatus, index: usize, count: usize) -> String {
    let state = container.state.as_ref();
    if let Some(terminated) = state.and_then(|s| s.terminated.as_ref()) {
        return match terminated.reason.as_deref().filter(|r| !r.is_empty()) {
            Some(reason) => format!("Init:{reason}"),
            None => match terminated.signal.filter(|s| *s != 0) {
                Some(signal) => format!("Init:Signal:{signal}"),
                None => format!("Init:ExitCode:{}", terminated.exit_code),
            },
        };
    }
    let waiting = state
        .and_then(|s| s.waiting.as_ref())
        .and_then(|w| w.reason.as_deref())
        .filter(|r| !r.is_empty() && *r != "PodInitializing");
    match waiting {
        Some(reason) => format!("Init:{reason}"),
        None => format!("Init:{index}/{count}"),
    }
}

/// Folds the regular containers into the summary, last to first as
/// upstream does (so the first container's state wins the status text).
fn summarize_containers(summary: &mut Summary, status: &PodStatus, conditions: &[PodCondition]) {
    let mut has_running = false;
    for container in status.container_statuses.iter().flatten().rev() {
        summary.restarts += i64::from(container.restart_count);
        summary.last_restart = summary.last_restart.max(last_finished(container));
        let state = container.state.clone().unwrap_or_default();
        let waiting = state.waiting.as_ref().and_then(|w| w.reason.clone());
        let terminated = state.terminated.as_ref();
        if let Some(reason) = waiting.filter(|r| !r.is_empty()) {
            summary.reason = reason;
        } else if let Some(terminated) = terminated {
            summary.reason = match terminated.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(reason) => reason.to_string(),
                None => match terminated.signal.filter(|s| *s != 0) {
                    Some(signal) => format!("Signal:{signal}"),
                    None => format!("ExitCode:{}", terminated.exit_code),
                },
            };
        } else if container.ready && state.running.is_some() {
            has_running = true;
            summary.ready += 1;
        }
    }
    if summary.reason == "Completed" && has_running {
        summary.reason = if condition_true(conditions, "Ready") {
            "Running"
        } else {
            "NotReady"
        }
        .to_string();
    }
}

/// When the container last terminated, if it did.
fn last_finished(container: &ContainerStatus) -> Option<Timestamp> {
    container
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .map(|t| t.0)
}

fn condition_true(conditions: &[PodCondition], type_: &str) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

fn first_pod_ip(status: &PodStatus) -> String {
    let ip = status
        .pod_ips
        .as_ref()
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.as_str());
    non_empty(ip)
}

fn non_empty(text: Option<&str>) -> String {
    super::format::or_none(text.unwrap_or_default())
}

/// `true/total` of the readiness gates, `<none>` without gates.
fn readiness_gates(spec: &PodSpec, status: &PodStatus) -> String {
    let gates = spec.readiness_gates.as_deref().unwrap_or_default();
    if gates.is_empty() {
        return "<none>".to_string();
    }
    let conditions = status.conditions.as_deref().unwrap_or_default();
    let passed = gates
        .iter()
        .filter(|gate| {
            conditions
                .iter()
                .find(|c| c.type_ == gate.condition_type)
                .is_some_and(|c| c.status == "True")
        })
        .count();
    format!("{passed}/{}", gates.len())
}
