//! Validation of apiextensions.k8s.io/v1 CustomResourceDefinitions, with
//! the field paths and messages of upstream's apiextensions validation:
//! the name `<plural>.<group>`, the group, scope and names, each version
//! (its name, schema presence, scale subresource, printer columns and
//! selectable fields), conversion, and on update the fields that may not
//! change and the stored versions that must stay served.
//!
//! The structural-schema rules of each version's `openAPIV3Schema` are not
//! checked here: they need the schema machinery of the API server, which
//! runs them on the schemas [`openapi_schemas`] lists, at their paths.
//! Conversion webhooks are refused: keelson converts between versions of a
//! custom resource only by rewriting `apiVersion` (strategy `None`).

mod version;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{at, bool_of, list_of, str_of};
use crate::validation::{is_dns1035_label, is_dns1123_subdomain};

use super::pod::NULL;

/// The OpenAPI data types of printer columns.
const COLUMN_TYPES: &[&str] = &["boolean", "date", "integer", "number", "string"];
/// The formats printer columns may give.
const COLUMN_FORMATS: &[&str] = &[
    "byte",
    "date",
    "date-time",
    "double",
    "float",
    "int32",
    "int64",
    "password",
];
/// The most selectable fields a version may have.
const MAX_SELECTABLE_FIELDS: usize = 8;
/// The longest deprecation warning.
const MAX_WARNING_BYTES: usize = 256;

/// Every version's `schema.openAPIV3Schema` with its field path, for the
/// structural-schema check the API server adds to these rules.
pub fn openapi_schemas(object: &Value) -> Vec<(FieldPath, &Value)> {
    let versions = FieldPath::new("spec").child("versions");
    list_of(object.get("spec").unwrap_or(&NULL), "versions")
        .iter()
        .enumerate()
        .filter_map(|(i, version)| {
            let schema = at(version, &["schema", "openAPIV3Schema"])?;
            let path = versions.index(i).child("schema").child("openAPIV3Schema");
            Some((path, schema))
        })
        .collect()
}

/// The field errors of a CustomResourceDefinition (metadata apart from
/// its name is checked for every kind), on create when `old` is `None`
/// and on update otherwise; all but the structural-schema rules.
pub fn custom_resource_definition(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    if old.is_none() {
        name(object, spec, &mut errors);
    }
    group(spec, &path, &mut errors);
    scope(spec, &path, &mut errors);
    versions(spec, &path.child("versions"), &mut errors);
    required_names(spec, &path.child("names"), &mut errors);
    let names = spec.get("names").unwrap_or(&NULL);
    names_rules(names, &path.child("names"), &mut errors);
    conversion(spec, &path.child("conversion"), &mut errors);
    if bool_of(spec, "preserveUnknownFields") == Some(true) {
        errors.push(FieldError::invalid(
            &path.child("preserveUnknownFields"),
            true,
            "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
        ));
    }
    if let Some(old) = old {
        update(object, old, &path, &mut errors);
    }
    let status = object.get("status").unwrap_or(&NULL);
    let status_path = FieldPath::new("status");
    let accepted = status.get("acceptedNames").unwrap_or(&NULL);
    names_rules(accepted, &status_path.child("acceptedNames"), &mut errors);
    stored_versions(
        spec,
        status,
        &status_path.child("storedVersions"),
        &mut errors,
    );
    errors
}

/// `metadata.name` must be `<spec.names.plural>.<spec.group>`.
fn name(object: &Value, spec: &Value, errors: &mut Vec<FieldError>) {
    let name = at(object, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("");
    let plural = at(spec, &["names", "plural"])
        .and_then(Value::as_str)
        .unwrap_or("");
    let group = str_of(spec, "group").unwrap_or("");
    if !name.is_empty() && name != format!("{plural}.{group}") {
        errors.push(FieldError::invalid(
            &FieldPath::new("metadata").child("name"),
            name,
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
}

fn group(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let group = str_of(spec, "group").unwrap_or("");
    let path = path.child("group");
    if group.is_empty() {
        errors.push(FieldError::required(&path, ""));
        return;
    }
    let problems = is_dns1123_subdomain(group);
    if !problems.is_empty() {
        errors.push(FieldError::invalid(&path, group, problems.join(",")));
    } else if !group.contains('.') {
        errors.push(FieldError::invalid(
            &path,
            group,
            "should be a domain with at least one dot",
        ));
    }
}

fn scope(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    one_of(
        str_of(spec, "scope").unwrap_or(""),
        &["Cluster", "Namespaced"],
        &path.child("scope"),
        errors,
    );
}

/// Upstream's enum check: required, and one of `accepted`.
fn one_of(value: &str, accepted: &[&str], path: &FieldPath, errors: &mut Vec<FieldError>) {
    if value.is_empty() {
        errors.push(FieldError::required(path, ""));
    } else if !accepted.contains(&value) {
        errors.push(FieldError::not_supported(path, value, accepted));
    }
}

fn versions(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let versions = list_of(spec, "versions");
    let mut seen = BTreeSet::new();
    let mut unique = true;
    for (i, version) in versions.iter().enumerate() {
        let version_path = path.index(i);
        let name = str_of(version, "name").unwrap_or("");
        unique &= seen.insert(name);
        let problems = is_dns1035_label(name);
        if !problems.is_empty() {
            let name_path = version_path.child("name");
            errors.push(FieldError::invalid(&name_path, name, problems.join(",")));
        }
        version::version(version, &version_path, errors);
    }
    let all = Value::Array(versions.to_vec());
    if !unique {
        let why = "must contain unique version names";
        errors.push(FieldError::invalid(path, all.clone(), why));
    }
    let storage = versions
        .iter()
        .filter(|v| bool_of(v, "storage") == Some(true))
        .count();
    if storage != 1 {
        let why = "must have exactly one version marked as storage version";
        errors.push(FieldError::invalid(path, all, why));
    }
    for (i, version) in versions.iter().enumerate() {
        if at(version, &["schema", "openAPIV3Schema"]).is_none() {
            let schema = path.index(i).child("schema").child("openAPIV3Schema");
            errors.push(FieldError::required(&schema, "schemas are required"));
        }
    }
}

/// The names a spec (unlike the accepted names in status) must give.
fn required_names(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let names = spec.get("names").unwrap_or(&NULL);
    for key in ["plural", "singular", "kind", "listKind"] {
        if str_of(names, key).unwrap_or("").is_empty() {
            errors.push(FieldError::required(&path.child(key), ""));
        }
    }
}

/// The rules of the names given, in the spec or as accepted in status.
fn names_rules(names: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for key in ["plural", "singular"] {
        let value = str_of(names, key).unwrap_or("");
        let problems = is_dns1035_label(value);
        if !value.is_empty() && !problems.is_empty() {
            errors.push(FieldError::invalid(
                &path.child(key),
                value,
                problems.join(","),
            ));
        }
    }
    for key in ["kind", "listKind"] {
        let value = str_of(names, key).unwrap_or("");
        let problems = is_dns1035_label(&value.to_lowercase());
        if !value.is_empty() && !problems.is_empty() {
            let why = format!(
                "may have mixed case, but should otherwise match: {}",
                problems.join(",")
            );
            errors.push(FieldError::invalid(&path.child(key), value, why));
        }
    }
    labels(names, "shortNames", path, errors);
    let kind = str_of(names, "kind").unwrap_or("");
    if !kind.is_empty() && str_of(names, "listKind") == Some(kind) {
        errors.push(FieldError::invalid(
            &path.child("listKind"),
            kind,
            "kind and listKind may not be the same",
        ));
    }
    labels(names, "categories", path, errors);
}

/// Each item of `names[key]` a DNS-1035 label, none twice.
fn labels(names: &Value, key: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let mut seen = BTreeSet::new();
    for (i, item) in list_of(names, key).iter().enumerate() {
        let value = item.as_str().unwrap_or("");
        let item_path = path.child(key).index(i);
        let problems = is_dns1035_label(value);
        if !problems.is_empty() {
            errors.push(FieldError::invalid(&item_path, value, problems.join(",")));
        } else if !seen.insert(value) {
            errors.push(FieldError::duplicate(&item_path, value));
        }
    }
}

fn conversion(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let Some(conversion) = spec.get("conversion").filter(|c| !c.is_null()) else {
        return;
    };
    let strategy = str_of(conversion, "strategy").unwrap_or("");
    let webhook = conversion.get("webhook").filter(|w| !w.is_null());
    if strategy == "Webhook" {
        errors.push(FieldError::invalid(
            &path.child("strategy"),
            strategy,
            "webhook conversion is not supported by keelson: use strategy None",
        ));
        return;
    }
    one_of(
        strategy,
        &["None", "Webhook"],
        &path.child("strategy"),
        errors,
    );
    let why = "should not be set when strategy is not set to Webhook";
    if webhook.is_some_and(|w| at(w, &["clientConfig"]).is_some()) {
        errors.push(FieldError::forbidden(
            &path.child("webhookClientConfig"),
            why,
        ));
    }
    if webhook.is_some_and(|w| !list_of(w, "conversionReviewVersions").is_empty()) {
        errors.push(FieldError::forbidden(
            &path.child("conversionReviewVersions"),
            why,
        ));
    }
}

/// What an update may not change: the group and plural (they make the
/// name), and the scope, which decides where custom objects are stored;
/// the kind once the definition is established.
fn update(object: &Value, old: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let new_spec = object.get("spec").unwrap_or(&NULL);
    let old_spec = old.get("spec").unwrap_or(&NULL);
    super::immutable(
        new_spec.get("scope"),
        old_spec.get("scope"),
        &path.child("scope"),
        errors,
    );
    if established(old) {
        let kind = path.child("names").child("kind");
        let new_kind = at(new_spec, &["names", "kind"]);
        super::immutable(new_kind, at(old_spec, &["names", "kind"]), &kind, errors);
    }
    super::immutable(
        new_spec.get("group"),
        old_spec.get("group"),
        &path.child("group"),
        errors,
    );
    let plural = path.child("names").child("plural");
    let new_plural = at(new_spec, &["names", "plural"]);
    super::immutable(
        new_plural,
        at(old_spec, &["names", "plural"]),
        &plural,
        errors,
    );
}

/// Whether the definition's `Established` condition is true.
fn established(object: &Value) -> bool {
    let conditions = at(object, &["status", "conditions"]).and_then(Value::as_array);
    conditions.is_some_and(|conditions| {
        conditions.iter().any(|c| {
            str_of(c, "type") == Some("Established") && str_of(c, "status") == Some("True")
        })
    })
}

/// The versions objects are stored in: at least one, the storage version
/// among them, and each still in `spec.versions` (a version is dropped
/// from the spec only after its objects are migrated and it is removed
/// from `status.storedVersions`).
fn stored_versions(spec: &Value, status: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let stored = list_of(status, "storedVersions");
    if stored.is_empty() {
        let why = "must have at least one stored version";
        errors.push(FieldError::invalid(path, Value::Array(Vec::new()), why));
        return;
    }
    let versions = list_of(spec, "versions");
    let is_stored = |name: &str| stored.iter().any(|s| s.as_str() == Some(name));
    for version in versions {
        let name = str_of(version, "name").unwrap_or("");
        if bool_of(version, "storage") == Some(true) && !is_stored(name) {
            let why = format!("must have the storage version {name}");
            errors.push(FieldError::invalid(path, version.clone(), why));
        }
    }
    for (i, stored) in stored.iter().enumerate() {
        let name = stored.as_str().unwrap_or("");
        if !versions.iter().any(|v| str_of(v, "name") == Some(name)) {
            let why = "must appear in spec.versions";
            errors.push(FieldError::invalid(&path.index(i), name, why));
        }
    }
}
