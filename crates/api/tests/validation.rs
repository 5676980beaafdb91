//! Names, label keys and values, and annotations are checked with the
//! messages a Kubernetes API server gives.

use std::collections::BTreeMap;

use keelson_api::validation::{
    FieldPath, TOTAL_ANNOTATION_SIZE_LIMIT, annotations_size, is_dns1035_label, is_dns1123_label,
    is_dns1123_subdomain, is_qualified_name, is_valid_label_value, validate_annotations,
    validate_dns1123_subdomain_name, validate_labels,
};

const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

#[test]
fn dns1123_labels() {
    for ok in ["a", "my-name", "123-abc", &"a".repeat(63)] {
        assert!(is_dns1123_label(ok).is_empty(), "{ok} is a label");
    }
    assert_eq!(is_dns1123_label("My-Name"), [LABEL_MSG]);
    assert_eq!(is_dns1123_label("-a"), [LABEL_MSG]);
    assert_eq!(is_dns1123_label(""), [LABEL_MSG]);
    assert_eq!(is_dns1123_label("a.b"), ["must not contain dots"]);
    assert_eq!(
        is_dns1123_label(&"a".repeat(64)),
        ["must be no more than 63 characters"]
    );
}

#[test]
fn dns1123_subdomains() {
    for ok in ["example.com", "a", "a-b.c-d", &"a".repeat(253)] {
        assert!(is_dns1123_subdomain(ok).is_empty(), "{ok} is a subdomain");
    }
    assert_eq!(is_dns1123_subdomain("a..b"), [SUBDOMAIN_MSG]);
    assert_eq!(is_dns1123_subdomain("Example.com"), [SUBDOMAIN_MSG]);
    assert_eq!(is_dns1123_subdomain("a."), [SUBDOMAIN_MSG]);
    assert_eq!(
        is_dns1123_subdomain(&"a".repeat(254)),
        ["must be no more than 253 characters"]
    );
}

#[test]
fn dns1035_labels_start_with_a_letter() {
    assert!(is_dns1035_label("my-svc").is_empty());
    assert_eq!(
        is_dns1035_label("1abc"),
        [
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        ]
    );
}

#[test]
fn qualified_names() {
    for ok in [
        "app",
        "MyName",
        "my.name",
        "example.com/my-key",
        "a_b",
        "k8s.io/x",
    ] {
        assert!(is_qualified_name(ok).is_empty(), "{ok} is a qualified name");
    }
    assert_eq!(is_qualified_name("-bad"), [NAME_PART_MSG]);
    assert_eq!(is_qualified_name("/a"), ["prefix part must be non-empty"]);
    assert_eq!(
        is_qualified_name("a/"),
        ["name part must be non-empty", NAME_PART_MSG]
    );
    assert_eq!(
        is_qualified_name("Example.com/a"),
        [format!("prefix part {SUBDOMAIN_MSG}")]
    );
    assert_eq!(
        is_qualified_name(&"a".repeat(64)),
        ["name part must be no more than 63 characters"]
    );
    let many = is_qualified_name("a/b/c");
    assert_eq!(many.len(), 1);
    assert!(many[0].starts_with("a qualified name must consist of"));
    assert!(
        many[0]
            .ends_with("with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")
    );
}

#[test]
fn label_values() {
    for ok in ["", "v1", "my_value", "12345", &"v".repeat(63)] {
        assert!(
            is_valid_label_value(ok).is_empty(),
            "{ok:?} is a label value"
        );
    }
    assert_eq!(is_valid_label_value("bad value").len(), 1);
    assert_eq!(
        is_valid_label_value(&"v".repeat(64)),
        ["must be no more than 63 characters"]
    );
    assert!(is_valid_label_value("-x")[0].starts_with("a valid label must be an empty string"));
}

#[test]
fn labels_and_annotations_become_field_errors() {
    let labels = BTreeMap::from([("-bad".to_string(), "ok".to_string())]);
    let path = FieldPath::new("metadata").child("labels");
    let errors = validate_labels(&labels, &path);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        format!("metadata.labels: Invalid value: \"-bad\": {NAME_PART_MSG}")
    );

    let path = FieldPath::new("metadata").child("annotations");
    let fine = BTreeMap::from([(
        "Example.COM/Key".to_string(),
        "any value at all".to_string(),
    )]);
    assert!(
        validate_annotations(&fine, &path).is_empty(),
        "case does not matter"
    );
    let huge = BTreeMap::from([("k".to_string(), "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT))]);
    assert_eq!(annotations_size(&huge), TOTAL_ANNOTATION_SIZE_LIMIT + 1);
    let errors = validate_annotations(&huge, &path);
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["metadata.annotations: Too long: may not be more than 262144 bytes"]
    );
}

#[test]
fn object_names() {
    let path = FieldPath::new("metadata").child("name");
    assert!(validate_dns1123_subdomain_name("web-1", &path).is_empty());
    let errors = validate_dns1123_subdomain_name("Web", &path);
    assert_eq!(
        errors[0].to_string(),
        format!("metadata.name: Invalid value: \"Web\": {SUBDOMAIN_MSG}")
    );
}
