//! Validation of apiregistration.k8s.io/v1 APIServices: named
//! `<version>.<group>`, with valid priorities, and either local (served by
//! this server, with no TLS settings) or pointing at a Service.

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{at, bool_of, int_of, str_of};
use crate::validation::{is_dns1035_label, is_dns1123_subdomain};

use super::pod::NULL;

/// APIService.
pub(crate) fn api_service(object: &Value, _old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    let group = str_of(spec, "group").unwrap_or("");
    let version = str_of(spec, "version").unwrap_or("");
    let name = at(object, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("");
    let required = format!("{version}.{group}");
    if !name.is_empty()
        && crate::validation::is_valid_path_segment_name(name).is_empty()
        && name != required
    {
        errors.push(FieldError::invalid(
            &FieldPath::new("metadata").child("name"),
            name,
            format!("must be `spec.version+\".\"+spec.group`: \"{required}\""),
        ));
    }
    if group.is_empty() && version != "v1" {
        errors.push(FieldError::required(
            &path.child("group"),
            "only v1 may have an empty group and it better be legacy kube",
        ));
    }
    for problem in is_dns1123_subdomain(group)
        .into_iter()
        .filter(|_| !group.is_empty())
    {
        errors.push(FieldError::invalid(&path.child("group"), group, problem));
    }
    for problem in is_dns1035_label(version) {
        errors.push(FieldError::invalid(
            &path.child("version"),
            version,
            problem,
        ));
    }
    priorities(spec, &path, &mut errors);
    service(spec, &path, &mut errors);
    errors
}

fn priorities(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for (key, max) in [("groupPriorityMinimum", 20000), ("versionPriority", 1000)] {
        let value = int_of(spec, key).unwrap_or(0);
        if value <= 0 || value > max {
            let why = format!("must be positive and less than {max}");
            errors.push(FieldError::invalid(&path.child(key), value, why));
        }
    }
}

fn service(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let ca_bundle = str_of(spec, "caBundle").unwrap_or("");
    let insecure = bool_of(spec, "insecureSkipTLSVerify").unwrap_or(false);
    let insecure_path = path.child("insecureSkipTLSVerify");
    let Some(service) = spec.get("service").filter(|s| !s.is_null()) else {
        if !ca_bundle.is_empty() {
            let size = format!("{} bytes", super::core::decoded_len(ca_bundle));
            let why = "local APIServices may not have a caBundle";
            errors.push(FieldError::invalid(&path.child("caBundle"), size, why));
        }
        if insecure {
            let why = "local APIServices may not have insecureSkipTLSVerify";
            errors.push(FieldError::invalid(&insecure_path, insecure, why));
        }
        return;
    };
    let service_path = path.child("service");
    for key in ["namespace", "name"] {
        if str_of(service, key).unwrap_or("").is_empty() {
            errors.push(FieldError::required(&service_path.child(key), ""));
        }
    }
    let port = int_of(service, "port").unwrap_or(0);
    if !(1..=65535).contains(&port) {
        let why = "port is not valid: must be between 1 and 65535, inclusive";
        errors.push(FieldError::invalid(&service_path.child("port"), port, why));
    }
    if insecure && !ca_bundle.is_empty() {
        let why = "may not be true if caBundle is present";
        errors.push(FieldError::invalid(&insecure_path, insecure, why));
    }
}
