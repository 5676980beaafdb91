use serde_json::{Value, json};

use super::*;
use crate::crd::schema::test_support::{messages, structural};

const BASE: &str = "spec.versions[0].schema.openAPIV3Schema";

fn base() -> FieldPath {
    FieldPath::new("spec")
        .child("versions")
        .index(0)
        .child("schema")
        .child("openAPIV3Schema")
}

/// A schema whose `spec` has the given rules (and a few fields).
fn spec_with(rules: Value) -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-validations": rules,
                "properties": {
                    "replicas": {"type": "integer"},
                    "min": {"type": "integer"},
                    "name": {"type": "string"},
                    "mode": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            }
        }
    })
}

fn compile(schema: Value) -> Result<Rules, Vec<String>> {
    let structural = structural(schema);
    Rules::compile(&structural, &base()).map_err(|errors| messages(&errors))
}

fn run(rules: Value, object: Value, old: Option<Value>) -> Vec<String> {
    let rules = compile(spec_with(rules)).expect("rules compile");
    messages(&rules.validate(&object, old.as_ref(), &FieldPath::root()))
}

#[test]
fn reports_compilation_errors() {
    let cases = [
        (
            json!([{"rule": "self.replicas >"}]),
            "compilation failed: ERROR: <input>:1:16:",
        ),
        (
            json!([{"rule": "foo == 1"}]),
            "compilation failed: ERROR: <input>:1:1: undeclared reference to 'foo' (in container '')",
        ),
        (
            json!([{"rule": "isSemver(self.name) && semver(self.name).major() == 1"}]),
            "compilation failed: ERROR: <input>:1:9: undeclared reference to 'isSemver' (in container '')",
        ),
        (
            json!([{"rule": "url(self.name).getHost() == 'a'"}]),
            // As cel-go, a call is placed at its parenthesis.
            "compilation failed: ERROR: <input>:1:4: undeclared reference to 'url' (in container '')",
        ),
        (
            json!([{"rule": "true", "messageExpression": "'a' +"}]),
            "messageExpression compilation failed: ERROR: <input>:1:6:",
        ),
    ];
    for (rules, want) in cases {
        let errors = compile(spec_with(rules.clone())).expect_err("does not compile");
        assert_eq!(errors.len(), 1, "{rules}: {errors:?}");
        assert!(
            errors[0].contains(want),
            "{rules}: {} lacks {want}",
            errors[0]
        );
        assert!(
            errors[0].starts_with(&format!(
                "{BASE}.properties[spec].x-kubernetes-validations[0]."
            )),
            "{}",
            errors[0]
        );
    }
}

#[test]
fn accepts_what_the_environment_knows() {
    let rules = json!([
        {"rule": "self.tags.all(t, t.size() < 10) && self.tags.exists(t, t == 'a')"},
        {"rule": "self.name.lowerAscii().startsWith('x') || self.name.indexOf('y') >= 0"},
        {"rule": "self.tags.map(t, t.upperAscii()).filter(t, t != '').size() >= 0"},
        {"rule": "has(self.min) ? self.replicas >= self.min : true"},
        {"rule": "self.tags.isSorted() && [1, 2].sum() == 3 && [3, 1].min() == 1"},
        {"rule": "self.name.find('[0-9]+') == '' || self.name.findAll('[0-9]').size() > 0"},
        {"rule": "self.labels.all(k, k.matches('^[a-z]+$'))"},
        {"rule": "type(self.replicas) == int && math_free(1)"},
    ]);
    let errors = compile(spec_with(rules)).expect_err("math_free is unknown");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("x-kubernetes-validations[7].rule"),
        "{errors:?}"
    );
    assert!(
        errors[0].contains("undeclared reference to 'math_free'"),
        "{errors:?}"
    );
}

#[test]
fn evaluates_rules_on_self() {
    let rules = json!([
        {"rule": "self.replicas >= self.min", "message": "replicas must be at least min"},
        {"rule": "self.name.startsWith('a')"},
        {"rule": "self.tags.all(t, t.size() <= 3)", "reason": "FieldValueForbidden", "fieldPath": ".tags"},
        {"rule": "self.mode != 'off'", "reason": "FieldValueRequired", "fieldPath": ".mode"},
        {"rule": "self.labels.size() < 2", "messageExpression": "'too many labels: ' + string(self.labels.size())"},
    ]);
    let valid = json!({"spec": {"replicas": 2, "min": 1, "name": "ab", "tags": ["x"], "mode": "on", "labels": {}}});
    assert_eq!(run(rules.clone(), valid, None), Vec::<String>::new());
    let invalid = json!({"spec": {"replicas": 0, "min": 1, "name": "b", "tags": ["long"], "mode": "off",
        "labels": {"a": "1", "b": "2"}}});
    assert_eq!(
        run(rules, invalid, None),
        [
            "spec: Invalid value: replicas must be at least min",
            "spec: Invalid value: failed rule: self.name.startsWith('a')",
            "spec.tags: Forbidden: failed rule: self.tags.all(t, t.size() <= 3)",
            "spec.mode: Required value: failed rule: self.mode != 'off'",
            "spec: Invalid value: too many labels: 2",
        ]
    );
}

#[test]
fn repeats_scalar_values_in_failures() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "size": {"type": "integer", "x-kubernetes-validations": [{"rule": "self % 2 == 0"}]},
        "name": {"type": "string", "x-kubernetes-validations": [{"rule": "self.size() > 1", "reason": "FieldValueDuplicate"}]}
    }}}});
    let rules = compile(schema).expect("rules compile");
    let errors = rules.validate(
        &json!({"spec": {"size": 3, "name": "a"}}),
        None,
        &FieldPath::root(),
    );
    assert_eq!(
        messages(&errors),
        [
            "spec.name: Duplicate value: \"a\"",
            "spec.size: Invalid value: 3: failed rule: self % 2 == 0"
        ]
    );
}

#[test]
fn runs_transition_rules_only_on_updates() {
    let rules = json!([
        {"rule": "self.replicas >= oldSelf.replicas", "message": "replicas may not decrease"},
        {"rule": "self.name == oldSelf.name", "message": "name is immutable"},
    ]);
    let new = json!({"spec": {"replicas": 1, "name": "b"}});
    assert_eq!(run(rules.clone(), new.clone(), None), Vec::<String>::new());
    assert_eq!(
        run(
            rules.clone(),
            new.clone(),
            Some(json!({"spec": {"replicas": 2, "name": "a"}}))
        ),
        [
            "spec: Invalid value: replicas may not decrease",
            "spec: Invalid value: name is immutable"
        ]
    );
    // An old object without the level is no old value.
    assert_eq!(run(rules, new, Some(json!({}))), Vec::<String>::new());
}

#[test]
fn correlates_list_map_items_by_key() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "port": {"type": "integer"}},
                "x-kubernetes-validations": [{"rule": "self.port == oldSelf.port", "message": "port is immutable"}]}}
    }}}});
    let rules = compile(schema).expect("rules compile");
    let old = json!({"spec": {"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]}});
    let new = json!({"spec": {"ports": [{"name": "b", "port": 3}, {"name": "c", "port": 9}, {"name": "a", "port": 1}]}});
    assert_eq!(
        messages(&rules.validate(&new, Some(&old), &FieldPath::root())),
        ["spec.ports[0]: Invalid value: port is immutable"]
    );
}

#[test]
fn forbids_old_self_where_items_do_not_correlate() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "list": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}},
            "x-kubernetes-validations": [{"rule": "self.a == oldSelf.a"}]}}
    }}}});
    assert_eq!(
        compile(schema).expect_err("oldSelf is forbidden"),
        [format!(
            "{BASE}.properties[spec].properties[list].items.x-kubernetes-validations[0].rule: Invalid value: \"self.a == oldSelf.a\": oldSelf cannot be used on the uncorrelatable portion of the schema within {BASE}.properties[spec].properties[list]"
        )]
    );
}

#[test]
fn reports_evaluation_errors() {
    let cases = [
        (
            // Declared, but absent.
            json!([{"rule": "self.min == 1"}]),
            "spec: Invalid value: \"object\": no such key: min evaluating rule: self.min == 1",
        ),
        (
            json!([{"rule": "self.replicas / 0 == 1"}]),
            "spec: Invalid value: \"object\": division by zero evaluating rule: self.replicas / 0 == 1",
        ),
        (
            json!([{"rule": "self.replicas < 'a'"}]),
            "spec: Invalid value: \"object\": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self.replicas < 'a'",
        ),
    ];
    for (rules, want) in cases {
        let got = run(rules.clone(), json!({"spec": {"replicas": 1}}), None);
        assert_eq!(got, [want], "{rules}");
    }
}

#[test]
fn refuses_rules_past_the_cost_limit() {
    let rules = json!([
        {"rule": "self.tags.all(a, self.tags.all(b, self.tags.all(c, a + b + c != 'zzz')))"},
        {"rule": "false"},
    ]);
    let tags: Vec<String> = (0..200).map(|i| format!("t{i}")).collect();
    let started = std::time::Instant::now();
    let got = run(rules.clone(), json!({"spec": {"tags": tags}}), None);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        got,
        [
            "spec: Invalid value: \"object\": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: self.tags.all(a, self.tags.all(b, self.tags.all(c, a + b + c != 'zzz')))"
        ]
    );
    // Small enough, the same rule runs.
    assert_eq!(
        run(rules, json!({"spec": {"tags": ["a", "b"]}}), None),
        ["spec: Invalid value: failed rule: false"]
    );
}

#[test]
fn spends_one_budget_per_object() {
    let schema = json!({"type": "object", "properties": {"items": {"type": "array", "items": {
        "type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
        "x-kubernetes-validations": [{"rule": "self.tags.all(a, self.tags.all(b, a != b || a == b))"}]}}}});
    let rules = compile(schema).expect("rules compile");
    let tags: Vec<String> = (0..100).map(|i| format!("t{i}")).collect();
    let items: Vec<Value> = (0..100).map(|_| json!({"tags": tags})).collect();
    let errors = messages(&rules.validate(&json!({"items": items}), None, &FieldPath::root()));
    // Each item's rule is within the per-call limit; together they are not.
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("items["), "{errors:?}");
    assert!(
        errors[0].ends_with(": Invalid value: \"object\": validation failed due to running out of cost budget, no further validation rules will be run"),
        "{errors:?}"
    );
}

#[test]
fn types_values_by_schema() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
    "x-kubernetes-validations": [
        {"rule": "self.ratio == 2.0"},
        {"rule": "self.when < timestamp('2030-01-01T00:00:00Z')"},
        {"rule": "self.timeout > duration('1s')"},
        {"rule": "self.port == 80 || self.port == 'http'"},
    ],
    "properties": {
        "ratio": {"type": "number"},
        "when": {"type": "string", "format": "date-time"},
        "timeout": {"type": "string", "format": "duration"},
        "port": {"x-kubernetes-int-or-string": true}
    }}}});
    let rules = compile(schema).expect("rules compile");
    let object = json!({"spec": {"ratio": 2, "when": "2024-01-01T00:00:00Z", "timeout": "1m", "port": "http"}});
    assert_eq!(
        messages(&rules.validate(&object, None, &FieldPath::root())),
        Vec::<String>::new()
    );
}

#[test]
fn sees_type_meta_at_the_root() {
    let schema = json!({"type": "object", "x-kubernetes-validations": [
        {"rule": "self.kind == 'Widget' && self.metadata.name.startsWith('w')"}
    ]});
    let rules = compile(schema).expect("rules compile");
    let ok =
        json!({"apiVersion": "g/v1", "kind": "Widget", "metadata": {"name": "w1", "uid": "x"}});
    assert_eq!(
        messages(&rules.validate(&ok, None, &FieldPath::root())),
        Vec::<String>::new()
    );
    let bad = json!({"apiVersion": "g/v1", "kind": "Widget", "metadata": {"name": "x"}});
    assert_eq!(
        messages(&rules.validate(&bad, None, &FieldPath::root())),
        [
            ": Invalid value: failed rule: self.kind == 'Widget' && self.metadata.name.startsWith('w')"
        ]
    );
}

#[test]
fn can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Rules>();
    shared::<crate::crd::schema::Structural>();
}

#[test]
fn checks_defaults_against_rules() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "size": {"type": "integer", "default": 3,
            "x-kubernetes-validations": [{"rule": "self % 2 == 0", "message": "must be even"}]}
    }}}});
    assert_eq!(
        compile(schema).expect_err("the default breaks the rule"),
        [format!(
            "{BASE}.properties[spec].properties[size].default: Invalid value: 3: must be even"
        )]
    );
}

#[test]
fn runs_kubernetes_library_functions() {
    let cases = [
        (
            "self.tags.isSorted()",
            json!({"spec": {"tags": ["a", "b"]}}),
            true,
        ),
        (
            "self.tags.isSorted()",
            json!({"spec": {"tags": ["b", "a"]}}),
            false,
        ),
        (
            "[1, 2, 3].sum() == 6 && [2.5, 0.5].sum() == 3.0",
            json!({"spec": {}}),
            true,
        ),
        (
            "[3, 1, 2].min() == 1 && [3, 1, 2].max() == 3",
            json!({"spec": {}}),
            true,
        ),
        (
            "self.name.find('[0-9]+') == '42'",
            json!({"spec": {"name": "ab42cd7"}}),
            true,
        ),
        (
            "self.name.findAll('[0-9]+') == ['42', '7']",
            json!({"spec": {"name": "ab42cd7"}}),
            true,
        ),
        (
            "self.name.lowerAscii() == 'abc' && self.name.indexOf('B') == 1",
            json!({"spec": {"name": "aBc"}}),
            true,
        ),
        (
            "self.name.split('-').size() == 2",
            json!({"spec": {"name": "a-b"}}),
            true,
        ),
    ];
    for (rule, object, holds) in cases {
        let got = run(json!([{"rule": rule}]), object, None);
        let want: Vec<String> = if holds {
            vec![]
        } else {
            vec![format!("spec: Invalid value: failed rule: {rule}")]
        };
        assert_eq!(got, want, "{rule}");
    }
}

#[test]
fn names_missing_functions_in_full() {
    let cases = [
        (
            "cel.bind(x, 1, x + 1) == 2",
            "undeclared reference to 'cel.bind'",
        ),
        ("{'a': 1}.all(k, v, v > 0)", "undeclared reference to 'all'"),
        ("math.abs(-1) == 1", "undeclared reference to 'math.abs'"),
        ("nothing.size() == 1", "undeclared reference to 'nothing'"),
        (
            "self.name.size() > 0 && ip(self.name).family() == 4",
            "undeclared reference to 'ip'",
        ),
    ];
    for (rule, want) in cases {
        let errors = compile(spec_with(json!([{"rule": rule}]))).expect_err(rule);
        assert!(errors[0].contains(want), "{rule}: {errors:?}");
    }
    for rule in [
        "[1].exists_one(x, x == 1)",
        "optional.of(1).hasValue()",
        "'abc'.charAt(1) == 'b'",
    ] {
        assert!(
            compile(spec_with(json!([{"rule": rule}]))).is_ok(),
            "{rule}"
        );
    }
}

#[test]
fn binds_optional_old_self() {
    let rules = json!([{"rule": "!oldSelf.hasValue() || self.name == oldSelf.value().name",
        "optionalOldSelf": true, "message": "name is immutable"},
        {"rule": "oldSelf.orValue(self).name != 'x'", "optionalOldSelf": true}]);
    assert_eq!(
        run(rules.clone(), json!({"spec": {"name": "a"}}), None),
        Vec::<String>::new()
    );
    assert_eq!(
        run(rules.clone(), json!({"spec": {"name": "x"}}), None),
        ["spec: Invalid value: failed rule: oldSelf.orValue(self).name != 'x'"]
    );
    assert_eq!(
        run(
            rules,
            json!({"spec": {"name": "b"}}),
            Some(json!({"spec": {"name": "a"}}))
        ),
        ["spec: Invalid value: name is immutable"]
    );
}

#[test]
fn refuses_fields_the_schema_does_not_declare() {
    let cases = [
        (
            "self.nope == 1",
            Some("ERROR: <input>:1:5: undefined field 'nope'"),
        ),
        ("has(self.nope)", Some("undefined field 'nope'")),
        ("self.tags.all(t, t.size() > 0)", None),
        ("self.labels.foo == 'x' && self.labels['a'] == 'b'", None),
        (
            "self.replicas > 0 && oldSelf.missing == 1",
            Some("undefined field 'missing'"),
        ),
    ];
    for (rule, want) in cases {
        let got = compile(spec_with(json!([{"rule": rule}])));
        match want {
            None => assert!(got.is_ok(), "{rule}: {got:?}"),
            Some(want) => {
                let errors = got.expect_err(rule);
                assert!(errors[0].contains(want), "{rule}: {errors:?}");
            }
        }
    }
    let schema = json!({"type": "object", "x-kubernetes-validations": [{"rule": "self.metadata.labels.size() > 0"}],
        "properties": {"items": {"type": "array", "items": {"type": "object",
            "properties": {"name": {"type": "string"}}}, "x-kubernetes-validations": [
                {"rule": "self.all(i, i.name != '' && i.port > 0)"}]}}});
    let errors = compile(schema).expect_err("undefined fields");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("x-kubernetes-validations[0].rule")
            && errors[0].contains("undefined field 'labels'"),
        "{errors:?}"
    );
    assert!(errors[1].contains("undefined field 'port'"), "{errors:?}");
}
