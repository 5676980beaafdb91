//! The tables of pod templates and replication controllers.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{PodTemplate, ReplicationController};
use serde_json::{Value, json};

use super::format::{age, containers, labels};
use super::workloads::template_cells;
use super::{AGE, CONTAINERS, Column, IMAGES, NAME, Row, col, wide};

pub(crate) const POD_TEMPLATE: &[Column] = &[
    NAME,
    col(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    col(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    col("Pod Labels", "string", "The labels for the pod template."),
];

pub(crate) const REPLICATION_CONTROLLER: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller",
    ),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller",
    ),
    col(
        "Ready",
        "integer",
        "The number of ready replicas for this replication controller.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    wide(
        "Selector",
        "string",
        "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
    ),
];

pub(crate) fn pod_template(object: &Value, _now: Timestamp) -> Option<Row> {
    let template: PodTemplate = super::typed(object)?;
    let spec = template.template.unwrap_or_default();
    let pod = spec.spec.unwrap_or_default();
    let (names, images) = containers(&pod.containers);
    let pod_labels = spec.metadata.and_then(|m| m.labels);
    Some(Row::new(vec![
        json!(template.metadata.name.unwrap_or_default()),
        json!(names),
        json!(images),
        json!(labels(pod_labels.as_ref())),
    ]))
}

pub(crate) fn replication_controller(object: &Value, now: Timestamp) -> Option<Row> {
    let controller: ReplicationController = super::typed(object)?;
    let spec = controller.spec.unwrap_or_default();
    let status = controller.status.unwrap_or_default();
    let [names, images] = template_cells(spec.template.as_ref());
    Some(Row::new(vec![
        json!(controller.metadata.name.unwrap_or_default()),
        json!(spec.replicas.unwrap_or(1)),
        json!(status.replicas),
        json!(status.ready_replicas.unwrap_or(0)),
        json!(age(controller.metadata.creation_timestamp.as_ref(), now)),
        names,
        images,
        json!(labels(spec.selector.as_ref())),
    ]))
}
