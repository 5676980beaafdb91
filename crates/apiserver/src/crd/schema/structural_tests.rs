use serde_json::{Value, json};

use super::*;
use crate::crd::schema::Structural;
use crate::crd::schema::test_support::{messages, props};

fn errors_of(schema: Value) -> Vec<String> {
    let base = FieldPath::new("spec")
        .child("versions")
        .index(0)
        .child("schema")
        .child("openAPIV3Schema");
    match Structural::from_props(&props(schema), &base) {
        Ok(_) => Vec::new(),
        Err(errors) => messages(&errors),
    }
}

const BASE: &str = "spec.versions[0].schema.openAPIV3Schema";

fn at(rest: &str) -> String {
    format!("{BASE}{rest}")
}

#[test]
fn accepts_structural_schemas() {
    let cases = [
        json!({"type": "object"}),
        json!({"type": "object", "properties": {
            "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}},
            "spec": {"type": "object", "properties": {
                "port": {"x-kubernetes-int-or-string": true,
                    "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "free": {"x-kubernetes-preserve-unknown-fields": true},
                "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                    "x-kubernetes-preserve-unknown-fields": true},
                "list": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {"type": "object", "required": ["name"],
                        "properties": {"name": {"type": "string"}}}},
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "size": {"type": "integer", "default": 3, "minimum": 1},
                "limit": {"x-kubernetes-int-or-string": true, "allOf": [
                    {"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"maximum": 3}]}
            },
            "anyOf": [{"required": ["port"]}, {"required": ["free"]}]}
        }}),
    ];
    for schema in cases {
        assert_eq!(errors_of(schema.clone()), Vec::<String>::new(), "{schema}");
    }
}

#[test]
fn reports_upstreams_structural_errors() {
    let cases: Vec<(Value, Vec<String>)> = vec![
        (
            json!({}),
            vec![at(".type: Required value: must not be empty at the root")],
        ),
        (
            json!({"type": "string"}),
            vec![at(
                ".type: Invalid value: \"string\": must be object at the root",
            )],
        ),
        (
            json!({"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}}),
            vec![at(
                ".properties[spec].type: Required value: must not be empty for specified object fields",
            )],
        ),
        (
            json!({"type": "object", "properties": {"l": {"type": "array", "items": {}}}}),
            vec![at(
                ".properties[l].items.type: Required value: must not be empty for specified array items",
            )],
        ),
        (
            json!({"type": "object", "properties": {"l": {"type": "array"}}}),
            vec![at(
                ".properties[l].items: Required value: must be specified",
            )],
        ),
        (
            json!({"type": "object", "additionalProperties": {"type": "string"}}),
            vec![at(
                ".additionalProperties: Forbidden: must not be used at the root",
            )],
        ),
        (
            json!({"type": "object", "properties": {"s": {"type": "object",
                "anyOf": [{"type": "object", "description": "d", "nullable": true, "default": {}}]}}}),
            vec![
                at(
                    ".properties[s].anyOf[0].default: Forbidden: must be undefined to be structural",
                ),
                at(
                    ".properties[s].anyOf[0].description: Forbidden: must be empty to be structural",
                ),
                at(".properties[s].anyOf[0].nullable: Forbidden: must be false to be structural"),
                at(".properties[s].anyOf[0].type: Forbidden: must be empty to be structural"),
            ],
        ),
        (
            json!({"type": "object", "anyOf": [{"properties": {"spec": {"maxProperties": 1}}}]}),
            vec![at(&format!(
                ".properties[spec]: Required value: because it is defined in {BASE}.anyOf[0].properties[spec]"
            ))],
        ),
        (
            json!({"type": "object", "properties": {"metadata": {"type": "object",
                "properties": {"labels": {"type": "object"}}}}}),
            vec![at(
                ".properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
            )],
        ),
        (
            json!({"type": "object", "properties": {"e": {"x-kubernetes-embedded-resource": true,
                "x-kubernetes-preserve-unknown-fields": true}}}),
            vec![at(
                ".properties[e].type: Required value: must be object if x-kubernetes-embedded-resource is true",
            )],
        ),
        (
            json!({"type": "object", "properties": {"e": {"type": "object", "x-kubernetes-embedded-resource": true}}}),
            vec![at(
                ".properties[e].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
            )],
        ),
        (
            json!({"type": "object", "properties": {"i": {"x-kubernetes-int-or-string": true,
                "x-kubernetes-preserve-unknown-fields": true}}}),
            vec![at(
                ".properties[i].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true",
            )],
        ),
        (
            json!({"type": "object", "properties": {"i": {"x-kubernetes-int-or-string": true,
                "anyOf": [{"type": "integer"}, {"type": "boolean"}]}}}),
            vec![
                at(".properties[i].anyOf[0].type: Forbidden: must be empty to be structural"),
                at(".properties[i].anyOf[1].type: Forbidden: must be empty to be structural"),
            ],
        ),
    ];
    for (schema, want) in cases {
        assert_eq!(errors_of(schema.clone()), want, "{schema}");
    }
}

#[test]
fn refuses_patterns_that_do_not_compile() {
    let errors = errors_of(
        json!({"type": "object", "properties": {"p": {"type": "string", "pattern": "(a"}}}),
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    let want = at(
        ".properties[p].pattern: Invalid value: \"(a\": must be a valid regular expression, but isn't: ",
    );
    assert!(errors[0].starts_with(&want), "{errors:?}");
}

#[test]
fn checks_defaults() {
    let cases = [
        (
            json!({"type": "object", "properties": {"spec": {"type": "object",
                "default": {"a": 1}, "properties": {"b": {"type": "integer"}}}}}),
            vec![at(
                ".properties[spec].default: Invalid value: {\"a\":1}: must not have unknown fields",
            )],
        ),
        (
            json!({"type": "object", "properties": {"n": {"type": "integer", "minimum": 5, "default": 1}}}),
            vec![at(
                ".properties[n].default: Invalid value: 1: spec.versions[0].schema.openAPIV3Schema.properties[n].default in body should be greater than or equal to 5",
            )],
        ),
        (
            json!({"type": "object", "properties": {"metadata": {"type": "object", "default": {}}}}),
            // The structural check leaves the default to CRD validation.
            vec![at(
                ".properties[metadata].default: Forbidden: must not be set in top-level metadata",
            )],
        ),
    ];
    for (schema, want) in cases {
        assert_eq!(errors_of(schema.clone()), want, "{schema}");
    }
}

#[test]
fn reports_crd_schema_rules() {
    let cases = [
        (
            json!({"type": "object", "properties": {"l": {"type": "array", "uniqueItems": true,
                "items": {"type": "string"}}}}),
            vec![at(
                ".properties[l].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
            )],
        ),
        (
            json!({"type": "object", "properties": {"m": {"type": "object",
                "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}}}),
            vec![at(
                ".properties[m].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
            )],
        ),
        (
            json!({"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "map",
                "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}),
            vec![at(
                ".properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map",
            )],
        ),
        (
            json!({"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}),
            vec![at(
                ".properties[l].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
            )],
        ),
        (
            json!({"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["nope"],
                "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}),
            vec![at(
                ".properties[l].x-kubernetes-list-map-keys: Invalid value: []string{\"nope\"}: entries must all be names of item properties",
            )],
        ),
        (
            json!({"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "set",
                "items": {"type": "object", "properties": {"a": {"type": "string"}}}}}}),
            vec![at(
                ".properties[l].items.x-kubernetes-map-type: Invalid value: null: must be atomic as item of a list with x-kubernetes-list-type=set",
            )],
        ),
        (
            json!({"type": "object", "properties": {"l": {"type": "string", "x-kubernetes-list-type": "bag"}}}),
            vec![
                at(
                    ".properties[l].type: Invalid value: \"string\": must be array if x-kubernetes-list-type is specified",
                ),
                at(
                    ".properties[l].x-kubernetes-list-type: Unsupported value: \"bag\": supported values: \"atomic\", \"set\", \"map\"",
                ),
            ],
        ),
        (
            json!({"type": "object", "properties": {"s": {"type": "string", "x-kubernetes-validations": [
                {"rule": " "}, {"rule": "true", "reason": "Nope"}, {"rule": "true", "fieldPath": ".x"}]}}}),
            vec![
                at(
                    ".properties[s].x-kubernetes-validations[0].rule: Required value: rule is not specified",
                ),
                at(
                    ".properties[s].x-kubernetes-validations[1].reason: Unsupported value: \"Nope\": supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\"",
                ),
                at(
                    ".properties[s].x-kubernetes-validations[2].fieldPath: Invalid value: \".x\": fieldPath must be a valid path",
                ),
            ],
        ),
        (
            json!({"type": "object", "properties": {"x": {"type": "object", "x-kubernetes-preserve-unknown-fields": false}}}),
            vec![at(
                ".properties[x].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined",
            )],
        ),
        (
            json!({"type": "object", "properties": {"x": {"type": "null"}}}),
            vec![
                at(
                    ".properties[x].type: Unsupported value: \"null\": supported values: \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\"",
                ),
                at(
                    ".properties[x].type: Forbidden: type cannot be set to null, use nullable as an alternative",
                ),
            ],
        ),
        (
            json!({"type": "object", "properties": {"l": {"type": "array", "items": [{"type": "string"}]}}}),
            vec![at(
                ".properties[l].items: Forbidden: items must be a schema object and not an array",
            )],
        ),
        (
            json!({"type": "object", "nullable": true}),
            vec![at(
                ".nullable: Forbidden: nullable cannot be true at the root",
            )],
        ),
        (
            json!({"type": "object", "properties": {"kind": {"type": "string", "default": "K"}}}),
            vec![at(
                ".properties[kind].default: Forbidden: must not be set in top-level kind",
            )],
        ),
    ];
    for (schema, want) in cases {
        assert_eq!(errors_of(schema.clone()), want, "{schema}");
    }
}

#[test]
fn compiles_every_pattern() {
    let mut patterns = HashMap::new();
    collect_patterns(
        &props(
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "^a$"},
            "b": {"type": "array", "items": {"type": "string", "pattern": "^b+$"}}}}),
        ),
        &mut patterns,
    );
    let mut keys: Vec<&String> = patterns.keys().collect();
    keys.sort();
    assert_eq!(keys, ["^a$", "^b+$"]);
}
