//! Validation of rbac.authorization.k8s.io/v1 Roles, ClusterRoles,
//! RoleBindings and ClusterRoleBindings: well-formed rules and
//! aggregation selectors, and bindings to a role of this group with
//! subjects of a known kind, whose role never changes.

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{at, list_of, str_of};
use crate::validation::{is_dns1123_subdomain, is_valid_path_segment_name};

use super::pod::NULL;
use super::selector;

const GROUP: &str = "rbac.authorization.k8s.io";

/// Role.
pub(crate) fn role(object: &Value, _old: Option<&Value>) -> Vec<FieldError> {
    rules(object, true)
}

/// ClusterRole: its rules and aggregation rule.
pub(crate) fn cluster_role(object: &Value, _old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = rules(object, false);
    let Some(aggregation) = object.get("aggregationRule").filter(|a| !a.is_null()) else {
        return errors;
    };
    let path = FieldPath::new("aggregationRule").child("clusterRoleSelectors");
    let selectors = list_of(aggregation, "clusterRoleSelectors");
    if selectors.is_empty() {
        errors.push(FieldError::required(
            &path,
            "at least one clusterRoleSelector required if aggregationRule is non-nil",
        ));
    }
    for (i, item) in selectors.iter().enumerate() {
        errors.extend(selector::validate(Some(item), &path.index(i)));
        if selector::parse(Some(item)).is_none() {
            errors.push(FieldError::invalid(
                &path.index(i),
                item.clone(),
                "invalid label selector.",
            ));
        }
    }
    errors
}

fn rules(object: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, rule) in list_of(object, "rules").iter().enumerate() {
        policy_rule(
            rule,
            namespaced,
            &FieldPath::new("rules").index(i),
            &mut errors,
        );
    }
    errors
}

fn policy_rule(rule: &Value, namespaced: bool, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let count = |key: &str| list_of(rule, key).len();
    if count("verbs") == 0 {
        errors.push(FieldError::required(
            &path.child("verbs"),
            "verbs must contain at least one value",
        ));
    }
    if count("nonResourceURLs") > 0 {
        let urls = rule.get("nonResourceURLs").cloned().unwrap_or(Value::Null);
        let urls_path = path.child("nonResourceURLs");
        if namespaced {
            let why = "namespaced rules cannot apply to non-resource URLs";
            errors.push(FieldError::invalid(&urls_path, urls.clone(), why));
        }
        if count("apiGroups") + count("resources") + count("resourceNames") > 0 {
            let why = "rules cannot apply to both regular resources and non-resource URLs";
            errors.push(FieldError::invalid(&urls_path, urls, why));
        }
        return;
    }
    if count("apiGroups") == 0 {
        let why = "resource rules must supply at least one api group";
        errors.push(FieldError::required(&path.child("apiGroups"), why));
    }
    if count("resources") == 0 {
        let why = "resource rules must supply at least one resource";
        errors.push(FieldError::required(&path.child("resources"), why));
    }
}

/// RoleBinding: to a Role or ClusterRole.
pub(crate) fn role_binding(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    binding(object, old, &["Role", "ClusterRole"], true)
}

/// ClusterRoleBinding: to a ClusterRole.
pub(crate) fn cluster_role_binding(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    binding(object, old, &["ClusterRole"], false)
}

fn binding(
    object: &Value,
    old: Option<&Value>,
    kinds: &[&str],
    namespaced: bool,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let role = object.get("roleRef").unwrap_or(&NULL);
    let path = FieldPath::new("roleRef");
    let group = str_of(role, "apiGroup").unwrap_or("");
    if group != GROUP {
        errors.push(FieldError::not_supported(
            &path.child("apiGroup"),
            group,
            &[GROUP],
        ));
    }
    let kind = str_of(role, "kind").unwrap_or("");
    if !kinds.contains(&kind) {
        errors.push(FieldError::not_supported(&path.child("kind"), kind, kinds));
    }
    match str_of(role, "name").unwrap_or("") {
        "" => errors.push(FieldError::required(&path.child("name"), "")),
        name => {
            for problem in is_valid_path_segment_name(name) {
                errors.push(FieldError::invalid(&path.child("name"), name, problem));
            }
        }
    }
    for (i, subject) in list_of(object, "subjects").iter().enumerate() {
        binding_subject(
            subject,
            namespaced,
            &FieldPath::new("subjects").index(i),
            &mut errors,
        );
    }
    if let Some(old) = old
        && !crate::json::semantically_equal(object.get("roleRef"), old.get("roleRef"))
    {
        errors.push(FieldError::invalid(
            &path,
            role.clone(),
            "cannot change roleRef",
        ));
    }
    errors
}

fn binding_subject(
    subject: &Value,
    namespaced: bool,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let name = str_of(subject, "name").unwrap_or("");
    if name.is_empty() {
        errors.push(FieldError::required(&path.child("name"), ""));
    }
    let group = str_of(subject, "apiGroup").unwrap_or("");
    let group_path = path.child("apiGroup");
    match str_of(subject, "kind").unwrap_or("") {
        "ServiceAccount" => {
            if !name.is_empty() {
                for problem in is_dns1123_subdomain(name) {
                    errors.push(FieldError::invalid(&path.child("name"), name, problem));
                }
            }
            if !group.is_empty() {
                errors.push(FieldError::not_supported(&group_path, group, &[""]));
            }
            let namespace = at(subject, &["namespace"])
                .and_then(Value::as_str)
                .unwrap_or("");
            if !namespaced && namespace.is_empty() {
                errors.push(FieldError::required(&path.child("namespace"), ""));
            }
        }
        "User" | "Group" if group != GROUP => {
            errors.push(FieldError::not_supported(&group_path, group, &[GROUP]));
        }
        "User" | "Group" => {}
        other => errors.push(FieldError::not_supported(
            &path.child("kind"),
            other,
            &["ServiceAccount", "User", "Group"],
        )),
    }
}
