//! The tables of the workload kinds: deployments, replica sets, stateful
//! sets, daemon sets, controller revisions, jobs and cron jobs.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job, JobCondition};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::{Value, json};

use super::format::{self, age, human_duration};
use super::{AGE, CONTAINERS, Column, IMAGES, NAME, Row, col, typed, wide};

const SELECTOR: Column = wide(
    "Selector",
    "string",
    "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.",
);
const POD_READY: &str = "Number of the pod with ready state";

pub(crate) const DEPLOYMENT: &[Column] = &[
    NAME,
    col("Ready", "string", POD_READY),
    col(
        "Up-to-date",
        "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    col(
        "Available",
        "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

pub(crate) const REPLICA_SET: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "Replicas is the number of desired replicas.",
    ),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
    ),
    col(
        "Ready",
        "integer",
        "The number of ready replicas for this replica set.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

pub(crate) const STATEFUL_SET: &[Column] = &[
    NAME,
    col("Ready", "string", POD_READY),
    AGE,
    CONTAINERS,
    IMAGES,
];

pub(crate) const DAEMON_SET: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).",
    ),
    col(
        "Current",
        "integer",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    col(
        "Ready",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
    ),
    col(
        "Up-to-date",
        "integer",
        "The total number of nodes that are running updated daemon pod",
    ),
    col(
        "Available",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    col(
        "Node Selector",
        "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

pub(crate) const CONTROLLER_REVISION: &[Column] = &[
    NAME,
    col("Controller", "string", "Controller of the object"),
    col(
        "Revision",
        "string",
        "Revision indicates the revision of the state represented by Data.",
    ),
    AGE,
];

pub(crate) const JOB: &[Column] = &[
    NAME,
    col("Status", "string", "Status of the job."),
    col(
        "Completions",
        "string",
        "The number of pods which reached phase Succeeded.",
    ),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

pub(crate) const CRON_JOB: &[Column] = &[
    NAME,
    col(
        "Schedule",
        "string",
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    ),
    col(
        "Timezone",
        "string",
        "The time zone name for the given schedule.",
    ),
    col(
        "Suspend",
        "boolean",
        "This flag tells the controller to suspend subsequent executions.",
    ),
    col(
        "Active",
        "integer",
        "A list of pointers to currently running jobs.",
    ),
    col(
        "Last Schedule",
        "string",
        "Information when was the last time the job was successfully scheduled.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

/// The containers and images cells of a pod template.
pub(crate) fn template_cells(template: Option<&PodTemplateSpec>) -> [Value; 2] {
    let containers = template
        .and_then(|t| t.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    let (names, images) = format::containers(containers);
    [json!(names), json!(images)]
}

pub(crate) fn deployment(object: &Value, now: Timestamp) -> Option<Row> {
    let deployment: Deployment = typed(object)?;
    let spec = deployment.spec.unwrap_or_default();
    let status = deployment.status.unwrap_or_default();
    let [names, images] = template_cells(Some(&spec.template));
    Some(Row::new(vec![
        json!(deployment.metadata.name.unwrap_or_default()),
        json!(format!(
            "{}/{}",
            status.ready_replicas.unwrap_or(0),
            spec.replicas.unwrap_or(1)
        )),
        json!(status.updated_replicas.unwrap_or(0)),
        json!(status.available_replicas.unwrap_or(0)),
        json!(age(deployment.metadata.creation_timestamp.as_ref(), now)),
        names,
        images,
        json!(format::selector_string(Some(&spec.selector))),
    ]))
}

pub(crate) fn replica_set(object: &Value, now: Timestamp) -> Option<Row> {
    let replica_set: ReplicaSet = typed(object)?;
    let spec = replica_set.spec.unwrap_or_default();
    let status = replica_set.status.unwrap_or_default();
    let [names, images] = template_cells(spec.template.as_ref());
    Some(Row::new(vec![
        json!(replica_set.metadata.name.unwrap_or_default()),
        json!(spec.replicas.unwrap_or(1)),
        json!(status.replicas),
        json!(status.ready_replicas.unwrap_or(0)),
        json!(age(replica_set.metadata.creation_timestamp.as_ref(), now)),
        names,
        images,
        json!(format::label_selector(Some(&spec.selector))),
    ]))
}

pub(crate) fn stateful_set(object: &Value, now: Timestamp) -> Option<Row> {
    let stateful_set: StatefulSet = typed(object)?;
    let spec = stateful_set.spec.unwrap_or_default();
    let status = stateful_set.status.unwrap_or_default();
    let [names, images] = template_cells(Some(&spec.template));
    Some(Row::new(vec![
        json!(stateful_set.metadata.name.unwrap_or_default()),
        json!(format!(
            "{}/{}",
            status.ready_replicas.unwrap_or(0),
            spec.replicas.unwrap_or(1)
        )),
        json!(age(stateful_set.metadata.creation_timestamp.as_ref(), now)),
        names,
        images,
    ]))
}

pub(crate) fn daemon_set(object: &Value, now: Timestamp) -> Option<Row> {
    let daemon_set: DaemonSet = typed(object)?;
    let spec = daemon_set.spec.unwrap_or_default();
    let status = daemon_set.status.unwrap_or_default();
    let node_selector = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.as_ref());
    let [names, images] = template_cells(Some(&spec.template));
    Some(Row::new(vec![
        json!(daemon_set.metadata.name.unwrap_or_default()),
        json!(status.desired_number_scheduled),
        json!(status.current_number_scheduled),
        json!(status.number_ready),
        json!(status.updated_number_scheduled.unwrap_or(0)),
        json!(status.number_available.unwrap_or(0)),
        json!(format::labels(node_selector)),
        json!(age(daemon_set.metadata.creation_timestamp.as_ref(), now)),
        names,
        images,
        json!(format::label_selector(Some(&spec.selector))),
    ]))
}

pub(crate) fn controller_revision(object: &Value, now: Timestamp) -> Option<Row> {
    let revision: ControllerRevision = typed(object)?;
    let controller = revision
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|owner| owner.controller == Some(true))
        .map_or_else(
            || "<none>".to_string(),
            |owner| {
                let group = owner.api_version.rsplit_once('/').map(|(g, _)| g);
                let kind = match group {
                    Some(group) => format!("{}.{group}", owner.kind),
                    None => owner.kind.clone(),
                };
                format!("{}/{}", kind.to_lowercase(), owner.name)
            },
        );
    Some(Row::new(vec![
        json!(revision.metadata.name.unwrap_or_default()),
        json!(controller),
        json!(revision.revision),
        json!(age(revision.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) fn job(object: &Value, now: Timestamp) -> Option<Row> {
    let job: Job = typed(object)?;
    let spec = job.spec.unwrap_or_default();
    let status = job.status.unwrap_or_default();
    let succeeded = status.succeeded.unwrap_or(0);
    let completions = match (spec.completions, spec.parallelism.unwrap_or(0)) {
        (Some(completions), _) => format!("{succeeded}/{completions}"),
        (None, parallelism) if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
        (None, _) => format!("{succeeded}/1"),
    };
    let duration = match (&status.start_time, &status.completion_time) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.duration_since(start.0)),
        (Some(start), Some(end)) => human_duration(end.0.duration_since(start.0)),
    };
    let conditions = status.conditions.as_deref().unwrap_or_default();
    let state = if job_condition(conditions, "Complete") {
        "Complete"
    } else if job_condition(conditions, "Failed") {
        "Failed"
    } else if job.metadata.deletion_timestamp.is_some() {
        "Terminating"
    } else if job_condition(conditions, "Suspended") {
        "Suspended"
    } else if job_condition(conditions, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let [names, images] = template_cells(Some(&spec.template));
    Some(Row::new(vec![
        json!(job.metadata.name.unwrap_or_default()),
        json!(state),
        json!(completions),
        json!(duration),
        json!(age(job.metadata.creation_timestamp.as_ref(), now)),
        names,
        images,
        json!(format::label_selector(spec.selector.as_ref())),
    ]))
}

/// Upstream's `hasJobCondition`: the first condition of the type is true.
fn job_condition(conditions: &[JobCondition], type_: &str) -> bool {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .is_some_and(|c| c.status == "True")
}

pub(crate) fn cron_job(object: &Value, now: Timestamp) -> Option<Row> {
    let cron_job: CronJob = typed(object)?;
    let spec = cron_job.spec.unwrap_or_default();
    let status = cron_job.status.unwrap_or_default();
    let last_schedule = status
        .last_schedule_time
        .as_ref()
        .map_or_else(|| "<none>".to_string(), |t| age(Some(t), now));
    let job_spec = spec.job_template.spec.unwrap_or_default();
    let [names, images] = template_cells(Some(&job_spec.template));
    Some(Row::new(vec![
        json!(cron_job.metadata.name.unwrap_or_default()),
        json!(spec.schedule),
        json!(spec.time_zone.unwrap_or_else(|| "<none>".to_string())),
        json!(format::bool_ptr(spec.suspend)),
        json!(status.active.map_or(0, |a| a.len())),
        json!(last_schedule),
        json!(age(cron_job.metadata.creation_timestamp.as_ref(), now)),
        names,
        images,
        json!(format::label_selector(job_spec.selector.as_ref())),
    ]))
}
