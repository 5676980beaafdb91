//! Validation of events written through events.k8s.io/v1, which upstream
//! checks more strictly than core/v1 events: on the core form of the
//! event, with upstream's (core) field paths, except that the reporting
//! controller is named as events.k8s.io names it.

use serde_json::Value;

use crate::conversion::events::to_core;
use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{at, int_of, is_absent, str_of};

use super::{immutable, qualified_name};

const REPORTING_INSTANCE_LIMIT: usize = 128;
const ACTION_LIMIT: usize = 128;
const REASON_LIMIT: usize = 128;
const NOTE_LIMIT: usize = 1024;

/// An events.k8s.io/v1 Event, on create when `old` is `None`.
pub(crate) fn event(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let event = to_core(object);
    let mut errors = legacy(&event);
    match old {
        None => create(&event, &mut errors),
        Some(old) => update(&event, &to_core(old), &mut errors),
    }
    errors
}

fn text<'a>(event: &'a Value, key: &str) -> &'a str {
    str_of(event, key).unwrap_or("")
}

fn has_time(event: &Value, key: &str) -> bool {
    !text(event, key).is_empty()
}

/// Upstream's checks of every event, whichever API wrote it.
fn legacy(event: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let namespace = at(event, &["metadata", "namespace"])
        .and_then(Value::as_str)
        .unwrap_or("");
    let involved = at(event, &["involvedObject", "namespace"])
        .and_then(Value::as_str)
        .unwrap_or("");
    let namespace_path = FieldPath::new("involvedObject").child("namespace");
    let mismatch =
        || FieldError::invalid(&namespace_path, involved, "does not match event.namespace");
    if has_time(event, "eventTime") {
        if involved.is_empty() && namespace != "default" && namespace != "kube-system" {
            errors.push(mismatch());
        }
        reporting(event, &mut errors);
    } else if (involved.is_empty() && !namespace.is_empty() && namespace != "default")
        || (!involved.is_empty() && namespace != involved)
    {
        errors.push(mismatch());
    }
    for problem in crate::validation::is_dns1123_subdomain(namespace) {
        errors.push(FieldError::invalid(
            &FieldPath::new("namespace"),
            namespace,
            problem,
        ));
    }
    errors
}

/// The reporter, action, reason and note of an event with an `eventTime`.
fn reporting(event: &Value, errors: &mut Vec<FieldError>) {
    let controller = text(event, "reportingComponent");
    let controller_path = FieldPath::new("reportingController");
    if controller.is_empty() {
        errors.push(FieldError::required(&controller_path, ""));
    }
    qualified_name(controller, &controller_path, errors);
    required_and_short(event, "reportingInstance", REPORTING_INSTANCE_LIMIT, errors);
    required_and_short(event, "action", ACTION_LIMIT, errors);
    required_and_short(event, "reason", REASON_LIMIT, errors);
    too_long(text(event, "message"), "message", NOTE_LIMIT, errors);
}

fn required_and_short(event: &Value, key: &str, limit: usize, errors: &mut Vec<FieldError>) {
    let value = text(event, key);
    if value.is_empty() {
        errors.push(FieldError::required(&FieldPath::new(key), ""));
    }
    too_long(value, key, limit, errors);
}

fn too_long(value: &str, key: &str, limit: usize, errors: &mut Vec<FieldError>) {
    if value.len() > limit {
        errors.push(FieldError::invalid(
            &FieldPath::new(key),
            "",
            format!("can have at most {limit} characters"),
        ));
    }
}

/// The checks of an event created through events.k8s.io/v1.
fn create(event: &Value, errors: &mut Vec<FieldError>) {
    series(event, errors);
    if !has_time(event, "eventTime") {
        errors.push(FieldError::required(&FieldPath::new("eventTime"), ""));
    }
    let kind = text(event, "type");
    if kind != "Normal" && kind != "Warning" {
        errors.push(FieldError::invalid(
            &FieldPath::new("type"),
            "",
            format!("has invalid value: {kind}"),
        ));
    }
    let unset = "needs to be unset";
    for key in ["firstTimestamp", "lastTimestamp"] {
        if has_time(event, key) {
            errors.push(FieldError::invalid(&FieldPath::new(key), "", unset));
        }
    }
    if int_of(event, "count").unwrap_or(0) != 0 {
        errors.push(FieldError::invalid(&FieldPath::new("count"), "", unset));
    }
    let source = event.get("source").unwrap_or(&Value::Null);
    if !text(source, "component").is_empty() || !text(source, "host").is_empty() {
        errors.push(FieldError::invalid(&FieldPath::new("source"), "", unset));
    }
}

/// A series repeats an event at least once and says when it last did.
fn series(event: &Value, errors: &mut Vec<FieldError>) {
    let Some(series) = event.get("series").filter(|s| !s.is_null()) else {
        return;
    };
    if int_of(series, "count").unwrap_or(0) < 2 {
        errors.push(FieldError::invalid(
            &FieldPath::new("series.count"),
            "",
            "should be at least 2",
        ));
    }
    if is_absent(series.get("lastObservedTime")) {
        errors.push(FieldError::required(
            &FieldPath::new("series.lastObservedTime"),
            "",
        ));
    }
}

/// What an update through events.k8s.io/v1 may not change.
fn update(event: &Value, old: &Value, errors: &mut Vec<FieldError>) {
    if !crate::json::semantically_equal(event.get("series"), old.get("series")) {
        series(event, errors);
    }
    for (key, path) in [
        ("involvedObject", "involvedObject"),
        ("reason", "reason"),
        ("message", "message"),
        ("source", "source"),
        ("firstTimestamp", "firstTimestamp"),
        ("lastTimestamp", "lastTimestamp"),
        ("count", "count"),
        ("type", "type"),
        ("eventTime", "eventTime"),
        ("action", "action"),
        ("related", "related"),
        ("reportingComponent", "reportingController"),
        ("reportingInstance", "reportingInstance"),
    ] {
        immutable(event.get(key), old.get(key), &FieldPath::new(path), errors);
    }
}
