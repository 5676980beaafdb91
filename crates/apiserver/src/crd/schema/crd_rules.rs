//! The schema rules of CRD validation, which every schema passes besides
//! being structural: keywords CRDs do not support, where defaults may not
//! be, `x-kubernetes-list-type`, `x-kubernetes-map-type` and the keys of
//! list maps, and the strings of `x-kubernetes-validations` (the rules
//! themselves are compiled by [`super::cel::Rules::compile`]).
//!
//! The errors come in the order of a walk of the schema, properties by
//! name.

use std::collections::BTreeSet;

use keelson_api::field_error::FieldError;
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::Value;

use super::Node;
use super::structural::{additional_schema, flag, items_schema, type_of};

/// The schema rules of `props`, the root schema at `path`.
pub(super) fn check(props: &JSONSchemaProps, path: &FieldPath, errors: &mut Vec<FieldError>) {
    schema_rules(props, path, &Walk::root(), errors);
}

/// What the walk knows of the place of a schema.
#[derive(Debug, Clone, Default)]
struct Walk {
    root: bool,
    inside_resource_meta: bool,
    /// Why defaults are forbidden here, if they are.
    no_defaults: Option<String>,
}

impl Walk {
    fn root() -> Self {
        Self {
            root: true,
            ..Default::default()
        }
    }

    fn child(&self) -> Self {
        Self {
            root: false,
            ..self.clone()
        }
    }
}

const OPENAPI_V3_TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];
const META_FIELDS: [&str; 3] = ["metadata", "kind", "apiVersion"];

fn schema_rules(
    props: &JSONSchemaProps,
    path: &FieldPath,
    walk: &Walk,
    errors: &mut Vec<FieldError>,
) {
    unsupported(props, path, walk, errors);
    if flag(props.unique_items) {
        errors.push(FieldError::forbidden(
            &path.child("uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    let has_properties = props.properties.as_ref().is_some_and(|p| !p.is_empty());
    if let Some(additional) = &props.additional_properties {
        let restricts = !matches!(additional, JSONSchemaPropsOrBool::Bool(true));
        if has_properties && restricts {
            errors.push(FieldError::forbidden(
                &path.child("additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        if let Some(schema) = additional_schema(props) {
            let mut sub = walk.child();
            if walk.inside_resource_meta {
                sub.no_defaults =
                    Some("inside additionalProperties applying to object metadata".into());
            }
            schema_rules(schema, &path.child("additionalProperties"), &sub, errors);
        }
    }
    let embedded = flag(props.x_kubernetes_embedded_resource);
    for (name, prop) in props.properties.iter().flatten() {
        let mut sub = walk.child();
        if (walk.root || embedded) && META_FIELDS.contains(&name.as_str()) {
            sub.inside_resource_meta = true;
            if walk.root {
                sub.no_defaults = Some(format!("in top-level {name}"));
            }
        }
        schema_rules(prop, &path.child("properties").key(name), &sub, errors);
    }
    if let Some(not) = &props.not {
        schema_rules(not, &path.child("not"), &walk.child(), errors);
    }
    for (name, list) in [
        ("allOf", &props.all_of),
        ("oneOf", &props.one_of),
        ("anyOf", &props.any_of),
    ] {
        for (i, nested) in list.iter().flatten().enumerate() {
            schema_rules(nested, &path.child(name).index(i), &walk.child(), errors);
        }
    }
    match &props.items {
        Some(JSONSchemaPropsOrArray::Schema(items)) => {
            schema_rules(items, &path.child("items"), &walk.child(), errors)
        }
        Some(JSONSchemaPropsOrArray::Schemas(items)) => {
            for (i, item) in items.iter().enumerate() {
                schema_rules(item, &path.child("items").index(i), &walk.child(), errors);
            }
        }
        None => {}
    }
    extension_rules(props, path, errors);
    list_type_rules(props, path, errors);
    validation_rule_strings(props, path, errors);
}

/// What CRD schemas may not use at all, and defaults where they are
/// forbidden.
fn unsupported(
    props: &JSONSchemaProps,
    path: &FieldPath,
    walk: &Walk,
    errors: &mut Vec<FieldError>,
) {
    let type_ = type_of(props);
    if !type_.is_empty() && !OPENAPI_V3_TYPES.contains(&type_) {
        errors.push(FieldError::not_supported(
            &path.child("type"),
            type_,
            &OPENAPI_V3_TYPES,
        ));
    }
    if props.default.is_some()
        && let Some(reason) = &walk.no_defaults
    {
        errors.push(FieldError::forbidden(
            &path.child("default"),
            format!("must not be set {reason}"),
        ));
    }
    let forbidden = [
        (
            props.id.as_ref().is_some_and(|id| !id.is_empty()),
            "id",
            "id is not supported",
        ),
        (
            props.additional_items.is_some(),
            "additionalItems",
            "additionalItems is not supported",
        ),
        (
            props
                .pattern_properties
                .as_ref()
                .is_some_and(|p| !p.is_empty()),
            "patternProperties",
            "patternProperties is not supported",
        ),
        (
            props.definitions.as_ref().is_some_and(|d| !d.is_empty()),
            "definitions",
            "definitions is not supported",
        ),
        (
            props.dependencies.is_some(),
            "dependencies",
            "dependencies is not supported",
        ),
        (props.ref_path.is_some(), "$ref", "$ref is not supported"),
        (
            type_ == "null",
            "type",
            "type cannot be set to null, use nullable as an alternative",
        ),
        (
            matches!(props.items, Some(JSONSchemaPropsOrArray::Schemas(_))),
            "items",
            "items must be a schema object and not an array",
        ),
        (
            walk.inside_resource_meta && flag(props.x_kubernetes_embedded_resource),
            "x-kubernetes-embedded-resource",
            "must not be used inside of resource meta",
        ),
    ];
    for (set, field, detail) in forbidden {
        if set {
            errors.push(FieldError::forbidden(&path.child(field), detail));
        }
    }
}

fn extension_rules(props: &JSONSchemaProps, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let type_ = type_of(props);
    if props.x_kubernetes_preserve_unknown_fields == Some(false) {
        errors.push(FieldError::invalid(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            false,
            "must be true or undefined",
        ));
    }
    if let Some(map_type) = &props.x_kubernetes_map_type {
        if type_ != "object" {
            type_needed(
                type_,
                "must be object if x-kubernetes-map-type is specified",
                path,
                errors,
            );
        }
        if map_type != "atomic" && map_type != "granular" {
            errors.push(FieldError::not_supported(
                &path.child("x-kubernetes-map-type"),
                map_type.as_str(),
                &["atomic", "granular"],
            ));
        }
    }
}

fn type_needed(type_: &str, detail: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    errors.push(if type_.is_empty() {
        FieldError::required(&path.child("type"), detail)
    } else {
        FieldError::invalid(&path.child("type"), type_, detail)
    });
}

fn list_type_rules(props: &JSONSchemaProps, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let type_ = type_of(props);
    let list_type = props.x_kubernetes_list_type.as_deref();
    let keys = props.x_kubernetes_list_map_keys.clone().unwrap_or_default();
    let items = items_schema(props);
    if list_type.is_some() && type_ != "array" {
        type_needed(
            type_,
            "must be array if x-kubernetes-list-type is specified",
            path,
            errors,
        );
    } else if list_type == Some("set")
        && let Some(items) = items
    {
        set_items_atomic(items, path, errors);
    }
    if let Some(list_type) = list_type
        && !["atomic", "set", "map"].contains(&list_type)
    {
        errors.push(FieldError::not_supported(
            &path.child("x-kubernetes-list-type"),
            list_type,
            &["atomic", "set", "map"],
        ));
    }
    if !keys.is_empty() {
        let detail = "must be map if x-kubernetes-list-map-keys is non-empty";
        match list_type {
            None => errors.push(FieldError::required(
                &path.child("x-kubernetes-list-type"),
                detail,
            )),
            Some("map") => {}
            Some(other) => errors.push(FieldError::invalid(
                &path.child("x-kubernetes-list-type"),
                other,
                detail,
            )),
        }
    }
    if list_type == Some("map") {
        list_map_rules(props, &keys, path, errors);
    }
    if matches!(list_type, Some("map" | "set"))
        && let Some(items) = items
    {
        map_set_keys(items, list_type.unwrap_or_default(), &keys, path, errors);
    }
}

fn set_items_atomic(items: &JSONSchemaProps, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let detail = "must be atomic as item of a list with x-kubernetes-list-type=set";
    match type_of(items) {
        "array" => {
            if let Some(list_type) = items.x_kubernetes_list_type.as_deref()
                && list_type != "atomic"
            {
                let field = path.child("items").child("x-kubernetes-list-type");
                errors.push(FieldError::invalid(&field, list_type, detail));
            }
        }
        "object" if items.x_kubernetes_map_type.as_deref() != Some("atomic") => {
            let field = path.child("items").child("x-kubernetes-map-type");
            let value = items
                .x_kubernetes_list_type
                .clone()
                .map_or(Value::Null, Value::String);
            errors.push(FieldError::invalid(&field, value, detail));
        }
        _ => {}
    }
}

fn list_map_rules(
    props: &JSONSchemaProps,
    keys: &[String],
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if keys.is_empty() {
        errors.push(FieldError::required(
            &path.child("x-kubernetes-list-map-keys"),
            "must not be empty if x-kubernetes-list-type is map",
        ));
    }
    let items = match &props.items {
        None => {
            errors.push(FieldError::required(
                &path.child("items"),
                "must have a schema if x-kubernetes-list-type is map",
            ));
            return;
        }
        Some(JSONSchemaPropsOrArray::Schemas(items)) => {
            let value = serde_json::to_value(items).unwrap_or_default();
            errors.push(FieldError::invalid(
                &path.child("items"),
                value,
                "must only have a single schema if x-kubernetes-list-type is map",
            ));
            return;
        }
        Some(JSONSchemaPropsOrArray::Schema(items)) => items,
    };
    if type_of(items) != "object" {
        errors.push(FieldError::invalid(
            &path.child("items").child("type"),
            type_of(items),
            "must be object if parent array's x-kubernetes-list-type is map",
        ));
        return;
    }
    let keys_path = path.child("x-kubernetes-list-map-keys");
    let mut seen = BTreeSet::new();
    for key in keys {
        match items.properties.as_ref().and_then(|p| p.get(key)) {
            Some(prop) if matches!(type_of(prop), "array" | "object") => {
                errors.push(FieldError::invalid(
                    &path
                        .child("items")
                        .child("properties")
                        .key(key)
                        .child("type"),
                    type_of(items),
                    "must be a scalar type if parent array's x-kubernetes-list-type is map",
                ));
            }
            Some(_) => {}
            None => errors.push(FieldError::invalid(
                &keys_path,
                keys.to_vec(),
                "entries must all be names of item properties",
            )),
        }
        if !seen.insert(key) {
            errors.push(FieldError::invalid(
                &keys_path,
                keys.to_vec(),
                "must not contain duplicate entries",
            ));
        }
    }
}

/// Items of sets and maps may not be null, and the keys of a map must
/// always be there.
fn map_set_keys(
    items: &JSONSchemaProps,
    list_type: &str,
    keys: &[String],
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if flag(items.nullable) {
        errors.push(FieldError::forbidden(
            &path.child("items").child("nullable"),
            format!("cannot be nullable when x-kubernetes-list-type is {list_type}"),
        ));
    }
    if list_type != "map" {
        return;
    }
    let required = items.required.clone().unwrap_or_default();
    for key in keys {
        let Some(prop) = items.properties.as_ref().and_then(|p| p.get(key)) else {
            continue;
        };
        let key_path = path.child("items").child("properties").key(key);
        if !required.contains(key) && prop.default.is_none() {
            errors.push(FieldError::required(
                &key_path.child("default"),
                "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
            ));
        }
        if flag(prop.nullable) {
            errors.push(FieldError::forbidden(
                &key_path.child("nullable"),
                "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
            ));
        }
    }
}

const VALIDATION_REASONS: [&str; 4] = [
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
];

fn has_newlines(s: &str) -> bool {
    s.contains(['\n', '\r'])
}

/// The strings of `x-kubernetes-validations` (the rules themselves are
/// compiled by [`super::cel::Rules::compile`]).
fn validation_rule_strings(
    props: &JSONSchemaProps,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    for (i, rule) in props.x_kubernetes_validations.iter().flatten().enumerate() {
        let at = path.child("x-kubernetes-validations").index(i);
        let text = rule.rule.trim();
        let message = rule.message.as_deref().unwrap_or_default();
        if text.is_empty() {
            errors.push(FieldError::required(
                &at.child("rule"),
                "rule is not specified",
            ));
        } else if !message.is_empty() && message.trim().is_empty() {
            errors.push(FieldError::invalid(
                &at.child("message"),
                message,
                "message must be non-empty if specified",
            ));
        } else if has_newlines(message.trim()) {
            errors.push(FieldError::invalid(
                &at.child("message"),
                message,
                "message must not contain line breaks",
            ));
        } else if has_newlines(text) && message.trim().is_empty() {
            errors.push(FieldError::required(
                &at.child("message"),
                "message must be specified if rule contains line breaks",
            ));
        }
        if let Some(expression) = &rule.message_expression
            && !expression.is_empty()
            && expression.trim().is_empty()
        {
            errors.push(FieldError::required(
                &at.child("messageExpression"),
                "messageExpression must be non-empty if specified",
            ));
        }
        if let Some(reason) = &rule.reason
            && !VALIDATION_REASONS.contains(&reason.as_str())
        {
            errors.push(FieldError::not_supported(
                &at.child("reason"),
                reason.as_str(),
                &VALIDATION_REASONS,
            ));
        }
        if let Some(field_path) = &rule.field_path {
            let field = at.child("fieldPath");
            if !field_path.is_empty() && field_path.trim().is_empty() {
                errors.push(FieldError::invalid(
                    &field,
                    field_path.as_str(),
                    "fieldPath must be non-empty if specified",
                ));
            }
            if has_newlines(field_path) {
                errors.push(FieldError::invalid(
                    &field,
                    field_path.as_str(),
                    "fieldPath must not contain line breaks",
                ));
            }
            if !field_path.is_empty()
                && super::cel::field_path(field_path, &Node::of(props)).is_err()
            {
                errors.push(FieldError::invalid(
                    &field,
                    field_path.as_str(),
                    "fieldPath must be a valid path",
                ));
            }
        }
    }
}
