//! Validation of batch/v1 Jobs and CronJobs, on create and update.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{at, bool_of, int_of, is_absent, str_of, string_map};

use super::pod::{JOB_TEMPLATE, NULL, pod_template};
use super::{immutable, nonnegative, selector};

const MAX_PARALLELISM_FOR_INDEXED_JOB: i64 = 100_000;

/// Job.
pub(crate) fn job(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    let require_prefixed = old.is_none_or(|old| {
        let labels = at(old, &["spec", "template", "metadata"])
            .map(|m| string_map(m, "labels"))
            .unwrap_or_default();
        labels.contains_key(CONTROLLER_UID) && labels.contains_key(JOB_NAME)
    });
    generated_selector(object, require_prefixed, &mut errors);
    job_spec(spec, &path, &mut errors);
    let selector_value = spec.get("selector").filter(|s| !s.is_null());
    match selector_value {
        None => errors.push(FieldError::required(&path.child("selector"), "")),
        Some(value) => errors.extend(selector::validate(Some(value), &path.child("selector"))),
    }
    if let Some(parsed) = selector_value.and_then(|v| selector::parse(Some(v))) {
        let template = spec.get("template").unwrap_or(&NULL);
        if !parsed.matches(&selector::template_labels(template)) {
            errors.push(FieldError::invalid(
                &path.child("template").child("metadata").child("labels"),
                selector::template_labels_value(template),
                "`selector` does not match template `labels`",
            ));
        }
    }
    indexed_pod_names(object, spec, &mut errors);
    if let Some(old) = old {
        job_update(spec, old, &path, &mut errors);
    }
    errors
}

const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";

/// Unless the selector is manual, the template must carry the generated
/// labels and the selector must select them. Skipped while the object has
/// no uid yet (the server generates both together).
fn generated_selector(object: &Value, require_prefixed: bool, errors: &mut Vec<FieldError>) {
    let spec = object.get("spec").unwrap_or(&NULL);
    let uid = at(object, &["metadata", "uid"])
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = at(object, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("");
    let manual = bool_of(spec, "manualSelector") == Some(true);
    let selector_value = spec.get("selector").filter(|s| !s.is_null());
    if manual || selector_value.is_none() || uid.is_empty() {
        return;
    }
    let meta_path = FieldPath::new("spec").child("template").child("metadata");
    let template_meta = at(spec, &["template", "metadata"]).unwrap_or(&NULL);
    let labels = string_map(template_meta, "labels");
    let mut expected = BTreeMap::new();
    let mut wanted = vec![("controller-uid", uid), ("job-name", name)];
    if require_prefixed {
        wanted.extend([(CONTROLLER_UID, uid), (JOB_NAME, name)]);
    }
    for (key, value) in wanted {
        has_label(template_meta, &labels, key, value, &meta_path, errors);
        expected.insert(key.to_string(), value.to_string());
    }
    expected.insert("controller-uid".to_string(), uid.to_string());
    expected.insert("job-name".to_string(), name.to_string());
    if let Some(parsed) = selector::parse(selector_value)
        && !parsed.matches(&expected)
    {
        let value = selector_value.cloned().unwrap_or(Value::Null);
        errors.push(FieldError::invalid(
            &FieldPath::new("spec").child("selector"),
            value,
            "`selector` not auto-generated",
        ));
    }
}

fn has_label(
    meta: &Value,
    labels: &BTreeMap<String, String>,
    key: &str,
    expected: &str,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let label_path = path.child("labels").key(key);
    let message = format!("must be '{expected}'");
    match labels.get(key) {
        None => errors.push(FieldError::required(&label_path, message)),
        Some(actual) if actual != expected => {
            let all = meta.get("labels").cloned().unwrap_or(Value::Null);
            errors.push(FieldError::invalid(&label_path, all, message));
        }
        Some(_) => {}
    }
}

/// The checks a Job spec and a CronJob's job template share.
fn job_spec(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for key in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ] {
        nonnegative(int_of(spec, key), &path.child(key), errors);
    }
    let per_index = int_of(spec, "backoffLimitPerIndex");
    let max_failed = int_of(spec, "maxFailedIndexes");
    if max_failed.is_some() && per_index.is_none() {
        errors.push(FieldError::required(
            &path.child("backoffLimitPerIndex"),
            "when maxFailedIndexes is specified",
        ));
    }
    completion_mode(spec, path, errors);
    replacement_policy(spec, path, errors);
    let template = spec.get("template").unwrap_or(&NULL);
    errors.extend(pod_template(
        template,
        &path.child("template"),
        JOB_TEMPLATE,
    ));
    let restart_path = path.child("template").child("spec").child("restartPolicy");
    let restart = at(template, &["spec", "restartPolicy"])
        .and_then(Value::as_str)
        .unwrap_or("");
    match restart {
        "" | "Always" => errors.push(FieldError::required(
            &restart_path,
            "valid values: \"OnFailure\", \"Never\"",
        )),
        "OnFailure" if !is_absent(spec.get("podFailurePolicy")) => {
            errors.push(FieldError::invalid(
                &restart_path,
                restart,
                "only \"Never\" is supported when podFailurePolicy is specified",
            ));
        }
        "OnFailure" | "Never" => {}
        other => errors.push(FieldError::not_supported(
            &restart_path,
            other,
            &["OnFailure", "Never"],
        )),
    }
}

fn completion_mode(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let mode = str_of(spec, "completionMode");
    match mode {
        None | Some("NonIndexed") => {
            for key in ["backoffLimitPerIndex", "maxFailedIndexes"] {
                if let Some(value) = int_of(spec, key) {
                    errors.push(FieldError::invalid(
                        &path.child(key),
                        value,
                        "requires indexed completion mode",
                    ));
                }
            }
        }
        Some("Indexed") => {
            if is_absent(spec.get("completions")) {
                errors.push(FieldError::required(
                    &path.child("completions"),
                    "when completion mode is Indexed",
                ));
            }
            if let Some(parallelism) =
                int_of(spec, "parallelism").filter(|p| *p > MAX_PARALLELISM_FOR_INDEXED_JOB)
            {
                errors.push(FieldError::invalid(
                    &path.child("parallelism"),
                    parallelism,
                    "must be less than or equal to 100000 when completion mode is Indexed",
                ));
            }
        }
        Some(other) => errors.push(FieldError::not_supported(
            &path.child("completionMode"),
            other,
            &["NonIndexed", "Indexed"],
        )),
    }
}

fn replacement_policy(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let Some(policy) = str_of(spec, "podReplacementPolicy") else {
        return;
    };
    let allowed: &[&str] = if is_absent(spec.get("podFailurePolicy")) {
        &["Failed", "TerminatingOrFailed"]
    } else {
        &["Failed"]
    };
    if !allowed.contains(&policy) {
        errors.push(FieldError::not_supported(
            &path.child("podReplacementPolicy"),
            policy,
            allowed,
        ));
    }
}

/// An Indexed Job's last pod hostname (`<name>-<completions-1>`) must be a
/// DNS label.
fn indexed_pod_names(object: &Value, spec: &Value, errors: &mut Vec<FieldError>) {
    let completions = int_of(spec, "completions").unwrap_or(0);
    if str_of(spec, "completionMode") != Some("Indexed") || completions <= 0 {
        return;
    }
    let name = at(object, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("");
    let hostname = format!("{name}-{}", completions - 1);
    if !crate::validation::is_dns1123_label(&hostname).is_empty() {
        errors.push(FieldError::invalid(
            &FieldPath::new("metadata").child("name"),
            name,
            format!("will not able to create pod with invalid DNS label: {hostname}"),
        ));
    }
}

fn job_update(spec: &Value, old: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let old_spec = old.get("spec").unwrap_or(&NULL);
    completions_update(spec, old_spec, path, errors);
    immutable(
        spec.get("selector"),
        old_spec.get("selector"),
        &path.child("selector"),
        errors,
    );
    let suspended = bool_of(old_spec, "suspend") == Some(true);
    let started = at(old, &["status", "startTime"]).is_some();
    let template = spec.get("template").cloned().unwrap_or(Value::Null);
    let mut old_template = old_spec.get("template").cloned().unwrap_or(Value::Null);
    if suspended && !started {
        allow_scheduling_changes(&template, &mut old_template);
    }
    immutable(
        Some(&template),
        Some(&old_template),
        &path.child("template"),
        errors,
    );
    for key in [
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ] {
        immutable(spec.get(key), old_spec.get(key), &path.child(key), errors);
    }
}

/// Completions may change only for Indexed Jobs, together with parallelism.
fn completions_update(
    spec: &Value,
    old_spec: &Value,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let completions_path = path.child("completions");
    if str_of(spec, "completionMode") != Some("Indexed") {
        immutable(
            spec.get("completions"),
            old_spec.get("completions"),
            &completions_path,
            errors,
        );
        return;
    }
    let new = int_of(spec, "completions");
    if new == int_of(old_spec, "completions") {
        return;
    }
    if let Some(new) = new.filter(|n| Some(*n) != int_of(spec, "parallelism")) {
        errors.push(FieldError::invalid(
            &completions_path,
            new,
            "can only be modified in tandem with spec.parallelism",
        ));
    }
}

/// A suspended Job that never started may change where its pods run: copy
/// those fields of the new template into the old one before comparing.
fn allow_scheduling_changes(template: &Value, old_template: &mut Value) {
    let copy = |from: Option<&Value>, to: &mut Value, key: &str| {
        if let Some(map) = to.as_object_mut() {
            match from.and_then(|f| f.get(key)) {
                Some(value) => {
                    map.insert(key.to_string(), value.clone());
                }
                None => {
                    map.remove(key);
                }
            }
        }
    };
    if let Some(meta) = old_template.get_mut("metadata") {
        for key in ["labels", "annotations"] {
            copy(template.get("metadata"), meta, key);
        }
    }
    if let Some(old_spec) = old_template.get_mut("spec") {
        for key in ["nodeSelector", "tolerations", "schedulingGates"] {
            copy(template.get("spec"), old_spec, key);
        }
        let new_affinity = at(template, &["spec", "affinity"]);
        if let Some(affinity) = old_spec.get_mut("affinity") {
            copy(new_affinity, affinity, "nodeAffinity");
        } else if let Some(affinity) = new_affinity {
            let node_only = serde_json::json!({
                "nodeAffinity": affinity.get("nodeAffinity").cloned().unwrap_or(Value::Null)
            });
            if let Some(map) = old_spec.as_object_mut() {
                map.insert("affinity".to_string(), node_only);
            }
        }
    }
}

/// CronJob.
pub(crate) fn cron_job(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let old_spec = old.and_then(|o| o.get("spec"));
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    schedule(spec, old_spec, &path, &mut errors);
    nonnegative(
        int_of(spec, "startingDeadlineSeconds"),
        &path.child("startingDeadlineSeconds"),
        &mut errors,
    );
    let zone_changed = old_spec.is_none_or(|o| o.get("timeZone") != spec.get("timeZone"));
    if zone_changed {
        time_zone(spec, &path.child("timeZone"), &mut errors);
    }
    super::pod::one_of(
        spec,
        "concurrencyPolicy",
        &["Allow", "Forbid", "Replace"],
        &path,
        &mut errors,
    );
    job_template(spec, &path.child("jobTemplate"), &mut errors);
    for key in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        nonnegative(int_of(spec, key), &path.child(key), &mut errors);
    }
    let name = at(object, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("");
    if old.is_none() && name.len() > 52 {
        errors.push(FieldError::invalid(
            &FieldPath::new("metadata").child("name"),
            name,
            "must be no more than 52 characters",
        ));
    }
    errors
}

fn schedule(
    spec: &Value,
    old_spec: Option<&Value>,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let schedule_path = path.child("schedule");
    let schedule = str_of(spec, "schedule").unwrap_or("");
    if schedule.is_empty() {
        errors.push(FieldError::required(&schedule_path, ""));
        return;
    }
    if let Err(message) = super::cron::validate_schedule(schedule) {
        errors.push(FieldError::invalid(&schedule_path, schedule, message));
    }
    let allow_tz = old_spec
        .and_then(|o| str_of(o, "schedule"))
        .is_some_and(|s| s.contains("TZ"));
    let has_zone = !is_absent(spec.get("timeZone"));
    if allow_tz && schedule.contains("TZ") && has_zone {
        errors.push(FieldError::invalid(
            &schedule_path,
            schedule,
            "cannot use both timeZone field and TZ or CRON_TZ in schedule",
        ));
    } else if !allow_tz && schedule.contains("TZ") {
        errors.push(FieldError::invalid(
            &schedule_path,
            schedule,
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ));
    }
}

/// The form of an IANA time zone name. Whether the zone exists needs a
/// zone database, which this crate (no I/O) does not read.
fn time_zone(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let Some(zone) = str_of(spec, "timeZone") else {
        return;
    };
    if zone.is_empty() {
        errors.push(FieldError::invalid(
            path,
            zone,
            "timeZone must be nil or non-empty string",
        ));
        return;
    }
    let part_ok = |part: &str| {
        (1..=14).contains(&part.len())
            && part != "."
            && part != ".."
            && !part.starts_with('-')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c))
    };
    if !zone.split('/').all(part_ok) {
        errors.push(FieldError::invalid(
            path,
            zone,
            format!("unknown time zone {zone}"),
        ));
    } else if zone.eq_ignore_ascii_case("Local") {
        errors.push(FieldError::invalid(
            path,
            zone,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        ));
    }
}

fn job_template(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let job_spec_value = at(spec, &["jobTemplate", "spec"]).unwrap_or(&NULL);
    let spec_path = path.child("spec");
    job_spec(job_spec_value, &spec_path, errors);
    if let Some(selector) = job_spec_value.get("selector").filter(|s| !s.is_null()) {
        errors.push(FieldError::invalid(
            &spec_path.child("selector"),
            selector.clone(),
            "`selector` will be auto-generated",
        ));
    }
    if bool_of(job_spec_value, "manualSelector") == Some(true) {
        errors.push(FieldError::not_supported(
            &spec_path.child("manualSelector"),
            true,
            &["nil", "false"],
        ));
    }
}
