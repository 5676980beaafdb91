//! Value validation of custom resources, reported as upstream reports
//! kube-openapi's results: the kube-openapi message (`spec.replicas in
//! body should be greater than or equal to 1`) inside the field error
//! apiextensions-apiserver makes of it (`Invalid`, `TypeInvalid`,
//! `Required`, `NotSupported`, `TooLong`, `TooMany`), and the uniqueness
//! of `x-kubernetes-list-type` sets and maps.
//!
//! The junctors' own messages (`"spec" must validate at least one schema
//! (anyOf)`) carry no field upstream, so they sit at the path given for
//! the whole value, as upstream puts them at the root.

use std::collections::HashMap;

use keelson_api::field_error::FieldError;
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::{Map, Value};

use super::Node;
use super::format::{self, go_float};

/// Checks values against a schema as written.
pub(super) struct Validator<'a> {
    patterns: &'a HashMap<String, regex::Regex>,
}

/// The JSON type of a value, as kube-openapi names it.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether two JSON values are equal, numbers by value (`1 == 1.0`).
pub(super) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

impl<'a> Validator<'a> {
    pub(super) fn new(patterns: &'a HashMap<String, regex::Regex>) -> Self {
        Self { patterns }
    }

    /// The errors of `value` against `props`, at `path`.
    pub(super) fn validate(
        &self,
        props: &JSONSchemaProps,
        value: &Value,
        path: &FieldPath,
    ) -> Vec<FieldError> {
        let mut errors = Vec::new();
        self.check(props, value, path, &path.clone(), &mut errors);
        errors
    }

    /// `root` is where the messages without a field of their own go.
    fn check(
        &self,
        props: &JSONSchemaProps,
        value: &Value,
        path: &FieldPath,
        root: &FieldPath,
        errors: &mut Vec<FieldError>,
    ) {
        let name = path.to_string();
        if !self.type_matches(props, value, path, &name, errors) {
            return;
        }
        if value.is_null() {
            enumeration(props, value, path, errors);
            return;
        }
        self.junctors(props, value, path, root, &name, errors);
        match value {
            Value::String(s) => self.string(props, s, path, &name, errors),
            Value::Number(_) => number(props, value, path, &name, errors),
            Value::Array(items) => self.array(props, items, path, root, &name, errors),
            Value::Object(map) => self.object(props, map, path, root, &name, errors),
            _ => {}
        }
        enumeration(props, value, path, errors);
    }

    /// The type check, which every other check depends on: false when the
    /// value is not of the schema's type (and the error is recorded).
    fn type_matches(
        &self,
        props: &JSONSchemaProps,
        value: &Value,
        path: &FieldPath,
        name: &str,
        errors: &mut Vec<FieldError>,
    ) -> bool {
        let types: Vec<&str> = if props.x_kubernetes_int_or_string == Some(true) {
            vec!["integer", "string"]
        } else {
            props
                .type_
                .as_deref()
                .filter(|t| !t.is_empty())
                .into_iter()
                .collect()
        };
        if types.is_empty() {
            return true;
        }
        let actual = type_name(value);
        let matches = match value {
            Value::Null => props.nullable == Some(true),
            Value::Number(n) if n.is_f64() => {
                types.contains(&"number")
                    || (types.contains(&"integer") && n.as_f64().is_some_and(|f| f.fract() == 0.0))
            }
            Value::Number(_) => types.contains(&"integer") || types.contains(&"number"),
            _ => types.contains(&actual),
        };
        if !matches {
            let joined = types.join(",");
            let detail = format!("{name} in body must be of type {joined}: {actual:?}");
            errors.push(FieldError::type_invalid(path, actual, detail));
        }
        matches
    }

    fn junctors(
        &self,
        props: &JSONSchemaProps,
        value: &Value,
        path: &FieldPath,
        root: &FieldPath,
        name: &str,
        errors: &mut Vec<FieldError>,
    ) {
        let run = |schema: &JSONSchemaProps| {
            let mut found = Vec::new();
            self.check(schema, value, path, root, &mut found);
            found
        };
        if let Some(any_of) = props.any_of.as_ref().filter(|a| !a.is_empty()) {
            let results: Vec<Vec<FieldError>> = any_of.iter().map(run).collect();
            if results.iter().all(|r| !r.is_empty()) {
                let detail = format!("{name:?} must validate at least one schema (anyOf)");
                errors.push(FieldError::invalid(root, "", detail));
                errors.extend(fewest(results));
            }
        }
        if let Some(one_of) = props.one_of.as_ref().filter(|o| !o.is_empty()) {
            let results: Vec<Vec<FieldError>> = one_of.iter().map(run).collect();
            let valid = results.iter().filter(|r| r.is_empty()).count();
            if valid != 1 {
                let found = match valid {
                    0 => "Found none valid".to_string(),
                    n => format!("Found {n} valid alternatives"),
                };
                let detail =
                    format!("{name:?} must validate one and only one schema (oneOf). {found}");
                errors.push(FieldError::invalid(root, "", detail));
                if valid == 0 {
                    errors.extend(fewest(results));
                }
            }
        }
        if let Some(all_of) = props.all_of.as_ref().filter(|a| !a.is_empty()) {
            let results: Vec<Vec<FieldError>> = all_of.iter().map(run).collect();
            let valid = results.iter().filter(|r| r.is_empty()).count();
            errors.extend(results.into_iter().flatten());
            if valid != all_of.len() {
                let none = if valid == 0 { ". None validated" } else { "" };
                let detail = format!("{name:?} must validate all the schemas (allOf){none}");
                errors.push(FieldError::invalid(root, "", detail));
            }
        }
        if let Some(not) = &props.not
            && run(not).is_empty()
        {
            let detail = format!("{name:?} must not validate the schema (not)");
            errors.push(FieldError::invalid(root, "", detail));
        }
    }

    fn string(
        &self,
        props: &JSONSchemaProps,
        s: &str,
        path: &FieldPath,
        name: &str,
        errors: &mut Vec<FieldError>,
    ) {
        let length = s.chars().count() as i64;
        if let Some(max) = props.max_length
            && length > max
        {
            errors.push(FieldError::too_long(path, usize::try_from(max).ok()));
        }
        if let Some(min) = props.min_length
            && length < min
        {
            let detail = format!("{name} in body should be at least {min} chars long");
            errors.push(FieldError::invalid(path, s, detail));
        }
        if let Some(pattern) = &props.pattern
            && let Some(regex) = self.patterns.get(pattern)
            && !regex.is_match(s)
        {
            let detail = format!("{name} in body should match '{pattern}'");
            errors.push(FieldError::invalid(path, s, detail));
        }
        if let Some(format) = props.format.as_deref()
            && format::check(format, s) == Some(false)
        {
            let detail = format!("{name} in body must be of type {format}: {s:?}");
            errors.push(FieldError::type_invalid(path, s, detail));
        }
    }

    fn array(
        &self,
        props: &JSONSchemaProps,
        items: &[Value],
        path: &FieldPath,
        root: &FieldPath,
        name: &str,
        errors: &mut Vec<FieldError>,
    ) {
        if let Some(JSONSchemaPropsOrArray::Schema(item_schema)) = &props.items {
            for (i, item) in items.iter().enumerate() {
                self.check(item_schema, item, &path.index(i), root, errors);
            }
        }
        let size = items.len() as i64;
        if let Some(min) = props.min_items
            && size < min
        {
            let detail = format!("{name} in body should have at least {min} items");
            errors.push(FieldError::invalid(path, size, detail));
        }
        if let Some(max) = props.max_items
            && size > max
        {
            errors.push(FieldError::too_many(
                path,
                Some(items.len()),
                usize::try_from(max).ok(),
            ));
        }
        if props.unique_items == Some(true)
            && items
                .iter()
                .enumerate()
                .any(|(i, a)| items[..i].iter().any(|b| json_equal(a, b)))
        {
            let detail = format!("{name} in body shouldn't contain duplicates");
            errors.push(FieldError::invalid(path, "", detail));
        }
    }

    fn object(
        &self,
        props: &JSONSchemaProps,
        map: &Map<String, Value>,
        path: &FieldPath,
        root: &FieldPath,
        name: &str,
        errors: &mut Vec<FieldError>,
    ) {
        let count = map.len() as i64;
        if let Some(max) = props.max_properties
            && count > max
        {
            errors.push(FieldError::too_many(
                path,
                Some(map.len()),
                usize::try_from(max).ok(),
            ));
        }
        if let Some(min) = props.min_properties
            && count < min
        {
            let detail = format!("{name} in body should have at least {min} properties");
            errors.push(FieldError::invalid(path, min, detail));
        }
        let properties = props.properties.as_ref();
        if let Some(JSONSchemaPropsOrBool::Bool(false)) = &props.additional_properties {
            for key in map
                .keys()
                .filter(|k| properties.is_none_or(|p| !p.contains_key(*k)))
            {
                let detail = format!("{name}.{key} in body is a forbidden property");
                errors.push(FieldError::invalid(path, key.as_str(), detail));
            }
        }
        for required in props.required.iter().flatten() {
            if !map.contains_key(required) {
                errors.push(FieldError::required(&path.child(required), ""));
            }
        }
        for (key, value) in map {
            let schema = match (
                properties.and_then(|p| p.get(key)),
                &props.additional_properties,
            ) {
                (Some(schema), _) => schema,
                (None, Some(JSONSchemaPropsOrBool::Schema(schema))) => schema,
                _ => continue,
            };
            self.check(schema, value, &path.child(key), root, errors);
        }
    }
}

/// The errors of the alternative that failed least, as kube-openapi keeps
/// the best failure of a junctor.
fn fewest(results: Vec<Vec<FieldError>>) -> Vec<FieldError> {
    results.into_iter().min_by_key(Vec::len).unwrap_or_default()
}

fn enumeration(
    props: &JSONSchemaProps,
    value: &Value,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let Some(allowed) = props.enum_.as_ref().filter(|e| !e.is_empty()) else {
        return;
    };
    if allowed.iter().any(|a| json_equal(&a.0, value)) {
        return;
    }
    let listed: Vec<String> = allowed
        .iter()
        .map(|a| match &a.0 {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    errors.push(FieldError::not_supported(path, value.clone(), &listed));
}

fn number(
    props: &JSONSchemaProps,
    value: &Value,
    path: &FieldPath,
    name: &str,
    errors: &mut Vec<FieldError>,
) {
    let Some(data) = value.as_f64() else { return };
    let integer = !value.as_number().is_some_and(serde_json::Number::is_f64);
    // kube-openapi prints the limits in the value's own type.
    let show = |limit: f64| {
        if integer {
            (limit as i64).to_string()
        } else {
            go_float(limit)
        }
    };
    if let Some(max) = props.maximum {
        let exclusive = props.exclusive_maximum == Some(true);
        if data > max || (exclusive && data == max) {
            let relation = if exclusive {
                "less than"
            } else {
                "less than or equal to"
            };
            let detail = format!("{name} in body should be {relation} {}", show(max));
            errors.push(FieldError::invalid(path, value.clone(), detail));
        }
    }
    if let Some(min) = props.minimum {
        let exclusive = props.exclusive_minimum == Some(true);
        if data < min || (exclusive && data == min) {
            let relation = if exclusive {
                "greater than"
            } else {
                "greater than or equal to"
            };
            let detail = format!("{name} in body should be {relation} {}", show(min));
            errors.push(FieldError::invalid(path, value.clone(), detail));
        }
    }
    if let Some(factor) = props.multiple_of
        && factor > 0.0
        && (data / factor).fract() != 0.0
    {
        let detail = format!("{name} in body should be a multiple of {}", show(factor));
        errors.push(FieldError::invalid(path, value.clone(), detail));
    }
}

// ---------------------------------------------------------------------------
// x-kubernetes-list-type: set and map items must be unique.

/// The duplicates of every set and map list in `value`, level by level.
pub(super) fn list_types(node: &Node, value: &Value, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    list_walk(node, value, path, &mut errors);
    errors
}

fn list_walk(node: &Node, value: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    match value {
        Value::Array(items) => {
            match node.list_type.as_deref() {
                Some("set") => duplicates(items, path, errors, |item| Some(item.clone())),
                Some("map") => duplicates(items, path, errors, |item| {
                    map_key(item, &node.list_map_keys)
                }),
                _ => {}
            }
            if let Some(item_schema) = node.items.as_deref() {
                for (i, item) in items.iter().enumerate() {
                    list_walk(item_schema, item, &path.index(i), errors);
                }
            }
        }
        Value::Object(map) => {
            for (key, value) in map {
                if let Some(schema) = node.field(key) {
                    list_walk(schema, value, &path.child(key), errors);
                }
            }
        }
        _ => {}
    }
}

/// The key fields of a list-map item, as the map upstream reports.
fn map_key(item: &Value, keys: &[String]) -> Option<Value> {
    let fields = item.as_object()?;
    let key: Map<String, Value> = keys
        .iter()
        .filter_map(|k| fields.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    Some(Value::Object(key))
}

fn duplicates(
    items: &[Value],
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
    key: impl Fn(&Value) -> Option<Value>,
) {
    let keys: Vec<Option<Value>> = items.iter().map(key).collect();
    for (i, this) in keys.iter().enumerate() {
        let Some(this) = this else { continue };
        if keys[..i]
            .iter()
            .flatten()
            .any(|earlier| json_equal(earlier, this))
        {
            errors.push(FieldError::duplicate(&path.index(i), this.clone()));
        }
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
