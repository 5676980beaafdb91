//! Validation of `metadata`: the name (by the rule of each kind), labels,
//! annotations, owner references and finalizers.

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{bool_of, int_of, list_of, str_of, string_map};
use crate::strategy::NameRule;
use crate::validation::{is_dns1035_label, is_dns1123_label, is_dns1123_subdomain};

use super::{nonnegative, qualified_name};

/// The problems of `name` under `rule`.
fn name_problems(rule: NameRule, name: &str) -> Vec<String> {
    match rule {
        NameRule::Subdomain => is_dns1123_subdomain(name),
        NameRule::Label => is_dns1123_label(name),
        NameRule::Dns1035Label => is_dns1035_label(name),
        NameRule::PathSegment => crate::validation::is_valid_path_segment_name(name),
        NameRule::IpAddress => super::net::ip_problems(name),
    }
}

/// The finalizers Kubernetes knows without a domain prefix.
const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

/// Errors in `object.metadata`. The name is checked on create only: it
/// cannot change, and upstream does not re-check it on update.
pub(crate) fn object_meta(
    object: &Value,
    rule: NameRule,
    update: bool,
    kube_finalizers: bool,
) -> Vec<FieldError> {
    let path = FieldPath::new("metadata");
    let meta = object.get("metadata").unwrap_or(&Value::Null);
    let mut errors = Vec::new();
    if !update {
        let name = str_of(meta, "name").unwrap_or("");
        if name.is_empty() {
            errors.push(FieldError::required(
                &path.child("name"),
                "name or generateName is required",
            ));
        } else {
            for problem in name_problems(rule, name) {
                errors.push(FieldError::invalid(&path.child("name"), name, problem));
            }
        }
    }
    nonnegative(
        int_of(meta, "generation"),
        &path.child("generation"),
        &mut errors,
    );
    errors.extend(crate::validation::validate_labels(
        &string_map(meta, "labels"),
        &path.child("labels"),
    ));
    errors.extend(crate::validation::validate_annotations(
        &string_map(meta, "annotations"),
        &path.child("annotations"),
    ));
    owner_references(meta, &path.child("ownerReferences"), &mut errors);
    finalizers(
        meta,
        &path.child("finalizers"),
        kube_finalizers,
        &mut errors,
    );
    errors
}

fn owner_references(meta: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let mut controller: Option<&str> = None;
    for reference in list_of(meta, "ownerReferences") {
        let text = |key| str_of(reference, key).unwrap_or("");
        let api_version = text("apiVersion");
        let version = api_version.rsplit('/').next().unwrap_or("");
        if version.is_empty() {
            errors.push(FieldError::invalid(
                &path.child("apiVersion"),
                api_version,
                "version must not be empty",
            ));
        }
        for (key, message) in [
            ("kind", "kind must not be empty"),
            ("name", "name must not be empty"),
            ("uid", "uid must not be empty"),
        ] {
            if text(key).is_empty() {
                errors.push(FieldError::invalid(&path.child(key), "", message));
            }
        }
        if bool_of(reference, "controller") == Some(true) {
            if let Some(first) = controller {
                let message = format!(
                    "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {}",
                    text("name")
                );
                let all = meta.get("ownerReferences").cloned().unwrap_or(Value::Null);
                errors.push(FieldError::invalid(path, all, message));
            } else {
                controller = Some(text("name"));
            }
        }
    }
}

/// The finalizers' errors; with `kube_names`, also names that are neither
/// standard nor domain-qualified (upstream checks that for the kinds of
/// the Kubernetes API server, not for those of its apiextensions server
/// or for custom resources).
fn finalizers(meta: &Value, path: &FieldPath, kube_names: bool, errors: &mut Vec<FieldError>) {
    let names: Vec<&str> = list_of(meta, "finalizers")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in &names {
        qualified_name(name, path, errors);
    }
    if names.contains(&"orphan") && names.contains(&"foregroundDeletion") {
        errors.push(FieldError::invalid(
            path,
            names.clone(),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    for (i, name) in names.iter().enumerate() {
        if kube_names && !name.contains('/') && !STANDARD_FINALIZERS.contains(name) {
            errors.push(FieldError::invalid(
                &path.index(i),
                *name,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
}

/// Errors of a finalizer list outside metadata (a Namespace's
/// `spec.finalizers`), each at its own index.
pub(crate) fn finalizer_names(names: &[Value], path: &FieldPath, errors: &mut Vec<FieldError>) {
    for name in names.iter().filter_map(Value::as_str) {
        qualified_name(name, path, errors);
        if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
            errors.push(FieldError::invalid(
                path,
                name,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
}
