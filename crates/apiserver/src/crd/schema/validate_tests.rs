use serde_json::{Value, json};

use crate::crd::schema::test_support::{messages, structural};

fn schema() -> crate::crd::schema::Structural {
    structural(json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["replicas"],
                "properties": {
                    "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "format": "int32"},
                    "ratio": {"type": "number", "exclusiveMaximum": true, "maximum": 1.5, "multipleOf": 0.5},
                    "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
                    "color": {"type": "string", "enum": ["red", "blue"]},
                    "size": {"type": "integer", "enum": [1, 2]},
                    "id": {"type": "string", "format": "uuid"},
                    "when": {"type": "string", "format": "date-time"},
                    "note": {"type": "string", "nullable": true},
                    "port": {"x-kubernetes-int-or-string": true},
                    "tags": {"type": "array", "maxItems": 2, "minItems": 1,
                        "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                    "ports": {"type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {"type": "object", "required": ["name"],
                            "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
                    "labels": {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}},
                    "either": {"type": "object",
                        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                        "oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
                    "notBoth": {"type": "string", "not": {"enum": ["x"]}},
                    "some": {"type": "object", "minProperties": 1,
                        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                        "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
                        "allOf": [{"properties": {"a": {"exclusiveMinimum": true, "minimum": 0}}}]},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                        "x-kubernetes-preserve-unknown-fields": true}
                }
            }
        }
    }))
}

fn errors_of(spec: Value) -> Vec<String> {
    let object =
        json!({"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "a"}, "spec": spec});
    let mut got =
        messages(&schema().validate(&object, &keelson_api::field_path::FieldPath::root()));
    got.sort();
    got
}

#[test]
fn accepts_valid_values() {
    let spec = json!({"replicas": 3, "ratio": 1.0, "name": "abc", "color": "red", "size": 2,
        "id": "123e4567-e89b-12d3-a456-426614174000", "when": "2024-01-01T00:00:00Z",
        "note": null, "port": "http", "tags": ["a", "b"],
        "ports": [{"name": "a", "port": 1}, {"name": "b", "port": 1}], "labels": {"a": "b"},
        "either": {"a": "x"}, "notBoth": "y",
        "template": {"apiVersion": "v1", "kind": "Pod", "spec": {}}});
    assert_eq!(errors_of(spec), Vec::<String>::new());
    assert_eq!(errors_of(json!({"replicas": 2.0})), Vec::<String>::new());
}

#[test]
fn reports_kube_openapi_messages() {
    let cases = [
        (json!({}), vec!["spec.replicas: Required value"]),
        (
            json!({"replicas": "3"}),
            vec![
                r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#,
            ],
        ),
        (
            json!({"replicas": 1.5}),
            vec![
                r#"spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number""#,
            ],
        ),
        (
            json!({"replicas": null}),
            vec![
                r#"spec.replicas: Invalid value: "null": spec.replicas in body must be of type integer: "null""#,
            ],
        ),
        (
            json!({"replicas": 0}),
            vec![
                "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
            ],
        ),
        (
            json!({"replicas": 11}),
            vec![
                "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
            ],
        ),
        (
            json!({"replicas": 1, "ratio": 1.5}),
            vec!["spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5"],
        ),
        (
            json!({"replicas": 1, "ratio": 0.7}),
            vec!["spec.ratio: Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5"],
        ),
        (
            json!({"replicas": 1, "name": "a"}),
            vec![
                r#"spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long"#,
            ],
        ),
        (
            json!({"replicas": 1, "name": "abcdef"}),
            vec!["spec.name: Too long: may not be more than 5 bytes"],
        ),
        (
            json!({"replicas": 1, "name": "AB"}),
            vec![r#"spec.name: Invalid value: "AB": spec.name in body should match '^[a-z]+$'"#],
        ),
        (
            json!({"replicas": 1, "color": "pink"}),
            vec![r#"spec.color: Unsupported value: "pink": supported values: "red", "blue""#],
        ),
        (
            json!({"replicas": 1, "size": 3}),
            vec![r#"spec.size: Unsupported value: 3: supported values: "1", "2""#],
        ),
        (
            json!({"replicas": 1, "id": "nope"}),
            vec![r#"spec.id: Invalid value: "nope": spec.id in body must be of type uuid: "nope""#],
        ),
        (
            json!({"replicas": 1, "when": "later"}),
            vec![
                r#"spec.when: Invalid value: "later": spec.when in body must be of type date-time: "later""#,
            ],
        ),
        (
            json!({"replicas": 1, "port": true}),
            vec![
                r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#,
            ],
        ),
        (
            json!({"replicas": 1, "tags": ["a", "b", "c"]}),
            vec!["spec.tags: Too many: 3: must have at most 2 items"],
        ),
        (
            json!({"replicas": 1, "tags": []}),
            vec!["spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"],
        ),
        (
            json!({"replicas": 1, "tags": ["a", "a"]}),
            vec![r#"spec.tags[1]: Duplicate value: "a""#],
        ),
        (
            json!({"replicas": 1, "ports": [{"name": "a"}, {"name": "a", "port": 2}]}),
            vec![r#"spec.ports[1]: Duplicate value: map[string]string{"name":"a"}"#],
        ),
        (
            json!({"replicas": 1, "ports": [{"port": 2}]}),
            vec!["spec.ports[0].name: Required value"],
        ),
        (
            json!({"replicas": 1, "labels": {"a": "b", "c": "d"}}),
            vec!["spec.labels: Too many: 2: must have at most 1 items"],
        ),
        (
            json!({"replicas": 1, "either": {"a": "x", "b": "y"}}),
            vec![
                r#": Invalid value: "": "spec.either" must validate one and only one schema (oneOf). Found 2 valid alternatives"#,
            ],
        ),
        (
            json!({"replicas": 1, "either": {}}),
            vec![
                r#": Invalid value: "": "spec.either" must validate one and only one schema (oneOf). Found none valid"#,
                "spec.either.a: Required value",
            ],
        ),
        (
            json!({"replicas": 1, "some": {}}),
            vec![
                r#": Invalid value: "": "spec.some" must validate at least one schema (anyOf)"#,
                "spec.some.a: Required value",
                "spec.some: Invalid value: 1: spec.some in body should have at least 1 properties",
            ],
        ),
        (
            json!({"replicas": 1, "some": {"a": 0}}),
            vec![
                r#": Invalid value: "": "spec.some" must validate all the schemas (allOf). None validated"#,
                "spec.some.a: Invalid value: 0: spec.some.a in body should be greater than 0",
            ],
        ),
        (
            json!({"replicas": 1, "notBoth": "x"}),
            vec![r#": Invalid value: "": "spec.notBoth" must not validate the schema (not)"#],
        ),
        (
            json!({"replicas": 1, "template": {"kind": "pod_"}}),
            vec![
                "spec.template.apiVersion: Required value: must not be empty",
                "spec.template.kind: Invalid value: \"pod_\": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
            ],
        ),
    ];
    for (spec, want) in cases {
        let mut want: Vec<String> = want.into_iter().map(String::from).collect();
        want.sort();
        assert_eq!(errors_of(spec.clone()), want, "{spec}");
    }
}
