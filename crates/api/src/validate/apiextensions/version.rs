//! The rules of one entry of a CustomResourceDefinition's `spec.versions`
//! apart from its name and schema: its deprecation warning, the scale
//! subresource's paths, the printer columns and the selectable fields.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{COLUMN_FORMATS, COLUMN_TYPES, MAX_SELECTABLE_FIELDS, MAX_WARNING_BYTES};
use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{list_of, str_of};

/// The errors of the version at `path`.
pub(super) fn version(version: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if let Some(warning) = str_of(version, "deprecationWarning")
        && warning.len() > MAX_WARNING_BYTES
    {
        let warning_path = path.child("deprecationWarning");
        errors.push(FieldError::too_long(&warning_path, Some(MAX_WARNING_BYTES)));
    }
    if let Some(scale) = version
        .pointer("/subresources/scale")
        .filter(|s| !s.is_null())
    {
        self::scale(scale, &path.child("subresources").child("scale"), errors);
    }
    let columns = path.child("additionalPrinterColumns");
    for (i, column) in list_of(version, "additionalPrinterColumns")
        .iter()
        .enumerate()
    {
        self::column(column, &columns.index(i), errors);
    }
    selectable_fields(version, &path.child("selectableFields"), errors);
}

/// The scale subresource: where the desired and observed replica counts
/// and the label selector are.
fn scale(scale: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for (key, under) in [
        ("specReplicasPath", ".spec"),
        ("statusReplicasPath", ".status"),
    ] {
        let value = str_of(scale, key).unwrap_or("");
        let key_path = path.child(key);
        if value.is_empty() {
            errors.push(FieldError::required(&key_path, ""));
        } else if simple_json_path(value, &key_path, errors)
            && !value.starts_with(&format!("{under}."))
        {
            let why = format!("should be a json path under {under}");
            errors.push(FieldError::invalid(&key_path, value, why));
        }
    }
    let selector = str_of(scale, "labelSelectorPath").unwrap_or("");
    let selector_path = path.child("labelSelectorPath");
    if !selector.is_empty()
        && simple_json_path(selector, &selector_path, errors)
        && !selector.starts_with(".spec.")
        && !selector.starts_with(".status.")
    {
        let why = "should be a json path under either .spec or .status";
        errors.push(FieldError::invalid(&selector_path, selector, why));
    }
}

/// Whether `value` is a path of the form `.a.b.c`; when it is not, says
/// why at `path`.
fn simple_json_path(value: &str, path: &FieldPath, errors: &mut Vec<FieldError>) -> bool {
    let why = if value.is_empty() {
        "must not be empty"
    } else if !value.starts_with('.') {
        "must be a simple json path starting with ."
    } else {
        return true;
    };
    errors.push(FieldError::invalid(path, value, why));
    false
}

/// One of `additionalPrinterColumns`.
fn column(column: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if str_of(column, "name").unwrap_or("").is_empty() {
        errors.push(FieldError::required(&path.child("name"), ""));
    }
    let types = format!("must be one of {}", COLUMN_TYPES.join(","));
    match str_of(column, "type").unwrap_or("") {
        "" => errors.push(FieldError::required(&path.child("type"), types)),
        type_ if !COLUMN_TYPES.contains(&type_) => {
            errors.push(FieldError::invalid(&path.child("type"), type_, types));
        }
        _ => {}
    }
    let format = str_of(column, "format").unwrap_or("");
    if !format.is_empty() && !COLUMN_FORMATS.contains(&format) {
        let why = format!("must be one of {}", COLUMN_FORMATS.join(","));
        errors.push(FieldError::invalid(&path.child("format"), format, why));
    }
    let json_path = str_of(column, "jsonPath").unwrap_or("");
    if json_path.is_empty() {
        errors.push(FieldError::required(&path.child("jsonPath"), ""));
    } else {
        simple_json_path(json_path, &path.child("jsonPath"), errors);
    }
}

/// `selectableFields`: each a path outside `metadata`, none twice, at most
/// [`MAX_SELECTABLE_FIELDS`]. Whether a path names a string, boolean or
/// integer field of the schema is the structural-schema check's.
fn selectable_fields(version: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let fields = list_of(version, "selectableFields");
    let mut unique = BTreeSet::new();
    for (i, field) in fields.iter().enumerate() {
        let json_path = str_of(field, "jsonPath").unwrap_or("");
        let field_path = path.index(i).child("jsonPath");
        if json_path.is_empty() {
            errors.push(FieldError::required(&field_path, ""));
            continue;
        }
        if !simple_json_path(json_path, &field_path, errors) {
            continue;
        }
        if json_path == ".metadata" || json_path.starts_with(".metadata.") {
            let why = "must not point to fields in metadata";
            errors.push(FieldError::invalid(&field_path, json_path, why));
        }
        if !unique.insert(json_path) {
            errors.push(FieldError::duplicate(&field_path, json_path));
        }
    }
    if unique.len() > MAX_SELECTABLE_FIELDS {
        errors.push(FieldError::too_many(
            path,
            Some(unique.len()),
            Some(MAX_SELECTABLE_FIELDS),
        ));
    }
}
