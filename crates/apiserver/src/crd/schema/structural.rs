//! The checks a CRD's schema passes before it is stored: upstream's
//! structural schema invariants and completeness and its checks of
//! defaults, here; the schema rules of CRD validation in [`crd_rules`].
//!
//! Upstream reports them in this order: the structural errors (sorted by
//! message), then, only when there are none, the errors of the defaults,
//! then the schema rules of CRD validation.

use std::collections::HashMap;

use keelson_api::field_error::FieldError;
use keelson_api::field_path::FieldPath;
use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::Value;

use super::{Node, crd_rules, prune, validate};

/// Where a schema sits, for the messages that differ by place.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Level {
    Root,
    Item,
    Field,
}

/// All the checks of the schema `props` found at `path`.
pub(super) fn check(props: &JSONSchemaProps, path: &FieldPath) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    invariants(props, Level::Root, path, &mut errors);
    completeness(props, &Node::of(props), path, path, &mut errors);
    errors.sort_by_key(ToString::to_string);
    if errors.is_empty() {
        defaults(props, path, true, false, &mut errors);
    }
    if props.nullable == Some(true) {
        errors.push(FieldError::forbidden(
            &path.child("nullable"),
            "nullable cannot be true at the root",
        ));
    }
    crd_rules::check(props, path, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Every `pattern` in `props` that compiles, keyed by its source.
pub(super) fn collect_patterns(props: &JSONSchemaProps, out: &mut HashMap<String, regex::Regex>) {
    if let Some(pattern) = &props.pattern
        && let Ok(compiled) = regex::Regex::new(pattern)
    {
        out.insert(pattern.clone(), compiled);
    }
    for child in children(props) {
        collect_patterns(child, out);
    }
}

/// The schemas directly inside `props`: properties, items, additional
/// properties and the junctors.
fn children(props: &JSONSchemaProps) -> impl Iterator<Item = &JSONSchemaProps> {
    let items: Vec<&JSONSchemaProps> = match &props.items {
        Some(JSONSchemaPropsOrArray::Schema(items)) => vec![items],
        Some(JSONSchemaPropsOrArray::Schemas(items)) => items.iter().collect(),
        None => Vec::new(),
    };
    props
        .properties
        .iter()
        .flat_map(|properties| properties.values())
        .chain(items)
        .chain(additional_schema(props))
        .chain(props.all_of.iter().flatten())
        .chain(props.any_of.iter().flatten())
        .chain(props.one_of.iter().flatten())
        .chain(props.not.as_deref())
}

pub(super) fn additional_schema(props: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match &props.additional_properties {
        Some(JSONSchemaPropsOrBool::Schema(schema)) => Some(schema),
        _ => None,
    }
}

pub(super) fn items_schema(props: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match &props.items {
        Some(JSONSchemaPropsOrArray::Schema(items)) => Some(items),
        _ => None,
    }
}

pub(super) fn type_of(props: &JSONSchemaProps) -> &str {
    props.type_.as_deref().unwrap_or_default()
}

pub(super) fn flag(value: Option<bool>) -> bool {
    value.unwrap_or(false)
}

// ---------------------------------------------------------------------------
// Structural invariants.

fn invariants(
    props: &JSONSchemaProps,
    level: Level,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let type_ = type_of(props);
    let items = items_schema(props);
    // A list of item schemas is refused by the CRD rules instead.
    if type_ == "array" && props.items.is_none() {
        errors.push(FieldError::required(
            &path.child("items"),
            "must be specified",
        ));
    }
    if let Some(items) = items {
        invariants(items, Level::Item, &path.child("items"), errors);
    }
    for (name, prop) in props.properties.iter().flatten() {
        invariants(
            prop,
            Level::Field,
            &path.child("properties").key(name),
            errors,
        );
    }
    if props.additional_properties.is_some() {
        if level == Level::Root {
            errors.push(FieldError::forbidden(
                &path.child("additionalProperties"),
                "must not be used at the root",
            ));
        }
        if let Some(schema) = additional_schema(props) {
            invariants(
                schema,
                Level::Field,
                &path.child("additionalProperties"),
                errors,
            );
        }
    }
    extensions(props, path, errors);
    junctors(
        props,
        int_or_string_any_of(props),
        int_or_string_all_of(props),
        path,
        errors,
    );
    type_invariants(props, level, path, errors);
}

fn extensions(props: &JSONSchemaProps, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let int_or_string = flag(props.x_kubernetes_int_or_string);
    if int_or_string && flag(props.x_kubernetes_preserve_unknown_fields) {
        errors.push(FieldError::invalid(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if int_or_string && flag(props.x_kubernetes_embedded_resource) {
        errors.push(FieldError::invalid(
            &path.child("x-kubernetes-embedded-resource"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
}

/// The type rules of one level: a type everywhere it is needed, objects
/// for embedded resources and at the root, and the metadata rules.
fn type_invariants(
    props: &JSONSchemaProps,
    level: Level,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let type_ = type_of(props);
    let embedded = flag(props.x_kubernetes_embedded_resource);
    let type_path = path.child("type");
    if embedded && type_ != "object" {
        let detail = "must be object if x-kubernetes-embedded-resource is true";
        errors.push(if type_.is_empty() {
            FieldError::required(&type_path, detail)
        } else {
            FieldError::invalid(&type_path, type_, detail)
        });
    } else if type_.is_empty()
        && !flag(props.x_kubernetes_int_or_string)
        && !flag(props.x_kubernetes_preserve_unknown_fields)
    {
        let detail = match level {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errors.push(FieldError::required(&type_path, detail));
    }
    if embedded && props.additional_properties.is_some() {
        errors.push(FieldError::forbidden(
            &path.child("additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if level == Level::Root && !type_.is_empty() && type_ != "object" {
        errors.push(FieldError::invalid(
            &type_path,
            type_,
            "must be object at the root",
        ));
    }
    let resource = level == Level::Root || embedded;
    let properties = props.properties.as_ref();
    for name in ["kind", "apiVersion"] {
        if let Some(prop) = properties.and_then(|p| p.get(name))
            && resource
            && type_of(prop) != "string"
        {
            let field = path.child("properties").key(name).child("type");
            errors.push(FieldError::invalid(&field, type_of(prop), "must be string"));
        }
    }
    if let Some(metadata) = properties.and_then(|p| p.get("metadata")) {
        let metadata_path = path.child("properties").key("metadata");
        metadata_invariants(metadata, resource, level, &metadata_path, errors);
    }
    let no_properties = properties.is_none_or(|p| p.is_empty());
    if embedded && !flag(props.x_kubernetes_preserve_unknown_fields) && no_properties {
        errors.push(FieldError::required(
            &path.child("properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

/// `metadata` of a resource must be an object, and at the root it may say
/// no more than that (and restrict `name` and `generateName`).
fn metadata_invariants(
    metadata: &JSONSchemaProps,
    resource: bool,
    level: Level,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if resource && type_of(metadata) != "object" {
        errors.push(FieldError::invalid(
            &path.child("type"),
            type_of(metadata),
            "must be object",
        ));
    }
    if level != Level::Root {
        return;
    }
    let mut rest = metadata.clone();
    let only_names = rest.properties.as_ref().is_some_and(|properties| {
        properties
            .keys()
            .all(|k| k == "name" || k == "generateName")
    });
    if only_names {
        rest.properties = None;
    }
    rest.type_ = None;
    rest.default = None;
    // What upstream's structural metadata keeps besides these is value
    // validation, extensions and the generic fields: none may be set.
    if rest != JSONSchemaProps::default() {
        errors.push(FieldError::forbidden(
            path,
            "must not specify anything other than name and generateName, but metadata is implicitly specified",
        ));
    }
}

fn is_type_only(props: &JSONSchemaProps, type_: &str) -> bool {
    *props
        == JSONSchemaProps {
            type_: Some(type_.to_string()),
            ..Default::default()
        }
}

/// `anyOf: [{type: integer}, {type: string}]`, which int-or-string allows.
fn int_or_string_any_of(props: &JSONSchemaProps) -> bool {
    matches!(props.any_of.as_deref(), Some([a, b]) if is_type_only(a, "integer") && is_type_only(b, "string"))
}

/// `allOf: [{anyOf: [{type: integer}, {type: string}]}, ...]`.
fn int_or_string_all_of(props: &JSONSchemaProps) -> bool {
    props
        .all_of
        .as_deref()
        .and_then(|all| all.first())
        .is_some_and(int_or_string_any_of)
}

/// The junctors of a level (`allOf`, `anyOf`, `oneOf`, `not`) and the
/// pattern of the level.
fn junctors(
    props: &JSONSchemaProps,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if !skip_any_of {
        for (i, nested) in props.any_of.iter().flatten().enumerate() {
            nested_invariants(nested, false, &path.child("anyOf").index(i), errors);
        }
    }
    for (i, nested) in props.all_of.iter().flatten().enumerate() {
        let skip = skip_first_all_of_any_of && i == 0;
        nested_invariants(nested, skip, &path.child("allOf").index(i), errors);
    }
    for (i, nested) in props.one_of.iter().flatten().enumerate() {
        nested_invariants(nested, false, &path.child("oneOf").index(i), errors);
    }
    if let Some(not) = &props.not {
        nested_invariants(not, false, &path.child("not"), errors);
    }
    if let Some(pattern) = &props.pattern
        && let Err(err) = regex::Regex::new(pattern)
    {
        errors.push(FieldError::invalid(
            &path.child("pattern"),
            pattern.as_str(),
            format!("must be a valid regular expression, but isn't: {err}"),
        ));
    }
}

/// A schema under a junctor may only validate values: what it would say
/// about their structure must be said outside.
fn nested_invariants(
    props: &JSONSchemaProps,
    skip_any_of: bool,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    junctors(props, skip_any_of, false, path, errors);
    if let Some(items) = items_schema(props) {
        nested_invariants(items, false, &path.child("items"), errors);
    }
    for (name, prop) in props.properties.iter().flatten() {
        nested_invariants(prop, false, &path.child("properties").key(name), errors);
    }
    let forbid = |errors: &mut Vec<FieldError>, set: bool, field: &str, detail: &str| {
        if set {
            errors.push(FieldError::forbidden(&path.child(field), detail));
        }
    };
    let undefined = "must be undefined to be structural";
    let empty = "must be empty to be structural";
    let not_true = "must be false to be structural";
    forbid(
        errors,
        props.type_.as_ref().is_some_and(|t| !t.is_empty()),
        "type",
        empty,
    );
    forbid(
        errors,
        props.additional_properties.is_some(),
        "additionalProperties",
        undefined,
    );
    forbid(errors, props.default.is_some(), "default", undefined);
    forbid(
        errors,
        props.title.as_ref().is_some_and(|t| !t.is_empty()),
        "title",
        empty,
    );
    forbid(
        errors,
        props.description.as_ref().is_some_and(|d| !d.is_empty()),
        "description",
        empty,
    );
    forbid(errors, flag(props.nullable), "nullable", not_true);
    forbid(
        errors,
        props.external_docs.is_some(),
        "externalDocs",
        undefined,
    );
    forbid(
        errors,
        flag(props.x_kubernetes_preserve_unknown_fields),
        "x-kubernetes-preserve-unknown-fields",
        not_true,
    );
    forbid(
        errors,
        flag(props.x_kubernetes_embedded_resource),
        "x-kubernetes-embedded-resource",
        not_true,
    );
    forbid(
        errors,
        flag(props.x_kubernetes_int_or_string),
        "x-kubernetes-int-or-string",
        not_true,
    );
    forbid(
        errors,
        props
            .x_kubernetes_list_map_keys
            .as_ref()
            .is_some_and(|k| !k.is_empty()),
        "x-kubernetes-list-map-keys",
        empty,
    );
    forbid(
        errors,
        props.x_kubernetes_list_type.is_some(),
        "x-kubernetes-list-type",
        undefined,
    );
    forbid(
        errors,
        props.x_kubernetes_map_type.is_some(),
        "x-kubernetes-map-type",
        undefined,
    );
    forbid(
        errors,
        props
            .x_kubernetes_validations
            .as_ref()
            .is_some_and(|v| !v.is_empty()),
        "x-kubernetes-validations",
        empty,
    );
    if props
        .properties
        .as_ref()
        .is_some_and(|p| p.contains_key("metadata"))
    {
        errors.push(FieldError::forbidden(
            &path.child("properties").key("metadata"),
            "must not be specified in a nested context",
        ));
    }
}

// ---------------------------------------------------------------------------
// Completeness: what the junctors of the root name must exist outside them.

fn completeness(
    props: &JSONSchemaProps,
    structural: &Node,
    s_path: &FieldPath,
    v_path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if let Some(not) = &props.not {
        nested_completeness(not, Some(structural), s_path, &v_path.child("not"), errors);
    }
    for (name, list) in [
        ("allOf", &props.all_of),
        ("anyOf", &props.any_of),
        ("oneOf", &props.one_of),
    ] {
        for (i, nested) in list.iter().flatten().enumerate() {
            nested_completeness(
                nested,
                Some(structural),
                s_path,
                &v_path.child(name).index(i),
                errors,
            );
        }
    }
}

fn nested_completeness(
    props: &JSONSchemaProps,
    structural: Option<&Node>,
    s_path: &FieldPath,
    v_path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let Some(structural) = structural else {
        errors.push(FieldError::required(
            s_path,
            format!("because it is defined in {v_path}"),
        ));
        return;
    };
    completeness(props, structural, s_path, v_path, errors);
    if let Some(items) = items_schema(props) {
        let s_items = structural.items.as_deref();
        nested_completeness(
            items,
            s_items,
            &s_path.child("items"),
            &v_path.child("items"),
            errors,
        );
    }
    for (name, prop) in props.properties.iter().flatten() {
        let s_prop = structural.properties.get(name);
        let s_prop_path = s_path.child("properties").key(name);
        let v_prop_path = v_path.child("properties").key(name);
        nested_completeness(prop, s_prop, &s_prop_path, &v_prop_path, errors);
    }
}

// ---------------------------------------------------------------------------
// Defaults: pruned, and valid against the schema they sit in.

fn defaults(
    props: &JSONSchemaProps,
    path: &FieldPath,
    resource_root: bool,
    inside_meta: bool,
    errors: &mut Vec<FieldError>,
) {
    let embedded = resource_root || flag(props.x_kubernetes_embedded_resource);
    let inside_meta = inside_meta && !embedded;
    if let Some(default) = &props.default
        && !inside_meta
    {
        default_errors(props, &default.0, embedded, &path.child("default"), errors);
    }
    for (name, prop) in props.properties.iter().flatten() {
        let meta = inside_meta || (embedded && name == "metadata");
        defaults(
            prop,
            &path.child("properties").key(name),
            false,
            meta,
            errors,
        );
    }
    if let Some(items) = items_schema(props) {
        defaults(items, &path.child("items"), false, inside_meta, errors);
    }
    if let Some(schema) = additional_schema(props) {
        defaults(
            schema,
            &path.child("additionalProperties"),
            false,
            inside_meta,
            errors,
        );
    }
}

fn default_errors(
    props: &JSONSchemaProps,
    default: &Value,
    embedded: bool,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let node = Node::of(props);
    let mut pruned = default.clone();
    prune::prune_level(&mut pruned, &node, embedded);
    if &pruned != default {
        errors.push(FieldError::invalid(
            path,
            default.clone(),
            "must not have unknown fields",
        ));
        return;
    }
    let mut patterns = HashMap::new();
    collect_patterns(props, &mut patterns);
    let found = validate::Validator::new(&patterns).validate(props, default, path);
    errors.extend(found);
}

#[cfg(test)]
#[path = "structural_tests.rs"]
mod tests;
