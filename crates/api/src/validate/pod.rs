//! Validation of Pods, pod templates and pod specs (everything but the
//! containers and volumes, which have their own modules).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{int_of, is_absent, list_of, str_of, string_map};
use crate::validation::{is_valid_label_value, validate_annotations, validate_labels};

use super::{container, dns_label, dns_subdomain, pod_update, qualified_name, volumes};

pub(crate) static NULL: Value = Value::Null;

/// What kind of object a pod spec belongs to.
#[derive(Clone, Copy)]
pub(crate) struct PodOpts {
    /// The spec is a Pod's own (some checks apply to Pods only).
    pub(crate) is_pod: bool,
    /// The owner checks `restartPolicy` itself (Jobs, whose templates get
    /// no default, report a missing one with their own message).
    pub(crate) owner_checks_restart: bool,
}

/// A long-running workload's template.
pub(crate) const TEMPLATE: PodOpts = PodOpts {
    is_pod: false,
    owner_checks_restart: false,
};

/// A Job's (or a CronJob's job) template.
pub(crate) const JOB_TEMPLATE: PodOpts = PodOpts {
    is_pod: false,
    owner_checks_restart: true,
};

/// A Pod, on create or update.
pub(crate) fn pod(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let opts = PodOpts {
        is_pod: true,
        owner_checks_restart: false,
    };
    let mut errors = pod_spec(spec, &path, opts);
    match old {
        None => {
            if !list_of(spec, "ephemeralContainers").is_empty() {
                errors.push(FieldError::forbidden(
                    &path.child("ephemeralContainers"),
                    "cannot be set on create",
                ));
            }
            let node_name = str_of(spec, "nodeName").unwrap_or("");
            if !node_name.is_empty() && !list_of(spec, "schedulingGates").is_empty() {
                errors.push(FieldError::forbidden(
                    &path.child("nodeName"),
                    "cannot be set until all schedulingGates have been cleared",
                ));
            }
        }
        Some(old) => errors.extend(pod_update::pod_update(object, old)),
    }
    errors
}

/// A pod template (`spec.template` of a workload). Upstream reports the
/// template's label errors at `<path>.labels`, not `<path>.metadata.labels`.
pub(crate) fn pod_template(template: &Value, path: &FieldPath, opts: PodOpts) -> Vec<FieldError> {
    let meta = template.get("metadata").unwrap_or(&NULL);
    let mut errors = validate_labels(&string_map(meta, "labels"), &path.child("labels"));
    errors.extend(validate_annotations(
        &string_map(meta, "annotations"),
        &path.child("annotations"),
    ));
    let spec = template.get("spec").unwrap_or(&NULL);
    errors.extend(pod_spec(spec, &path.child("spec"), opts));
    if !list_of(spec, "ephemeralContainers").is_empty() {
        errors.push(FieldError::forbidden(
            &path.child("spec").child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errors
}

/// One pod spec at `path`.
pub(crate) fn pod_spec(spec: &Value, path: &FieldPath, opts: PodOpts) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if is_absent(spec.get("terminationGracePeriodSeconds")) {
        errors.push(FieldError::required(
            &path.child("terminationGracePeriodSeconds"),
            "",
        ));
    }
    let volume_names: BTreeSet<String> =
        volumes::volumes(spec, &path.child("volumes"), &mut errors);
    container::containers(spec, path, &volume_names, opts, &mut errors);
    host_network(spec, path, opts, &mut errors);
    let restart_missing = str_of(spec, "restartPolicy").unwrap_or("").is_empty();
    if !(opts.owner_checks_restart && restart_missing) {
        one_of(
            spec,
            "restartPolicy",
            &["Always", "OnFailure", "Never"],
            path,
            &mut errors,
        );
    }
    dns_policy(spec, path, &mut errors);
    errors.extend(validate_labels(
        &string_map(spec, "nodeSelector"),
        &path.child("nodeSelector"),
    ));
    scheduling_gates(spec, &path.child("schedulingGates"), &mut errors);
    for key in ["serviceAccountName", "nodeName"] {
        if let Some(name) = str_of(spec, key).filter(|n| !n.is_empty()) {
            dns_subdomain(name, &path.child(key), &mut errors);
        }
    }
    if let Some(deadline) = int_of(spec, "activeDeadlineSeconds")
        && !(1..=i64::from(i32::MAX)).contains(&deadline)
    {
        errors.push(FieldError::invalid(
            &path.child("activeDeadlineSeconds"),
            deadline,
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    for key in ["hostname", "subdomain"] {
        if let Some(name) = str_of(spec, key).filter(|n| !n.is_empty()) {
            dns_label(name, &path.child(key), &mut errors);
        }
    }
    tolerations(
        list_of(spec, "tolerations"),
        &path.child("tolerations"),
        &mut errors,
    );
    if let Some(name) = str_of(spec, "priorityClassName").filter(|n| !n.is_empty()) {
        dns_subdomain(name, &path.child("priorityClassName"), &mut errors);
    }
    errors
}

/// A required string field that must be one of `allowed`.
pub(crate) fn one_of(
    object: &Value,
    key: &str,
    allowed: &[&str],
    parent: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let value = str_of(object, key).unwrap_or("");
    if value.is_empty() {
        errors.push(FieldError::required(&parent.child(key), ""));
    } else if !allowed.contains(&value) {
        errors.push(FieldError::not_supported(
            &parent.child(key),
            value,
            allowed,
        ));
    }
}

fn dns_policy(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    one_of(
        spec,
        "dnsPolicy",
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        path,
        errors,
    );
    if str_of(spec, "dnsPolicy") == Some("None") {
        let config = spec.get("dnsConfig").filter(|c| !c.is_null());
        match config {
            None => errors.push(FieldError::required(
                &path.child("dnsConfig"),
                "must provide `dnsConfig` when `dnsPolicy` is None",
            )),
            Some(config) if list_of(config, "nameservers").is_empty() => {
                errors.push(FieldError::required(
                    &path.child("dnsConfig").child("nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                ));
            }
            Some(_) => {}
        }
    }
}

/// With `hostNetwork`, a host port must equal its container port (in
/// templates, 0 is allowed: it is defaulted when the pod is made).
fn host_network(spec: &Value, path: &FieldPath, opts: PodOpts, errors: &mut Vec<FieldError>) {
    if spec.get("hostNetwork").and_then(Value::as_bool) != Some(true) {
        return;
    }
    for (i, container) in list_of(spec, "containers").iter().enumerate() {
        for (j, port) in list_of(container, "ports").iter().enumerate() {
            let host = int_of(port, "hostPort").unwrap_or(0);
            let container_port = int_of(port, "containerPort").unwrap_or(0);
            if (opts.is_pod || host != 0) && host != container_port {
                let port_path = path
                    .child("containers")
                    .index(i)
                    .child("ports")
                    .index(j)
                    .child("hostPort");
                errors.push(FieldError::invalid(
                    &port_path,
                    host,
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
    }
}

fn scheduling_gates(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let mut seen = BTreeSet::new();
    for (i, gate) in list_of(spec, "schedulingGates").iter().enumerate() {
        let name = str_of(gate, "name").unwrap_or("");
        qualified_name(name, &path.index(i), errors);
        if !seen.insert(name) {
            errors.push(FieldError::duplicate(&path.index(i), name));
        }
    }
}

/// Errors in a list of tolerations at `path`.
pub(crate) fn tolerations(items: &[Value], path: &FieldPath, errors: &mut Vec<FieldError>) {
    for (i, toleration) in items.iter().enumerate() {
        let item = path.index(i);
        let key = str_of(toleration, "key").unwrap_or("");
        let operator = str_of(toleration, "operator").unwrap_or("");
        let value = str_of(toleration, "value").unwrap_or("");
        let effect = str_of(toleration, "effect").unwrap_or("");
        if !key.is_empty() {
            qualified_name(key, &item.child("key"), errors);
        }
        if key.is_empty() && operator != "Exists" {
            errors.push(FieldError::invalid(
                &item.child("operator"),
                operator,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if !is_absent(toleration.get("tolerationSeconds")) && effect != "NoExecute" {
            errors.push(FieldError::invalid(
                &item.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match operator {
            "Equal" | "" => {
                let problems = is_valid_label_value(value);
                if !problems.is_empty() {
                    errors.push(FieldError::invalid(
                        &item.child("operator"),
                        value,
                        problems.join(";"),
                    ));
                }
            }
            "Exists" if !value.is_empty() => errors.push(FieldError::invalid(
                &item.child("operator"),
                value,
                "value must be empty when `operator` is 'Exists'",
            )),
            "Exists" => {}
            other => errors.push(FieldError::not_supported(
                &item.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        let effects = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
        if !effect.is_empty() && !effects.contains(&effect) {
            errors.push(FieldError::not_supported(
                &item.child("effect"),
                effect,
                &effects,
            ));
        }
    }
}
