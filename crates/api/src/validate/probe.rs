//! Validation of a container's probes and lifecycle hooks: exactly one
//! handler each, well-formed ports and paths, sane thresholds.

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{int_of, list_of, str_of};

use super::{nonnegative, port_number, port_number_or_name};

/// Lifecycle hooks and probes of a container that may have them.
pub(crate) fn probes_and_hooks(
    container: &Value,
    path: &FieldPath,
    grace: Option<i64>,
    errors: &mut Vec<FieldError>,
) {
    if let Some(lifecycle) = container.get("lifecycle").filter(|l| !l.is_null()) {
        for key in ["postStart", "preStop"] {
            if let Some(hook) = lifecycle.get(key).filter(|h| !h.is_null()) {
                let hook_path = path.child("lifecycle").child(key);
                handler(
                    hook,
                    &["exec", "httpGet", "tcpSocket", "sleep"],
                    &hook_path,
                    grace,
                    errors,
                );
            }
        }
    }
    for key in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = container.get(key).filter(|p| !p.is_null()) {
            probe_errors(probe, key, &path.child(key), grace, errors);
        }
    }
}

fn probe_errors(
    probe: &Value,
    kind: &str,
    path: &FieldPath,
    grace: Option<i64>,
    errors: &mut Vec<FieldError>,
) {
    handler(
        probe,
        &["exec", "httpGet", "tcpSocket", "grpc"],
        path,
        grace,
        errors,
    );
    for key in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        nonnegative(int_of(probe, key), &path.child(key), errors);
    }
    let probe_grace = int_of(probe, "terminationGracePeriodSeconds");
    if let Some(seconds) = probe_grace.filter(|s| *s <= 0) {
        errors.push(FieldError::invalid(
            &path.child("terminationGracePeriodSeconds"),
            seconds,
            "must be greater than 0",
        ));
    }
    let success = int_of(probe, "successThreshold").unwrap_or(0);
    if kind != "readinessProbe" && success != 1 {
        errors.push(FieldError::invalid(
            &path.child("successThreshold"),
            success,
            "must be 1",
        ));
    }
    if let Some(seconds) = probe_grace.filter(|_| kind == "readinessProbe") {
        errors.push(FieldError::invalid(
            &path.child("terminationGracePeriodSeconds"),
            seconds,
            "must not be set for readinessProbes",
        ));
    }
}

/// Exactly one handler among `kinds`, each well formed.
fn handler(
    handler: &Value,
    kinds: &[&str],
    path: &FieldPath,
    grace: Option<i64>,
    errors: &mut Vec<FieldError>,
) {
    let mut count = 0;
    for kind in kinds {
        let Some(action) = handler.get(*kind).filter(|a| !a.is_null()) else {
            continue;
        };
        let action_path = path.child(kind);
        if count > 0 {
            errors.push(FieldError::forbidden(
                &action_path,
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        count += 1;
        action_errors(kind, action, &action_path, grace, errors);
    }
    if count == 0 {
        errors.push(FieldError::required(path, "must specify a handler type"));
    }
}

fn action_errors(
    kind: &str,
    action: &Value,
    path: &FieldPath,
    grace: Option<i64>,
    errors: &mut Vec<FieldError>,
) {
    let port = action.get("port").unwrap_or(&Value::Null);
    match kind {
        "exec" if list_of(action, "command").is_empty() => {
            errors.push(FieldError::required(&path.child("command"), ""));
        }
        "httpGet" => {
            if str_of(action, "path").unwrap_or("").is_empty() {
                errors.push(FieldError::required(&path.child("path"), ""));
            }
            port_number_or_name(port, &path.child("port"), errors);
            let scheme = str_of(action, "scheme").unwrap_or("");
            if !["HTTP", "HTTPS"].contains(&scheme) {
                errors.push(FieldError::not_supported(
                    &path.child("scheme"),
                    scheme,
                    &["HTTP", "HTTPS"],
                ));
            }
        }
        "tcpSocket" => port_number_or_name(port, &path.child("port"), errors),
        "grpc" => port_number(port.as_i64().unwrap_or(0), &path.child("port"), errors),
        "sleep" => {
            let seconds = int_of(action, "seconds").unwrap_or(0);
            if let Some(grace) = grace.filter(|g| seconds < 0 || seconds > *g) {
                let message = format!(
                    "must be non-negative and less than terminationGracePeriodSeconds ({grace})"
                );
                errors.push(FieldError::invalid(path, seconds, message));
            }
        }
        _ => {}
    }
}
