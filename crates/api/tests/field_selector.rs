//! Field selectors parse, escape, and match objects on the fields each
//! kind supports, refusing the others with Kubernetes' messages.

use keelson_api::field_selector::{Error, Selector, escape_value, field_value, unescape_value};
use serde_json::{Value, json};

fn parse(text: &str) -> Selector {
    Selector::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "prod"},
        "spec": {"nodeName": "node-a", "restartPolicy": "Always", "hostNetwork": true},
        "status": {"phase": "Running", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.9"}]}
    })
}

#[test]
fn parses_and_prints() {
    let cases = [
        ("", ""),
        ("a=b", "a=b"),
        ("a==b", "a=b"),
        ("a!=b", "a!=b"),
        ("b=1,a=2", "a=2,b=1"),
        ("a=x\\,y", "a=x\\,y"),
        ("a=x\\=y", "a=x\\=y"),
        ("a=x\\\\y", "a=x\\\\y"),
        ("a=", "a="),
        ("a=b,,c=d", "a=b,c=d"),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input).to_string(), want, "printing {input:?}");
    }
    let escaped = parse("metadata.name=a\\,b");
    assert_eq!(escaped.requires_exact_match("metadata.name"), Some("a,b"));
}

#[test]
fn refuses_malformed_selectors() {
    let cases = [
        ("abc", "invalid selector: 'abc'; can't understand 'abc'"),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        (
            "a=b\\c",
            "invalid field selector: invalid escape sequence: \\c",
        ),
        (
            "a=b\\",
            "invalid field selector: invalid escape sequence: \\",
        ),
        (
            "a=b=c",
            "invalid field selector: unescaped character in value: 61",
        ),
    ];
    for (input, want) in cases {
        let error = Selector::parse(input).expect_err(input);
        assert_eq!(error.to_string(), want, "parsing {input:?}");
    }
}

#[test]
fn escapes_round_trip() {
    for value in ["plain", "a,b", "a=b", "a\\b", ""] {
        assert_eq!(unescape_value(&escape_value(value)), Ok(value.to_string()));
    }
}

#[test]
fn matches_pods_on_their_fields() {
    let pod = pod();
    let cases = [
        ("metadata.name=web-1", true),
        ("metadata.namespace!=prod", false),
        ("spec.nodeName=node-a", true),
        ("spec.nodeName=", false),
        ("spec.restartPolicy=Always,status.phase=Running", true),
        ("status.phase!=Running", false),
        ("spec.hostNetwork=true", true),
        ("status.podIP=10.0.0.9", true),
        ("status.nominatedNodeName=", true),
        ("spec.schedulerName=", true),
    ];
    for (selector, want) in cases {
        let checked = parse(selector).for_kind("", "Pod").expect("pod fields");
        assert_eq!(checked.matches("", "Pod", &pod), want, "{selector}");
    }
}

#[test]
fn missing_values_read_as_go_zero_values() {
    let pending = json!({"metadata": {"name": "p"}, "spec": {}});
    assert_eq!(
        field_value("", "Pod", "spec.nodeName", &pending),
        Some(String::new())
    );
    assert_eq!(
        field_value("", "Pod", "spec.hostNetwork", &pending),
        Some("false".to_string())
    );
    assert!(
        parse("spec.nodeName=").matches("", "Pod", &pending),
        "unscheduled pods"
    );
    let node = json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}});
    assert_eq!(
        field_value("", "Node", "spec.unschedulable", &node),
        Some("true".to_string())
    );
    let job = json!({"metadata": {"name": "j"}, "status": {}});
    assert_eq!(
        field_value("batch", "Job", "status.successful", &job),
        Some("0".to_string())
    );
    let done = json!({"status": {"succeeded": 3}});
    assert_eq!(
        field_value("batch", "Job", "status.successful", &done),
        Some("3".to_string())
    );
}

#[test]
fn reads_event_fields() {
    let event = json!({
        "metadata": {"name": "e", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "uid": "u-1"},
        "reason": "Scheduled",
        "type": "Normal",
        "reportingComponent": "default-scheduler",
        "source": {}
    });
    let cases = [
        ("involvedObject.kind", "Pod"),
        ("involvedObject.name", "web-1"),
        ("involvedObject.uid", "u-1"),
        ("involvedObject.namespace", ""),
        ("reason", "Scheduled"),
        ("type", "Normal"),
        ("reportingComponent", "default-scheduler"),
        ("source", "default-scheduler"),
    ];
    for (field, want) in cases {
        assert_eq!(
            field_value("", "Event", field, &event).as_deref(),
            Some(want),
            "{field}"
        );
    }
    let with_source = json!({"source": {"component": "kubelet"}, "reportingComponent": "x"});
    assert_eq!(
        field_value("", "Event", "source", &with_source).as_deref(),
        Some("kubelet")
    );
}

#[test]
fn refuses_fields_a_kind_does_not_support() {
    let cases = [
        ("", "Pod", "spec.foo", "field label not supported: spec.foo"),
        (
            "",
            "Node",
            "metadata.namespace",
            "field label not supported: metadata.namespace",
        ),
        (
            "",
            "Namespace",
            "spec.x",
            "field label not supported: spec.x",
        ),
        (
            "batch",
            "Job",
            "spec.x",
            "field label \"spec.x\" not supported for batchv1.Job",
        ),
        (
            "apps",
            "Deployment",
            "spec.replicas",
            "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
        ),
        (
            "",
            "ConfigMap",
            "data.x",
            "\"data.x\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
        ),
    ];
    for (group, kind, field, want) in cases {
        let selector = parse(&format!("{field}=x"));
        assert_eq!(
            selector.for_kind(group, kind),
            Err(Error::UnsupportedField(want.to_string())),
            "{field} on {kind}"
        );
        assert!(
            !selector.matches(group, kind, &json!({})),
            "unsupported fields never match"
        );
    }
    for (group, kind, field) in [
        ("", "Secret", "type"),
        ("", "Namespace", "status.phase"),
        ("", "Service", "spec.clusterIP"),
        ("", "Event", "involvedObject.fieldPath"),
        ("apps", "ReplicaSet", "metadata.namespace"),
        ("", "PersistentVolume", "metadata.name"),
    ] {
        assert!(
            parse(&format!("{field}=x")).for_kind(group, kind).is_ok(),
            "{field} on {kind}"
        );
    }
}

#[test]
fn accepts_the_legacy_pod_host_field() {
    let selector = parse("spec.host=node-a")
        .for_kind("", "Pod")
        .expect("spec.host is an alias");
    assert_eq!(selector.to_string(), "spec.nodeName=node-a");
    assert!(selector.matches("", "Pod", &pod()));
}
