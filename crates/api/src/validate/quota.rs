//! Validation of the core kinds that bound a namespace's consumption:
//! LimitRanges (per-object minimums, maximums and defaults) and
//! ResourceQuotas (namespace totals, optionally for a scope of pods).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{list_of, str_of};
use crate::quantity::{Format, Quantity};
use crate::validation::is_qualified_name;

use super::NEGATIVE;
use super::pod::NULL;
use super::resources::{
    STANDARD_RESOURCES, is_extended, is_hugepages, overcommit_allowed, quantities, resource_name,
};

/// The quota resources that count objects and so take whole numbers.
const COUNTED: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];
const QUOTA_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
];
const SCOPES: &[&str] = &[
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
    "VolumeAttributesClass",
];
/// The resources a pod-scoped quota may bound besides `pods`.
const POD_COMPUTE: &[&str] = &[
    "cpu",
    "limits.cpu",
    "limits.memory",
    "memory",
    "requests.cpu",
    "requests.memory",
];

/// LimitRange.
pub(crate) fn limit_range(object: &Value, _old: Option<&Value>) -> Vec<FieldError> {
    let path = FieldPath::new("spec").child("limits");
    let items = crate::json::at(object, &["spec"]).map_or(&[][..], |s| list_of(s, "limits"));
    let mut errors = Vec::new();
    let mut types = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let at = path.index(i);
        let kind = str_of(item, "type").unwrap_or("");
        limit_type(kind, &at.child("type"), &mut errors);
        if !types.insert(kind) {
            errors.push(FieldError::duplicate(&at.child("type"), kind));
        }
        limit_item(item, kind, &at, &mut errors);
    }
    errors
}

fn limit_type(kind: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let problems = is_qualified_name(kind);
    if !problems.is_empty() {
        errors.extend(
            problems
                .into_iter()
                .map(|p| FieldError::invalid(path, kind, p)),
        );
    } else if !kind.contains('/') && !["Pod", "Container", "PersistentVolumeClaim"].contains(&kind)
    {
        errors.push(FieldError::invalid(
            path,
            kind,
            "must be a standard limit type or fully qualified",
        ));
    }
}

/// The quantities of one limit's `key`, with their names checked.
fn limit_values(
    item: &Value,
    kind: &str,
    key: &str,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> BTreeMap<String, Quantity> {
    let values = quantities(item, key, &path.child(key), errors);
    for name in values.keys() {
        let at = path.child(key).key(name);
        match kind {
            "Pod" | "Container" => resource_name(name, &at, errors),
            _ => quota_resource_name(name, &at, false, errors),
        }
    }
    values
}

fn limit_item(item: &Value, kind: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let max = limit_values(item, kind, "max", path, errors);
    let min = limit_values(item, kind, "min", path, errors);
    let (mut default, mut default_request) = (BTreeMap::new(), BTreeMap::new());
    if kind == "Pod" {
        for key in ["default", "defaultRequest"] {
            if item
                .get(key)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
            {
                let why = "may not be specified when `type` is 'Pod'";
                errors.push(FieldError::forbidden(&path.child(key), why));
            }
        }
    } else {
        default = limit_values(item, kind, "default", path, errors);
        default_request = limit_values(item, kind, "defaultRequest", path, errors);
    }
    if kind == "PersistentVolumeClaim"
        && !min.contains_key("storage")
        && !max.contains_key("storage")
    {
        errors.push(FieldError::required(
            &path.child("limits"),
            "either minimum or maximum storage value is required, but neither was provided",
        ));
    }
    let ratio = limit_values(item, kind, "maxLimitRequestRatio", path, errors);
    let names: BTreeSet<&String> = [&max, &min, &default, &default_request, &ratio]
        .into_iter()
        .flat_map(BTreeMap::keys)
        .collect();
    for name in names {
        let bounds = Bounds {
            min: min.get(name),
            max: max.get(name),
            default: default.get(name),
            request: default_request.get(name),
            ratio: ratio.get(name),
        };
        bounds.check(name, path, errors);
    }
}

/// One resource's values in a limit.
struct Bounds<'a> {
    min: Option<&'a Quantity>,
    max: Option<&'a Quantity>,
    default: Option<&'a Quantity>,
    request: Option<&'a Quantity>,
    ratio: Option<&'a Quantity>,
}

/// Both values when `a` is greater than `b`.
fn greater<'a>(
    a: Option<&'a Quantity>,
    b: Option<&'a Quantity>,
) -> Option<(&'a Quantity, &'a Quantity)> {
    a.zip(b).filter(|(a, b)| a > b)
}

impl Bounds<'_> {
    fn check(&self, name: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
        let mut bad = |key: &str, value: &Quantity, why: String| {
            errors.push(FieldError::invalid(
                &path.child(key).key(name),
                value.canonical(),
                why,
            ));
        };
        if let Some((min, max)) = greater(self.min, self.max) {
            bad(
                "min",
                min,
                format!("min value {min} is greater than max value {max}"),
            );
        }
        if let Some((min, request)) = greater(self.min, self.request) {
            let why = format!("min value {min} is greater than default request value {request}");
            bad("defaultRequest", request, why);
        }
        if let Some((request, max)) = greater(self.request, self.max) {
            let why = format!("default request value {request} is greater than max value {max}");
            bad("defaultRequest", request, why);
        }
        if let Some((request, default)) = greater(self.request, self.default) {
            let why = format!(
                "default request value {request} is greater than default limit value {default}"
            );
            bad("defaultRequest", request, why);
        }
        if let Some((min, default)) = greater(self.min, self.default) {
            bad(
                "default",
                min,
                format!("min value {min} is greater than default value {default}"),
            );
        }
        if let Some((default, max)) = greater(self.default, self.max) {
            bad(
                "default",
                max,
                format!("default value {default} is greater than max value {max}"),
            );
        }
        if let Some(ratio) = self
            .ratio
            .filter(|r| **r < Quantity::new(1, Format::DecimalSI))
        {
            bad(
                "maxLimitRequestRatio",
                ratio,
                format!("ratio {ratio} is less than 1"),
            );
        }
        if let Some((default, request)) = self.default.zip(self.request)
            && !overcommit_allowed(name)
            && default != request
        {
            let why = format!(
                "default value {default} must equal to defaultRequest value {request} in {name}"
            );
            bad("defaultRequest", request, why);
        }
    }
}

/// Errors of a resource name bounded by a quota (or by a non-container
/// limit, when `quota` is false).
fn quota_resource_name(name: &str, path: &FieldPath, quota: bool, errors: &mut Vec<FieldError>) {
    let problems = is_qualified_name(name);
    if !problems.is_empty() {
        errors.extend(
            problems
                .into_iter()
                .map(|p| FieldError::invalid(path, name, p)),
        );
        return;
    }
    if name.contains('/') {
        return;
    }
    if !STANDARD_RESOURCES.contains(&name)
        && !is_hugepages(name)
        && !name.starts_with("requests.hugepages-")
    {
        errors.push(FieldError::invalid(
            path,
            name,
            "must be a standard resource type or fully qualified",
        ));
        return;
    }
    let hugepages = name.starts_with("requests.hugepages-");
    if quota && !COUNTED.contains(&name) && !QUOTA_RESOURCES.contains(&name) && !hugepages {
        errors.push(FieldError::invalid(
            path,
            name,
            "must be a standard resource for quota",
        ));
    }
}

/// Errors of one quota amount.
fn quota_amount(name: &str, quantity: &Quantity, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if quantity.signum() < 0 {
        errors.push(FieldError::invalid(path, quantity.canonical(), NEGATIVE));
    }
    let counted = COUNTED.contains(&name) || name.starts_with("count/") || is_extended(name);
    if counted && quantity.milli_value().is_none_or(|m| m % 1000 != 0) {
        errors.push(FieldError::invalid(
            path,
            quantity.canonical(),
            "must be an integer",
        ));
    }
}

/// The amounts at `value[key]`, checked as quota amounts.
fn quota_map(
    value: &Value,
    key: &str,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    let amounts = quantities(value, key, &path.child(key), errors);
    for (name, quantity) in &amounts {
        let at = path.child(key).key(name);
        quota_resource_name(name, &at, true, errors);
        quota_amount(name, quantity, &at, errors);
    }
    amounts.into_keys().collect()
}

/// ResourceQuota: hard limits, scopes, scope selector and status.
pub(crate) fn resource_quota(object: &Value, _old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    let hard = quota_map(spec, "hard", &path, &mut errors);
    quota_scopes(spec, &hard, &path, &mut errors);
    scope_selector(spec, &hard, &path.child("scopeSelector"), &mut errors);
    let status = object.get("status").unwrap_or(&NULL);
    for key in ["hard", "used"] {
        quota_map(status, key, &FieldPath::new("status"), &mut errors);
    }
    errors
}

/// Whether a quota scoped by `scope` may bound `resource`.
fn scope_fits(scope: &str, resource: &str) -> bool {
    let pods = resource == "pods";
    match scope {
        "BestEffort" => pods,
        "Terminating"
        | "NotTerminating"
        | "NotBestEffort"
        | "PriorityClass"
        | "CrossNamespacePodAffinity" => pods || POD_COMPUTE.contains(&resource),
        _ => true,
    }
}

fn is_quota_resource(name: &str) -> bool {
    COUNTED.contains(&name)
        || QUOTA_RESOURCES.contains(&name)
        || name.starts_with("requests.hugepages-")
}

fn quota_scopes(spec: &Value, hard: &[String], path: &FieldPath, errors: &mut Vec<FieldError>) {
    let scopes: Vec<&str> = list_of(spec, "scopes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let path = path.child("scopes");
    let value = spec.get("scopes").cloned().unwrap_or(Value::Null);
    for scope in &scopes {
        if !SCOPES.contains(scope) {
            errors.push(FieldError::invalid(
                &path,
                value.clone(),
                "unsupported scope",
            ));
        }
        if hard
            .iter()
            .any(|h| is_quota_resource(h) && !scope_fits(scope, h))
        {
            errors.push(FieldError::invalid(
                &path,
                value.clone(),
                "unsupported scope applied to resource",
            ));
        }
    }
    for (a, b) in [
        ("BestEffort", "NotBestEffort"),
        ("Terminating", "NotTerminating"),
    ] {
        if scopes.contains(&a) && scopes.contains(&b) {
            errors.push(FieldError::invalid(
                &path,
                value.clone(),
                "conflicting scopes",
            ));
        }
    }
}

fn scope_selector(spec: &Value, hard: &[String], path: &FieldPath, errors: &mut Vec<FieldError>) {
    let Some(selector) = spec.get("scopeSelector").filter(|s| !s.is_null()) else {
        return;
    };
    for requirement in list_of(selector, "matchExpressions") {
        let scope = str_of(requirement, "scopeName").unwrap_or("");
        if !SCOPES.contains(&scope) {
            errors.push(FieldError::invalid(
                &path.child("scopeName"),
                scope,
                "unsupported scope",
            ));
        }
        if hard
            .iter()
            .any(|h| is_quota_resource(h) && !scope_fits(scope, h))
        {
            let why = "unsupported scope applied to resource";
            errors.push(FieldError::invalid(path, selector.clone(), why));
        }
        scope_operator(requirement, scope, path, errors);
    }
}

fn scope_operator(
    requirement: &Value,
    scope: &str,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let operator = str_of(requirement, "operator").unwrap_or("");
    let exists_only = [
        "BestEffort",
        "NotBestEffort",
        "Terminating",
        "NotTerminating",
        "CrossNamespacePodAffinity",
    ];
    if exists_only.contains(&scope) && operator != "Exists" {
        errors.push(FieldError::invalid(
            &path.child("operator"),
            operator,
            "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
        ));
    }
    let values = list_of(requirement, "values");
    match operator {
        "In" | "NotIn" if values.is_empty() => errors.push(FieldError::required(
            &path.child("values"),
            "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
        )),
        "Exists" | "DoesNotExist" if !values.is_empty() => errors.push(FieldError::invalid(
            &path.child("values"),
            Value::from(values.to_vec()),
            "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
        )),
        "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
        other => errors.push(FieldError::invalid(
            &path.child("operator"),
            other,
            "not a valid selector operator",
        )),
    }
}
