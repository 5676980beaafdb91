//! Per-kind validation of objects on create and update, with the field
//! paths and messages of a Kubernetes v1.33 API server, so that a rejected
//! object gives the same `422 Invalid` (`Deployment.apps "x" is invalid:
//! [...]`) a user would get upstream.
//!
//! The rules are grouped here by kind family; each kind's
//! [`crate::strategy`] names the ones that apply to it.
//!
//! It runs after defaulting, on the object as JSON. It checks what the
//! object says about itself: names, labels, selectors, pod specs, ports,
//! resources, per-kind rules, and on update the fields that may not
//! change. What needs the server's state (the namespace of the request,
//! uniqueness, uid and timestamps that may not change) is the server's job.

pub mod apiextensions;
pub(crate) mod apiservice;
pub(crate) mod apps;
pub(crate) mod autoscaling;
pub(crate) mod batch;
pub(crate) mod certificates;
mod conditions;
mod container;
pub(crate) mod core;
mod cron;
pub(crate) mod events;
pub(crate) mod ipam;
pub(crate) mod meta;
mod net;
pub(crate) mod networking;
pub(crate) mod pod;
mod pod_update;
pub(crate) mod policy;
mod probe;
pub(crate) mod quota;
pub(crate) mod rbac;
pub(crate) mod replication;
mod resources;
mod selector;
pub(crate) mod service;
pub(crate) mod storage_class;
mod volumes;

use serde_json::Value;

use crate::error::ApiError;
use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::at;
use crate::registry::ResourceInfo;

pub use cron::validate_schedule;

/// The message of a value that may not change.
pub(crate) const IMMUTABLE: &str = "field is immutable";
/// The message of a negative count.
pub(crate) const NEGATIVE: &str = "must be greater than or equal to 0";

/// Validates `object` (already defaulted) as a `resource`, on create when
/// `old` is `None` and on update otherwise: `Ok` when it is valid, else the
/// `Invalid` (422) error upstream gives, one cause per invalid field.
pub fn validate(
    resource: &ResourceInfo,
    object: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let causes = field_errors(resource, object, old);
    if causes.is_empty() {
        return Ok(());
    }
    let name = at(object, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("");
    Err(ApiError::invalid(
        resource.group,
        resource.kind,
        name,
        &causes,
    ))
}

/// The field errors of `object`, in the order upstream reports them; empty
/// when the object is valid. See [`validate`].
pub fn field_errors(
    resource: &ResourceInfo,
    object: &Value,
    old: Option<&Value>,
) -> Vec<FieldError> {
    let strategy = resource.strategy;
    let kube_finalizers = resource.group != "apiextensions.k8s.io" && !resource.is_custom();
    let mut errors =
        meta::object_meta(object, strategy.name_rule(), old.is_some(), kube_finalizers);
    errors.extend(strategy.validate(object, old));
    errors
}

/// `must be greater than or equal to 0` when `value` is negative.
pub(crate) fn nonnegative(value: Option<i64>, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if let Some(value) = value.filter(|v| *v < 0) {
        errors.push(FieldError::invalid(path, value, NEGATIVE));
    }
}

/// `field is immutable` (with the new value) when the field changed.
pub(crate) fn immutable(
    new: Option<&Value>,
    old: Option<&Value>,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if !crate::json::semantically_equal(new, old) {
        let value = new.cloned().unwrap_or(Value::Null);
        errors.push(FieldError::invalid(path, value, IMMUTABLE));
    }
}

/// `must be between 1 and 65535, inclusive` unless `port` is a valid port.
pub(crate) fn port_number(port: i64, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if !(1..=65535).contains(&port) {
        errors.push(FieldError::invalid(
            path,
            port,
            "must be between 1 and 65535, inclusive",
        ));
    }
}

/// Problems with `name` as an IANA service name (a named port).
pub(crate) fn is_port_name(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if name.len() > 15 {
        problems.push(crate::validation::max_len_error(15));
    }
    let charset = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !charset {
        problems.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        problems.push("must contain at least one letter (a-z)".to_string());
    }
    if name.contains("--") {
        problems.push("must not contain consecutive hyphens".to_string());
    }
    if name.starts_with('-') || name.ends_with('-') {
        problems.push("must not begin or end with a hyphen".to_string());
    }
    problems
}

/// A port given as a number or a name (`targetPort`, probe ports).
pub(crate) fn port_number_or_name(port: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    match port {
        Value::String(name) => {
            for problem in is_port_name(name) {
                errors.push(FieldError::invalid(path, name.as_str(), problem));
            }
        }
        other => port_number(other.as_i64().unwrap_or(0), path, errors),
    }
}

/// Field errors for a DNS-1123 label at `path`.
pub(crate) fn dns_label(value: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    errors.extend(crate::validation::validate_dns1123_label_name(value, path));
}

/// Field errors for a DNS-1123 subdomain at `path`.
pub(crate) fn dns_subdomain(value: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    errors.extend(crate::validation::validate_dns1123_subdomain_name(
        value, path,
    ));
}

/// Field errors for a qualified name (label key, condition type) at `path`.
pub(crate) fn qualified_name(value: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for problem in crate::validation::is_qualified_name(value) {
        errors.push(FieldError::invalid(path, value, problem));
    }
}
