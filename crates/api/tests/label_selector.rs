//! Label selectors parse, print and match like Kubernetes', and bad ones
//! are refused with a message naming the problem.

use std::collections::BTreeMap;

use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement,
};
use keelson_api::label_selector::{Error, Operator, Requirement, Selector};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse(text: &str) -> Selector {
    Selector::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

#[test]
fn prints_the_canonical_form() {
    let cases = [
        ("", ""),
        ("a=b", "a=b"),
        ("a==b", "a==b"),
        ("a!=b", "a!=b"),
        ("  a  =  b  ", "a=b"),
        (
            "x in (foo,,baz),y,z notin ()",
            "x in (,baz,foo),y,z notin ()",
        ),
        ("b=1,a=2", "a=2,b=1"),
        ("env in (prod, dev)", "env in (dev,prod)"),
        ("!canary", "!canary"),
        ("a>1,b<10", "a>1,b<10"),
        ("a=", "a="),
        ("example.com/key=v", "example.com/key=v"),
        ("in in (in, notin)", "in in (in,notin)"),
        ("a in (,)", "a in ()"),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input).to_string(), want, "printing {input:?}");
    }
}

#[test]
fn matches_labels() {
    let web = labels(&[("app", "web"), ("tier", "front"), ("rank", "5")]);
    let cases = [
        ("", true),
        ("app=web", true),
        ("app==web", true),
        ("app=db", false),
        ("app!=db", true),
        ("missing!=x", true),
        ("tier in (front,back)", true),
        ("tier notin (front)", false),
        ("missing notin (x)", true),
        ("missing in (x)", false),
        ("app", true),
        ("missing", false),
        ("!missing", true),
        ("!app", false),
        ("rank>4", true),
        ("rank>5", false),
        ("rank<6", true),
        ("app>1", false),
        ("missing<1", false),
        ("app=web,tier=back", false),
        ("app=web,tier=front", true),
        ("missing=", false),
    ];
    for (selector, want) in cases {
        assert_eq!(
            parse(selector).matches(&web),
            want,
            "{selector:?} on {web:?}"
        );
    }
    assert!(parse("x=").matches(&labels(&[("x", "")])));
}

#[test]
fn refuses_bad_selectors_naming_the_problem() {
    let name_part = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    let cases = [
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'".to_string()),
        ("x=a b", "found 'b', expected: ',' or 'end of string'".to_string()),
        ("a,", "found '', expected: identifier after ','".to_string()),
        (",a", "found ',', expected: !, identifier, or 'end of string'".to_string()),
        ("a in b", "unable to parse requirement: found 'b' expected: '('".to_string()),
        ("a=(b)", "unable to parse requirement: found '(', expected: identifier".to_string()),
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt".to_string()),
        ("a=!b", "unable to parse requirement: found '!', expected: identifier".to_string()),
        ("a=>b", "unable to parse requirement: found '>', expected: identifier".to_string()),
        ("!", "unable to parse requirement: found '', expected: identifier".to_string()),
        ("a@b=c", format!("unable to parse requirement: <nil>: Invalid value: \"a@b\": {name_part}")),
        (
            "a>x",
            "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer".to_string(),
        ),
        (
            "a=b@c",
            "unable to parse requirement: values[0][a]: Invalid value: \"b@c\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".to_string(),
        ),
    ];
    for (input, want) in cases {
        let error = Selector::parse(input).expect_err(input);
        assert_eq!(error.to_string(), want, "parsing {input:?}");
    }
}

#[test]
fn checks_requirements_built_directly() {
    let error = Requirement::new("a", Operator::In, vec![]).expect_err("in needs values");
    assert_eq!(
        error.to_string(),
        "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"
    );
    let error = Requirement::new("a", Operator::Exists, vec!["x".to_string()])
        .expect_err("exists has no values");
    assert_eq!(
        error.to_string(),
        "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist"
    );
    let error = Requirement::new("-a", Operator::Equals, vec![]).expect_err("two problems");
    let text = error.to_string();
    assert!(
        text.starts_with("[key: Invalid value: \"-a\": name part must consist"),
        "{text}"
    );
    assert!(text.ends_with("values: Invalid value: []string{}: exact-match compatibility requires one single value]"), "{text}");
}

fn expression(key: &str, operator: &str, values: Option<&[&str]>) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.to_string(),
        operator: operator.to_string(),
        values: values.map(|v| v.iter().map(ToString::to_string).collect()),
    }
}

#[test]
fn converts_workload_label_selectors() {
    let selector = LabelSelector {
        match_labels: Some(labels(&[("app", "web")])),
        match_expressions: Some(vec![
            expression("tier", "In", Some(&["front", "back"])),
            expression("canary", "DoesNotExist", None),
            expression("env", "NotIn", Some(&["dev"])),
            expression("team", "Exists", Some(&[])),
        ]),
    };
    let converted = Selector::from_label_selector(&selector).expect("valid selector");
    assert_eq!(
        converted.to_string(),
        "app=web,!canary,env notin (dev),team,tier in (back,front)"
    );
    assert!(converted.matches(&labels(&[("app", "web"), ("tier", "back"), ("team", "a")])));
    assert!(!converted.matches(&labels(&[
        ("app", "web"),
        ("tier", "back"),
        ("team", "a"),
        ("canary", "1")
    ])));

    let empty = Selector::from_label_selector(&LabelSelector::default()).expect("empty selector");
    assert!(empty.is_everything());
    assert!(empty.matches(&labels(&[])));
    let absent = Selector::from_optional_label_selector(None).expect("absent selector");
    assert!(
        !absent.matches(&labels(&[])),
        "an absent selector selects nothing"
    );
}

#[test]
fn refuses_bad_workload_label_selectors() {
    let unknown = LabelSelector {
        match_expressions: Some(vec![expression("a", "Equals", Some(&["b"]))]),
        ..LabelSelector::default()
    };
    assert_eq!(
        Selector::from_label_selector(&unknown),
        Err(Error::UnknownOperator("Equals".to_string()))
    );
    assert_eq!(
        Error::UnknownOperator("Equals".to_string()).to_string(),
        "\"Equals\" is not a valid label selector operator"
    );
    let no_values = LabelSelector {
        match_expressions: Some(vec![expression("a", "In", None)]),
        ..LabelSelector::default()
    };
    assert!(Selector::from_label_selector(&no_values).is_err());
    let values_on_exists = LabelSelector {
        match_expressions: Some(vec![expression("a", "Exists", Some(&["x"]))]),
        ..LabelSelector::default()
    };
    assert!(Selector::from_label_selector(&values_on_exists).is_err());
}

#[test]
fn exposes_exact_matches_for_indexes() {
    let selector = parse("app=web,tier in (front),env in (a,b)");
    assert_eq!(selector.requires_exact_match("app"), Some("web"));
    assert_eq!(selector.requires_exact_match("tier"), Some("front"));
    assert_eq!(selector.requires_exact_match("env"), None);
    assert_eq!(selector.requirements().len(), 3);
}
