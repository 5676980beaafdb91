//! Validation of a container's `resources`: resource names, quantities,
//! and requests within limits (equal to them for resources that cannot be
//! overcommitted, such as hugepages and extended resources).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::quantity::Quantity;
use crate::validation::is_qualified_name;

use super::NEGATIVE;

/// Resource names usable without a domain prefix (upstream's standard
/// resource names).
pub(crate) const STANDARD_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

pub(crate) fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

pub(crate) fn is_extended(name: &str) -> bool {
    !is_native(name)
        && !name.starts_with("requests.")
        && is_qualified_name(&format!("requests.{name}")).is_empty()
}

pub(crate) fn overcommit_allowed(name: &str) -> bool {
    is_native(name) && !is_hugepages(name)
}

/// Errors in a container's resource name at `path`.
pub(crate) fn resource_name(name: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let problems = is_qualified_name(name);
    let unprefixed = !name.contains('/');
    if !problems.is_empty() {
        for problem in problems {
            errors.push(FieldError::invalid(path, name, problem));
        }
    } else if unprefixed
        && !STANDARD_RESOURCES.contains(&name)
        && !is_hugepages(name)
        && !name.starts_with("requests.hugepages-")
    {
        errors.push(FieldError::invalid(
            path,
            name,
            "must be a standard resource type or fully qualified",
        ));
    }
    let container_standard =
        ["cpu", "memory", "ephemeral-storage"].contains(&name) || is_hugepages(name);
    if unprefixed && !container_standard {
        errors.push(FieldError::invalid(
            path,
            name,
            "must be a standard resource for containers",
        ));
    } else if !unprefixed && !is_native(name) && !is_extended(name) {
        errors.push(FieldError::invalid(
            path,
            name,
            "doesn't follow extended resource name standard",
        ));
    }
}

/// The quantities of `resources[key]`, with an error for each that does
/// not parse.
pub(crate) fn quantities(
    resources: &Value,
    key: &str,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> BTreeMap<String, Quantity> {
    let mut out = BTreeMap::new();
    let Some(map) = resources.get(key).and_then(Value::as_object) else {
        return out;
    };
    for (name, value) in map {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match text.parse::<Quantity>() {
            Ok(quantity) => {
                out.insert(name.clone(), quantity);
            }
            Err(error) => errors.push(FieldError::invalid(
                &path.key(name),
                text.as_str(),
                error.to_string(),
            )),
        }
    }
    out
}

fn quantity_value(name: &str, quantity: &Quantity, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if quantity.signum() < 0 {
        errors.push(FieldError::invalid(path, quantity.canonical(), NEGATIVE));
    }
    let whole = quantity.milli_value().is_some_and(|m| m % 1000 == 0);
    if is_extended(name) && !whole {
        errors.push(FieldError::invalid(
            path,
            quantity.canonical(),
            "must be an integer",
        ));
    }
}

/// Errors in a container's `resources` at `path`.
pub(crate) fn resource_requirements(
    resources: &Value,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let limits_path = path.child("limits");
    let requests_path = path.child("requests");
    let limits = quantities(resources, "limits", &limits_path, errors);
    let requests = quantities(resources, "requests", &requests_path, errors);
    for (name, quantity) in &limits {
        resource_name(name, &limits_path.key(name), errors);
        quantity_value(name, quantity, &limits_path.key(name), errors);
    }
    for (name, quantity) in &requests {
        resource_name(name, &requests_path.key(name), errors);
        quantity_value(name, quantity, &requests_path.key(name), errors);
        match limits.get(name) {
            Some(limit) if !overcommit_allowed(name) && quantity != limit => {
                let message = format!("must be equal to {name} limit of {}", limit.canonical());
                errors.push(FieldError::invalid(
                    &requests_path,
                    quantity.canonical(),
                    message,
                ));
            }
            Some(limit) if quantity > limit => {
                let message = format!(
                    "must be less than or equal to {name} limit of {}",
                    limit.canonical()
                );
                errors.push(FieldError::invalid(
                    &requests_path,
                    quantity.canonical(),
                    message,
                ));
            }
            Some(_) => {}
            None if !overcommit_allowed(name) => errors.push(FieldError::required(
                &limits_path,
                "Limit must be set for non overcommitable resources",
            )),
            None => {}
        }
    }
    let cpu_or_memory =
        |m: &BTreeMap<String, Quantity>| m.contains_key("cpu") || m.contains_key("memory");
    let hugepages = |m: &BTreeMap<String, Quantity>| m.keys().any(|k| is_hugepages(k));
    if !cpu_or_memory(&limits)
        && !cpu_or_memory(&requests)
        && (hugepages(&limits) || hugepages(&requests))
    {
        errors.push(FieldError::forbidden(
            path,
            "HugePages require cpu or memory",
        ));
    }
}
