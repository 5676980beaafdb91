//! Defaults of the workload kinds (Deployment, ReplicaSet, StatefulSet,
//! DaemonSet, Job, CronJob) and the selector the server generates for a Job.

use serde_json::{Value, json};

use crate::json::{
    at, default_absent, default_zero, for_each_item, is_absent, object_entry, str_of,
};

use super::pod::{JOB_TEMPLATE, TEMPLATE, persistent_volume_claim_spec, template_spec};

const TEMPLATE_SPEC: &[&str] = &["spec", "template", "spec"];

/// Deployment: one replica, a 25%/25% rolling update, ten old ReplicaSets
/// kept, ten minutes to make progress.
pub(crate) fn deployment(object: &mut Value) {
    if let Some(spec) = object_entry(object, "spec") {
        default_absent(spec, "replicas", json!(1));
        if let Some(strategy) = object_entry(spec, "strategy") {
            default_zero(strategy, "type", json!("RollingUpdate"));
            if str_of(strategy, "type") == Some("RollingUpdate")
                && let Some(rolling) = object_entry(strategy, "rollingUpdate")
            {
                default_absent(rolling, "maxUnavailable", json!("25%"));
                default_absent(rolling, "maxSurge", json!("25%"));
            }
        }
        default_absent(spec, "revisionHistoryLimit", json!(10));
        default_absent(spec, "progressDeadlineSeconds", json!(600));
    }
    template_spec(object, TEMPLATE_SPEC, TEMPLATE);
}

/// ReplicaSet: one replica.
pub(crate) fn replica_set(object: &mut Value) {
    if let Some(spec) = object_entry(object, "spec") {
        default_absent(spec, "replicas", json!(1));
    }
    template_spec(object, TEMPLATE_SPEC, TEMPLATE);
}

/// StatefulSet: ordered pod management, a rolling update from partition 0,
/// claims retained, one replica, ten revisions kept.
pub(crate) fn stateful_set(object: &mut Value) {
    // Optional, yet Go writes it even when 0.
    if let Some(status) = object.get_mut("status").filter(|s| s.is_object()) {
        default_absent(status, "availableReplicas", json!(0));
    }
    if let Some(spec) = object_entry(object, "spec") {
        default_zero(spec, "podManagementPolicy", json!("OrderedReady"));
        if let Some(strategy) = object_entry(spec, "updateStrategy") {
            if str_of(strategy, "type").unwrap_or("").is_empty() {
                default_zero(strategy, "type", json!("RollingUpdate"));
                default_absent(strategy, "rollingUpdate", json!({}));
            }
            if str_of(strategy, "type") == Some("RollingUpdate")
                && let Some(rolling) = strategy.get_mut("rollingUpdate").filter(|r| r.is_object())
            {
                default_absent(rolling, "partition", json!(0));
            }
        }
        if let Some(policy) = object_entry(spec, "persistentVolumeClaimRetentionPolicy") {
            default_zero(policy, "whenDeleted", json!("Retain"));
            default_zero(policy, "whenScaled", json!("Retain"));
        }
        default_absent(spec, "replicas", json!(1));
        default_absent(spec, "revisionHistoryLimit", json!(10));
        for_each_item(spec, "volumeClaimTemplates", |claim| {
            if let Some(status) = object_entry(claim, "status") {
                default_zero(status, "phase", json!("Pending"));
            }
            if let Some(claim_spec) = object_entry(claim, "spec") {
                persistent_volume_claim_spec(claim_spec);
            }
        });
    }
    template_spec(object, TEMPLATE_SPEC, TEMPLATE);
}

/// DaemonSet: a rolling update one node at a time, ten revisions kept.
pub(crate) fn daemon_set(object: &mut Value) {
    if let Some(spec) = object_entry(object, "spec") {
        if let Some(strategy) = object_entry(spec, "updateStrategy") {
            default_zero(strategy, "type", json!("RollingUpdate"));
            if str_of(strategy, "type") == Some("RollingUpdate")
                && let Some(rolling) = object_entry(strategy, "rollingUpdate")
            {
                default_absent(rolling, "maxUnavailable", json!(1));
                default_absent(rolling, "maxSurge", json!(0));
            }
        }
        default_absent(spec, "revisionHistoryLimit", json!(10));
    }
    template_spec(object, TEMPLATE_SPEC, TEMPLATE);
}

/// Job: one pod at a time (and one completion when neither is set), six
/// retries, non-indexed, not suspended, replacement once terminated or
/// failed; the Job takes its template's labels when it has none.
pub(crate) fn job(object: &mut Value) {
    let template_labels = at(object, &["spec", "template", "metadata", "labels"]).cloned();
    if let Some(spec) = object_entry(object, "spec") {
        job_spec(spec);
    }
    if let Some(labels) = template_labels.filter(Value::is_object)
        && let Some(metadata) = object_entry(object, "metadata")
    {
        let empty = metadata
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(|l| l.is_empty());
        if empty && let Some(map) = metadata.as_object_mut() {
            map.insert("labels".to_string(), labels);
        }
    }
    template_spec(object, TEMPLATE_SPEC, JOB_TEMPLATE);
}

fn job_spec(spec: &mut Value) {
    if is_absent(spec.get("completions")) && is_absent(spec.get("parallelism")) {
        default_absent(spec, "completions", json!(1));
    }
    default_absent(spec, "parallelism", json!(1));
    let backoff = if is_absent(spec.get("backoffLimitPerIndex")) {
        6
    } else {
        i32::MAX
    };
    default_absent(spec, "backoffLimit", json!(backoff));
    default_absent(spec, "completionMode", json!("NonIndexed"));
    default_absent(spec, "suspend", json!(false));
    let replacement = if is_absent(spec.get("podFailurePolicy")) {
        "TerminatingOrFailed"
    } else {
        "Failed"
    };
    default_absent(spec, "podReplacementPolicy", json!(replacement));
    if let Some(policy) = spec.get_mut("podFailurePolicy") {
        for_each_item(policy, "rules", |rule| {
            for_each_item(rule, "onPodConditions", |pattern| {
                default_zero(pattern, "status", json!("True"));
            });
        });
    }
}

/// CronJob: concurrent runs allowed, not suspended, three successful and
/// one failed Job kept.
pub(crate) fn cron_job(object: &mut Value) {
    if let Some(spec) = object_entry(object, "spec") {
        default_zero(spec, "concurrencyPolicy", json!("Allow"));
        default_absent(spec, "suspend", json!(false));
        default_absent(spec, "successfulJobsHistoryLimit", json!(3));
        default_absent(spec, "failedJobsHistoryLimit", json!(1));
    }
    template_spec(
        object,
        &["spec", "jobTemplate", "spec", "template", "spec"],
        JOB_TEMPLATE,
    );
}

/// Labels that tie a Job's pods to it.
const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const LEGACY_CONTROLLER_UID: &str = "controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";
const LEGACY_JOB_NAME: &str = "job-name";

/// Generates a Job's selector as the server does on create, once the uid
/// is known: unless `spec.manualSelector` is true, the pod template gets
/// the labels `controller-uid`, `batch.kubernetes.io/controller-uid` (the
/// uid), `job-name` and `batch.kubernetes.io/job-name` (the Job's name)
/// where they are not set, and `spec.selector.matchLabels` gets
/// `batch.kubernetes.io/controller-uid: <uid>`. Labels the user set are
/// kept; validation then rejects ones that conflict.
pub fn job_selector_defaults(object: &mut Value, uid: &str) {
    if at(object, &["spec", "manualSelector"]).and_then(Value::as_bool) == Some(true) {
        return;
    }
    let name = at(object, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(spec) = object_entry(object, "spec") else {
        return;
    };
    if let Some(labels) = object_entry(spec, "template")
        .and_then(|t| object_entry(t, "metadata"))
        .and_then(|m| object_entry(m, "labels"))
    {
        for (key, value) in [
            (LEGACY_JOB_NAME, name.as_str()),
            (JOB_NAME, name.as_str()),
            (LEGACY_CONTROLLER_UID, uid),
            (CONTROLLER_UID, uid),
        ] {
            default_absent(labels, key, json!(value));
        }
    }
    if let Some(match_labels) =
        object_entry(spec, "selector").and_then(|s| object_entry(s, "matchLabels"))
    {
        default_absent(match_labels, CONTROLLER_UID, json!(uid));
    }
}
