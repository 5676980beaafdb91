//! `metav1.Condition` lists in status (`status.conditions` of
//! PodDisruptionBudgets and APIServices): upstream's `ValidateConditions`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{int_of, is_absent, str_of};
use crate::validation::regex_error;

use super::qualified_name;

const MAX_REASON: usize = 1024;
const MAX_MESSAGE: usize = 32 * 1024;
const REASON_MSG: &str = "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'";
const REASON_FMT: &str = "[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?";

/// Errors in the conditions at `path`: each valid, no type twice.
pub(crate) fn conditions(items: &[Value], path: &FieldPath, errors: &mut Vec<FieldError>) {
    let mut seen = BTreeSet::new();
    for (i, condition) in items.iter().enumerate() {
        let at = path.index(i);
        condition_errors(condition, &at, errors);
        let kind = str_of(condition, "type").unwrap_or("");
        if !seen.insert(kind) {
            errors.push(FieldError::duplicate(&at.child("type"), kind));
        }
    }
}

fn condition_errors(condition: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    qualified_name(
        str_of(condition, "type").unwrap_or(""),
        &path.child("type"),
        errors,
    );
    let status = str_of(condition, "status").unwrap_or("");
    if !["False", "True", "Unknown"].contains(&status) {
        errors.push(FieldError::not_supported(
            &path.child("status"),
            status,
            &["False", "True", "Unknown"],
        ));
    }
    if let Some(generation) = int_of(condition, "observedGeneration").filter(|g| *g < 0) {
        errors.push(FieldError::invalid(
            &path.child("observedGeneration"),
            generation,
            "must be greater than or equal to zero",
        ));
    }
    if is_absent(condition.get("lastTransitionTime")) {
        errors.push(FieldError::required(
            &path.child("lastTransitionTime"),
            "must be set",
        ));
    }
    reason(
        str_of(condition, "reason").unwrap_or(""),
        &path.child("reason"),
        errors,
    );
    if str_of(condition, "message").is_some_and(|m| m.len() > MAX_MESSAGE) {
        errors.push(FieldError::too_long(
            &path.child("message"),
            Some(MAX_MESSAGE),
        ));
    }
}

fn reason(reason: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if reason.is_empty() {
        errors.push(FieldError::required(path, "must be set"));
        return;
    }
    let bytes = reason.as_bytes();
    let middle = |b: &u8| b.is_ascii_alphanumeric() || b"_,:".contains(b);
    let last = bytes[bytes.len() - 1];
    let valid = bytes[0].is_ascii_alphabetic()
        && bytes.iter().all(middle)
        && (bytes.len() == 1 || last.is_ascii_alphanumeric() || last == b'_');
    if !valid {
        let examples = [
            "my_name",
            "MY_NAME",
            "MyName",
            "ReasonA,ReasonB",
            "ReasonA:ReasonB",
        ];
        errors.push(FieldError::invalid(
            path,
            reason,
            regex_error(REASON_MSG, REASON_FMT, &examples),
        ));
    }
    if reason.len() > MAX_REASON {
        errors.push(FieldError::too_long(path, Some(MAX_REASON)));
    }
}
