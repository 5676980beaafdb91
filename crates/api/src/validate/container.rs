//! Validation of a pod spec's containers and init containers: names,
//! images, ports, environment, volume mounts, probes and lifecycle hooks
//! (resources have their own module).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{int_of, is_absent, list_of, str_of};

use super::pod::{PodOpts, one_of};
use super::probe::probes_and_hooks;
use super::resources::resource_requirements;
use super::volumes::local_descending_path;
use super::{dns_label, dns_subdomain, is_port_name, port_number};

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

/// Checks `spec.containers` and `spec.initContainers`.
pub(crate) fn containers(
    spec: &Value,
    spec_path: &FieldPath,
    volumes: &BTreeSet<String>,
    opts: PodOpts,
    errors: &mut Vec<FieldError>,
) {
    let grace = int_of(spec, "terminationGracePeriodSeconds");
    let regular = list_of(spec, "containers");
    let path = spec_path.child("containers");
    if regular.is_empty() {
        errors.push(FieldError::required(&path, ""));
    }
    let mut names = BTreeSet::new();
    for (i, container) in regular.iter().enumerate() {
        let item = path.index(i);
        common(container, &item, volumes, opts, errors);
        let name = str_of(container, "name").unwrap_or("");
        if !names.insert(name) {
            errors.push(FieldError::duplicate(&item.child("name"), name));
        }
        probes_and_hooks(container, &item, grace, errors);
        if !is_absent(container.get("restartPolicy")) {
            errors.push(FieldError::forbidden(
                &item.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    host_port_conflicts(regular, &path, errors);
    init_containers(spec, spec_path, volumes, opts, grace, names, errors);
}

fn init_containers<'a>(
    spec: &'a Value,
    spec_path: &FieldPath,
    volumes: &BTreeSet<String>,
    opts: PodOpts,
    grace: Option<i64>,
    mut names: BTreeSet<&'a str>,
    errors: &mut Vec<FieldError>,
) {
    let path = spec_path.child("initContainers");
    for (i, container) in list_of(spec, "initContainers").iter().enumerate() {
        let item = path.index(i);
        common(container, &item, volumes, opts, errors);
        let restart = str_of(container, "restartPolicy");
        if let Some(policy) = restart.filter(|p| *p != "Always") {
            errors.push(FieldError::not_supported(
                &item.child("restartPolicy"),
                policy,
                &["Always"],
            ));
        }
        let name = str_of(container, "name").unwrap_or("");
        if names.contains(name) {
            errors.push(FieldError::duplicate(&item.child("name"), name));
        } else if !name.is_empty() {
            names.insert(name);
        }
        host_port_conflicts(std::slice::from_ref(container), &path, errors);
        if restart == Some("Always") {
            probes_and_hooks(container, &item, grace, errors);
        } else {
            for key in [
                "lifecycle",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
            ] {
                if !is_absent(container.get(key)) {
                    errors.push(FieldError::forbidden(
                        &item.child(key),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
}

/// The checks every kind of container gets.
fn common(
    container: &Value,
    path: &FieldPath,
    volumes: &BTreeSet<String>,
    opts: PodOpts,
    errors: &mut Vec<FieldError>,
) {
    let name = str_of(container, "name").unwrap_or("");
    if name.is_empty() {
        errors.push(FieldError::required(&path.child("name"), ""));
    } else {
        dns_label(name, &path.child("name"), errors);
    }
    let image = str_of(container, "image").unwrap_or("");
    if image.is_empty() {
        errors.push(FieldError::required(&path.child("image"), ""));
    }
    one_of(
        container,
        "terminationMessagePolicy",
        &["File", "FallbackToLogsOnError"],
        path,
        errors,
    );
    ports(container, &path.child("ports"), errors);
    env(container, &path.child("env"), errors);
    env_from(container, &path.child("envFrom"), errors);
    volume_mounts(container, &path.child("volumeMounts"), volumes, errors);
    one_of(
        container,
        "imagePullPolicy",
        &["Always", "IfNotPresent", "Never"],
        path,
        errors,
    );
    if let Some(resources) = container.get("resources").filter(|r| r.is_object()) {
        resource_requirements(resources, &path.child("resources"), errors);
    }
    if opts.is_pod && image.trim() != image {
        errors.push(FieldError::invalid(
            &path.child("image"),
            image,
            "must not have leading or trailing whitespace",
        ));
    }
}

fn ports(container: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let mut names = BTreeSet::new();
    for (i, port) in list_of(container, "ports").iter().enumerate() {
        let item = path.index(i);
        if let Some(name) = str_of(port, "name").filter(|n| !n.is_empty()) {
            let problems = is_port_name(name);
            if !problems.is_empty() {
                for problem in problems {
                    errors.push(FieldError::invalid(&item.child("name"), name, problem));
                }
            } else if !names.insert(name) {
                errors.push(FieldError::duplicate(&item.child("name"), name));
            }
        }
        match int_of(port, "containerPort").unwrap_or(0) {
            0 => errors.push(FieldError::required(&item.child("containerPort"), "")),
            number => port_number(number, &item.child("containerPort"), errors),
        }
        if let Some(host) = int_of(port, "hostPort").filter(|p| *p != 0) {
            port_number(host, &item.child("hostPort"), errors);
        }
        protocol(port, &item, errors);
    }
}

/// `protocol` is required and one of TCP, UDP, SCTP.
pub(crate) fn protocol(port: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    match str_of(port, "protocol").unwrap_or("") {
        "" => errors.push(FieldError::required(&path.child("protocol"), "")),
        known if PROTOCOLS.contains(&known) => {}
        other => errors.push(FieldError::not_supported(
            &path.child("protocol"),
            other,
            PROTOCOLS,
        )),
    }
}

/// Host ports must not collide (protocol, host IP and port) among
/// `containers`.
fn host_port_conflicts(containers: &[Value], path: &FieldPath, errors: &mut Vec<FieldError>) {
    let mut seen = BTreeSet::new();
    for (i, container) in containers.iter().enumerate() {
        for (j, port) in list_of(container, "ports").iter().enumerate() {
            let host_port = int_of(port, "hostPort").unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{host_port}",
                str_of(port, "protocol").unwrap_or(""),
                str_of(port, "hostIP").unwrap_or("")
            );
            if !seen.insert(key.clone()) {
                let item = path.index(i).child("ports").index(j).child("hostPort");
                errors.push(FieldError::duplicate(&item, key));
            }
        }
    }
}

const RELAXED_ENV_NAME: &str = "a valid environment variable name must consist only of printable ASCII characters other than '='";

/// Problems with an environment variable name (the relaxed rule, on by
/// default since v1.32).
fn env_name_problems(name: &str) -> Vec<String> {
    if name.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        vec![RELAXED_ENV_NAME.to_string()]
    } else {
        Vec::new()
    }
}

fn env(container: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for (i, var) in list_of(container, "env").iter().enumerate() {
        let item = path.index(i);
        let name = str_of(var, "name").unwrap_or("");
        if name.is_empty() {
            errors.push(FieldError::required(&item.child("name"), ""));
        } else {
            for problem in env_name_problems(name) {
                errors.push(FieldError::invalid(&item.child("name"), name, problem));
            }
        }
        if let Some(from) = var.get("valueFrom").filter(|v| !v.is_null()) {
            let has_value = !str_of(var, "value").unwrap_or("").is_empty();
            value_from(from, has_value, &item.child("valueFrom"), errors);
        }
    }
}

const FIELD_REF_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Field paths the downward API can read at all (some only in volumes).
const DOWNWARD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

fn value_from(from: &Value, has_value: bool, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let sources = [
        "fieldRef",
        "resourceFieldRef",
        "configMapKeyRef",
        "secretKeyRef",
    ];
    let count = sources.iter().filter(|k| !is_absent(from.get(**k))).count();
    if let Some(field_ref) = from.get("fieldRef").filter(|f| !f.is_null()) {
        field_ref_errors(field_ref, &path.child("fieldRef"), errors);
    }
    for key in ["configMapKeyRef", "secretKeyRef"] {
        if let Some(selector) = from.get(key).filter(|s| !s.is_null()) {
            key_selector(selector, &path.child(key), errors);
        }
    }
    if let Some(resource_ref) = from.get("resourceFieldRef").filter(|r| !r.is_null())
        && str_of(resource_ref, "resource").unwrap_or("").is_empty()
    {
        errors.push(FieldError::required(
            &path.child("resourceFieldRef").child("resource"),
            "",
        ));
    }
    let message = match (count, has_value) {
        (0, _) => {
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
        }
        (_, true) => "may not be specified when `value` is not empty",
        (n, false) if n > 1 => "may not have more than one field specified at a time",
        _ => return,
    };
    errors.push(FieldError::invalid(path, "", message));
}

fn field_ref_errors(field_ref: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if str_of(field_ref, "apiVersion").unwrap_or("").is_empty() {
        errors.push(FieldError::required(&path.child("apiVersion"), ""));
        return;
    }
    let field_path = str_of(field_ref, "fieldPath").unwrap_or("");
    if field_path.is_empty() {
        errors.push(FieldError::required(&path.child("fieldPath"), ""));
        return;
    }
    if let Some((base, _)) = field_path.split_once('[') {
        if !matches!(base, "metadata.labels" | "metadata.annotations") {
            errors.push(FieldError::invalid(
                path,
                base,
                "does not support subscript",
            ));
        }
        return;
    }
    if !DOWNWARD_PATHS.contains(&field_path) {
        let message =
            format!("error converting fieldPath: field label not supported: {field_path}");
        errors.push(FieldError::invalid(
            &path.child("fieldPath"),
            field_path,
            message,
        ));
    } else if !FIELD_REF_PATHS.contains(&field_path) {
        let mut allowed = FIELD_REF_PATHS.to_vec();
        allowed.sort_unstable();
        errors.push(FieldError::not_supported(
            &path.child("fieldPath"),
            field_path,
            &allowed,
        ));
    }
}

fn key_selector(selector: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    dns_subdomain(
        str_of(selector, "name").unwrap_or(""),
        &path.child("name"),
        errors,
    );
    let key = str_of(selector, "key").unwrap_or("");
    if key.is_empty() {
        errors.push(FieldError::required(&path.child("key"), ""));
    } else {
        for problem in super::core::config_key_problems(key) {
            errors.push(FieldError::invalid(&path.child("key"), key, problem));
        }
    }
}

fn env_from(container: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for (i, source) in list_of(container, "envFrom").iter().enumerate() {
        let item = path.index(i);
        if let Some(prefix) = str_of(source, "prefix").filter(|p| !p.is_empty()) {
            for problem in env_name_problems(prefix) {
                errors.push(FieldError::invalid(&item.child("prefix"), prefix, problem));
            }
        }
        let mut count = 0;
        for key in ["configMapRef", "secretRef"] {
            if let Some(reference) = source.get(key).filter(|r| !r.is_null()) {
                count += 1;
                let name = str_of(reference, "name").unwrap_or("");
                if name.is_empty() {
                    errors.push(FieldError::required(&item.child(key).child("name"), ""));
                }
            }
        }
        let message = match count {
            0 => "must specify one of: `configMapRef` or `secretRef`",
            1 => continue,
            _ => "may not have more than one field specified at a time",
        };
        errors.push(FieldError::invalid(path, "", message));
    }
}

fn volume_mounts(
    container: &Value,
    path: &FieldPath,
    volumes: &BTreeSet<String>,
    errors: &mut Vec<FieldError>,
) {
    let mut mount_points = BTreeSet::new();
    for (i, mount) in list_of(container, "volumeMounts").iter().enumerate() {
        let item = path.index(i);
        let name = str_of(mount, "name").unwrap_or("");
        if name.is_empty() {
            errors.push(FieldError::required(&item.child("name"), ""));
        }
        if !volumes.contains(name) {
            errors.push(FieldError::not_found(&item.child("name"), name));
        }
        let mount_path = str_of(mount, "mountPath").unwrap_or("");
        if mount_path.is_empty() {
            errors.push(FieldError::required(&item.child("mountPath"), ""));
        }
        if !mount_points.insert(mount_path) {
            errors.push(FieldError::invalid(
                &item.child("mountPath"),
                mount_path,
                "must be unique",
            ));
        }
        let sub_path = str_of(mount, "subPath").unwrap_or("");
        if !sub_path.is_empty() {
            local_descending_path(sub_path, &path.child("subPath"), errors);
        }
        if let Some(expr) = str_of(mount, "subPathExpr").filter(|e| !e.is_empty()) {
            if !sub_path.is_empty() {
                errors.push(FieldError::invalid(
                    &item.child("subPathExpr"),
                    expr,
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            local_descending_path(expr, &path.child("subPathExpr"), errors);
        }
    }
}
