//! Validation of a pod spec's volumes: unique DNS-label names, exactly one
//! source each, and the basic fields of the common sources.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::defaults::VOLUME_SOURCES;
use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{int_of, list_of, str_of};
use crate::quantity::Quantity;

use super::dns_label;

const FILE_MODE: &str = "must be a number between 0 and 0777 (octal), both inclusive";

const HOST_PATH_TYPES: &[&str] = &[
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];

/// Checks `spec.volumes` and returns the names of the valid volumes (the
/// ones mounts may refer to).
pub(crate) fn volumes(
    spec: &Value,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, volume) in list_of(spec, "volumes").iter().enumerate() {
        let item = path.index(i);
        let name_path = item.child("name");
        let mut own = source(volume, &item);
        let name = str_of(volume, "name").unwrap_or("");
        if name.is_empty() {
            own.push(FieldError::required(&name_path, ""));
        } else {
            dns_label(name, &name_path, &mut own);
        }
        if names.contains(name) {
            own.push(FieldError::duplicate(&name_path, name));
        }
        if own.is_empty() {
            names.insert(name.to_string());
        }
        errors.extend(own);
    }
    names
}

/// The path segment upstream uses when a second source is forbidden (two
/// of them keep historical spellings).
fn forbidden_segment(key: &str) -> &str {
    match key {
        "downwardAPI" => "downwarAPI",
        "cephfs" => "cephFS",
        other => other,
    }
}

fn source(volume: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut count = 0;
    for key in VOLUME_SOURCES {
        let Some(source) = volume.get(*key).filter(|s| !s.is_null()) else {
            continue;
        };
        if count > 0 {
            errors.push(FieldError::forbidden(
                &path.child(forbidden_segment(key)),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        count += 1;
        source_fields(key, source, &path.child(key), &mut errors);
    }
    if count == 0 {
        errors.push(FieldError::required(path, "must specify a volume type"));
    }
    errors
}

fn source_fields(key: &str, source: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    match key {
        "emptyDir" => {
            let negative = str_of(source, "sizeLimit")
                .and_then(|q| q.parse::<Quantity>().ok())
                .is_some_and(|q| q.signum() < 0);
            if negative {
                errors.push(FieldError::forbidden(
                    &path.child("sizeLimit"),
                    "SizeLimit field must be a valid resource quantity",
                ));
            }
        }
        "hostPath" => {
            if str_of(source, "path").unwrap_or("").is_empty() {
                errors.push(FieldError::required(&path.child("path"), ""));
                return;
            }
            relative_path_steps(source, path, errors);
            if let Some(kind) = str_of(source, "type")
                && !HOST_PATH_TYPES.contains(&kind)
            {
                errors.push(FieldError::not_supported(
                    &path.child("type"),
                    kind,
                    HOST_PATH_TYPES,
                ));
            }
        }
        "secret" => {
            required_name(source, "secretName", path, errors);
            file_mode(source, path, errors);
            key_to_paths(source, path, errors);
        }
        "configMap" => {
            required_name(source, "name", path, errors);
            file_mode(source, path, errors);
            key_to_paths(source, path, errors);
        }
        "persistentVolumeClaim" => required_name(source, "claimName", path, errors),
        "downwardAPI" | "projected" => file_mode(source, path, errors),
        "nfs" => {
            required_name(source, "server", path, errors);
            required_name(source, "path", path, errors);
        }
        _ => {}
    }
}

/// A host path may not step up with `..`.
fn relative_path_steps(source: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let host_path = str_of(source, "path").unwrap_or("");
    if host_path.split('/').any(|step| step == "..") {
        errors.push(FieldError::invalid(
            &path.child("path"),
            host_path,
            "must not contain '..'",
        ));
    }
}

fn required_name(source: &Value, key: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if str_of(source, key).unwrap_or("").is_empty() {
        errors.push(FieldError::required(&path.child(key), ""));
    }
}

fn file_mode(source: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if let Some(mode) = int_of(source, "defaultMode").filter(|m| !(0..=0o777).contains(m)) {
        errors.push(FieldError::invalid(
            &path.child("defaultMode"),
            mode,
            FILE_MODE,
        ));
    }
}

fn key_to_paths(source: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for (i, item) in list_of(source, "items").iter().enumerate() {
        let item_path = path.child("items").index(i);
        if str_of(item, "key").unwrap_or("").is_empty() {
            errors.push(FieldError::required(&item_path.child("key"), ""));
        }
        let target = str_of(item, "path").unwrap_or("");
        if target.is_empty() {
            errors.push(FieldError::required(&item_path.child("path"), ""));
        } else {
            local_descending_path(target, &item_path.child("path"), errors);
        }
        if let Some(mode) = int_of(item, "mode").filter(|m| !(0..=0o777).contains(m)) {
            errors.push(FieldError::invalid(
                &item_path.child("mode"),
                mode,
                FILE_MODE,
            ));
        }
    }
}

/// A path inside a volume: relative, without `..` steps.
pub(crate) fn local_descending_path(value: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if value.starts_with('/') {
        errors.push(FieldError::invalid(path, value, "must be a relative path"));
    }
    if value.split('/').any(|step| step == "..") {
        errors.push(FieldError::invalid(path, value, "must not contain '..'"));
    }
}
