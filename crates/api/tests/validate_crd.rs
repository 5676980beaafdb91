//! Defaults and validation of apiextensions.k8s.io/v1
//! CustomResourceDefinitions: a usual definition passes, and each rule
//! rejects with upstream's field path and message.

use keelson_api::defaults::apply_defaults;
use keelson_api::registry::{self, ResourceInfo};
use keelson_api::validate::apiextensions::openapi_schemas;
use keelson_api::validate::field_errors;
use serde_json::{Value, json};

fn crd() -> &'static ResourceInfo {
    registry::by_kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
        .expect("CustomResourceDefinitions are served")
}

/// A definition of `widgets.example.com`, as a user writes it.
fn widgets() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object"}},
            }],
        },
    })
}

fn defaulted(mut object: Value) -> Value {
    apply_defaults(crd(), &mut object);
    object
}

fn render(errors: &[keelson_api::FieldError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

/// The rendered errors of creating `object`, defaulted first.
fn errors(object: Value) -> Vec<String> {
    render(&field_errors(crd(), &defaulted(object), None))
}

/// The rendered errors of updating `old` to `new`, both defaulted.
fn update_errors(old: Value, new: Value) -> Vec<String> {
    render(&field_errors(crd(), &defaulted(new), Some(&defaulted(old))))
}

/// `base` with `patch` merged in (RFC 7386: `null` removes).
fn with(base: &Value, patch: Value) -> Value {
    let mut out = base.clone();
    merge(&mut out, patch);
    out
}

fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = json!({});
            }
            for (key, value) in fields {
                if value.is_null() {
                    target.as_object_mut().map(|m| m.remove(&key));
                } else {
                    merge(&mut target[&key], value);
                }
            }
        }
        other => *target = other,
    }
}

/// `widgets()` with its only version changed by `patch`.
fn with_version(patch: Value) -> Value {
    let mut object = widgets();
    merge(&mut object["spec"]["versions"][0], patch);
    object
}

#[test]
fn defaults_are_upstreams() {
    let object = defaulted(widgets());
    assert_eq!(
        object["spec"]["names"],
        json!({"plural": "widgets", "singular": "widget", "kind": "Widget",
            "listKind": "WidgetList", "shortNames": ["wd"]})
    );
    assert_eq!(object["spec"]["conversion"], json!({"strategy": "None"}));
    assert_eq!(object["status"]["storedVersions"], json!(["v1"]));
    assert_eq!(defaulted(object.clone()), object, "defaults are idempotent");

    let given = with(
        &widgets(),
        json!({"spec": {"names": {"singular": "wdg", "listKind": "Widgets"}}}),
    );
    let names = &defaulted(given)["spec"]["names"];
    assert_eq!(
        (&names["singular"], &names["listKind"]),
        (&json!("wdg"), &json!("Widgets"))
    );
}

#[test]
fn a_new_storage_version_is_recorded_as_stored() {
    let old = defaulted(widgets());
    let mut new = old.clone();
    new["spec"]["versions"] = json!([
        {"name": "v1", "served": true, "storage": false,
            "schema": {"openAPIV3Schema": {"type": "object"}}},
        {"name": "v2", "served": true, "storage": true,
            "schema": {"openAPIV3Schema": {"type": "object"}}},
    ]);
    let new = defaulted(new);
    assert_eq!(new["status"]["storedVersions"], json!(["v1", "v2"]));
    assert_eq!(update_errors(old, new), Vec::<String>::new());
}

#[test]
fn a_usual_definition_is_valid() {
    assert_eq!(errors(widgets()), Vec::<String>::new());
    let full = with_version(json!({
        "subresources": {"status": {}, "scale": {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector"}},
        "additionalPrinterColumns": [
            {"name": "Replicas", "type": "integer", "format": "int32", "jsonPath": ".spec.replicas"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}],
        "selectableFields": [{"jsonPath": ".spec.color"}],
        "deprecated": true,
        "deprecationWarning": "use v2",
    }));
    assert_eq!(errors(full), Vec::<String>::new());
    let cluster = with(&widgets(), json!({"spec": {"scope": "Cluster"}}));
    assert_eq!(errors(cluster), Vec::<String>::new());
}

#[test]
fn the_name_group_and_scope_are_checked() {
    let cases = [
        (
            json!({"metadata": {"name": "gadgets.example.com"}}),
            vec![
                r#"metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group"#,
            ],
        ),
        (
            json!({"metadata": {"name": "widgets.example"}, "spec": {"group": "example"}}),
            vec![
                r#"spec.group: Invalid value: "example": should be a domain with at least one dot"#,
            ],
        ),
        (
            json!({"spec": {"group": null}}),
            vec![
                r#"metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group"#,
                "spec.group: Required value",
            ],
        ),
        (
            json!({"metadata": {"name": "widgets.Example.com"}, "spec": {"group": "Example.com"}}),
            vec![
                r#"metadata.name: Invalid value: "widgets.Example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
                r#"spec.group: Invalid value: "Example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#,
            ],
        ),
        (
            json!({"spec": {"scope": "Global"}}),
            vec![
                r#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#,
            ],
        ),
        (
            json!({"spec": {"scope": null}}),
            vec!["spec.scope: Required value"],
        ),
        (
            json!({"spec": {"preserveUnknownFields": true}}),
            vec![
                "spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
            ],
        ),
    ];
    for (patch, expected) in cases {
        assert_eq!(errors(with(&widgets(), patch.clone())), expected, "{patch}");
    }
}

#[test]
fn names_are_checked() {
    let label = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    let cases = [
        (
            json!({"spec": {"names": {"plural": null}}}),
            vec![
                r#"metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group"#.to_string(),
                "spec.names.plural: Required value".to_string(),
            ],
        ),
        (
            json!({"spec": {"names": {"kind": null}}}),
            vec![
                "spec.names.singular: Required value".to_string(),
                "spec.names.kind: Required value".to_string(),
                "spec.names.listKind: Required value".to_string(),
            ],
        ),
        (
            json!({"spec": {"names": {"singular": "Widget"}}}),
            vec![format!(r#"spec.names.singular: Invalid value: "Widget": {label}"#)],
        ),
        (
            json!({"spec": {"names": {"kind": "Wid_get", "singular": "widget", "listKind": "WidgetList"}}}),
            vec![format!(
                r#"spec.names.kind: Invalid value: "Wid_get": may have mixed case, but should otherwise match: {label}"#
            )],
        ),
        (
            json!({"spec": {"names": {"listKind": "Widget"}}}),
            vec![r#"spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same"#.to_string()],
        ),
        (
            json!({"spec": {"names": {"shortNames": ["wd", "w.d", "wd"]}}}),
            vec![
                format!(r#"spec.names.shortNames[1]: Invalid value: "w.d": {label}"#),
                r#"spec.names.shortNames[2]: Duplicate value: "wd""#.to_string(),
            ],
        ),
        (
            json!({"spec": {"names": {"categories": ["all", "9lives"]}}}),
            vec![format!(r#"spec.names.categories[1]: Invalid value: "9lives": {label}"#)],
        ),
        (
            json!({"status": {"acceptedNames": {"plural": "Widgets"}}}),
            vec![format!(r#"status.acceptedNames.plural: Invalid value: "Widgets": {label}"#)],
        ),
    ];
    for (patch, expected) in cases {
        assert_eq!(errors(with(&widgets(), patch.clone())), expected, "{patch}");
    }
}

#[test]
fn versions_are_checked() {
    let v1 = json!({"name": "v1", "served": true, "storage": true,
        "schema": {"openAPIV3Schema": {"type": "object"}}});
    let v2 = with(&v1, json!({"name": "v2"}));
    let versions = |list: Value| with(&widgets(), json!({"spec": {"versions": list}}));
    let storage_message = "must have exactly one version marked as storage version";
    assert_eq!(
        errors(versions(json!([]))),
        [
            format!("spec.versions: Invalid value: []string{{}}: {storage_message}"),
            "status.storedVersions: Invalid value: []string{}: must have at least one stored version"
                .to_string(),
        ]
    );
    // The first storage version is recorded as stored; the second is not.
    let two_storage = errors(versions(json!([v1, v2])));
    assert_eq!(two_storage.len(), 2, "{two_storage:?}");
    assert!(two_storage[0].starts_with("spec.versions: Invalid value: [{"));
    assert!(two_storage[0].ends_with(storage_message), "{two_storage:?}");
    assert!(
        two_storage[1].starts_with("status.storedVersions: Invalid value: {")
            && two_storage[1].ends_with("must have the storage version v2"),
        "{two_storage:?}"
    );
    let twice = errors(versions(json!([v1, with(&v1, json!({"storage": false}))])));
    assert_eq!(twice.len(), 1, "{twice:?}");
    assert!(
        twice[0].ends_with("must contain unique version names"),
        "{twice:?}"
    );
    assert_eq!(
        errors(versions(json!([with(&v1, json!({"name": "V1"}))]))),
        [
            r#"spec.versions[0].name: Invalid value: "V1": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#,
        ]
    );
    assert_eq!(
        errors(with_version(json!({"schema": null}))),
        ["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"]
    );
    assert_eq!(
        errors(with_version(json!({"deprecationWarning": "x".repeat(257)}))),
        ["spec.versions[0].deprecationWarning: Too long: may not be more than 256 bytes"]
    );
}

#[test]
fn scale_columns_and_selectable_fields_are_checked() {
    let scale = |scale: Value| with_version(json!({"subresources": {"scale": scale}}));
    let cases = [
        (
            scale(json!({"statusReplicasPath": ".status.replicas"})),
            vec!["spec.versions[0].subresources.scale.specReplicasPath: Required value".to_string()],
        ),
        (
            scale(json!({"specReplicasPath": ".status.replicas", "statusReplicasPath": "status.replicas",
                "labelSelectorPath": ".metadata.labels"})),
            vec![
                r#"spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec"#.to_string(),
                r#"spec.versions[0].subresources.scale.statusReplicasPath: Invalid value: "status.replicas": must be a simple json path starting with ."#.to_string(),
                r#"spec.versions[0].subresources.scale.labelSelectorPath: Invalid value: ".metadata.labels": should be a json path under either .spec or .status"#.to_string(),
            ],
        ),
        (
            with_version(json!({"additionalPrinterColumns": [
                {"type": "int", "format": "uuid", "jsonPath": "spec"},
                {"name": "Color"}]})),
            vec![
                "spec.versions[0].additionalPrinterColumns[0].name: Required value".to_string(),
                r#"spec.versions[0].additionalPrinterColumns[0].type: Invalid value: "int": must be one of boolean,date,integer,number,string"#.to_string(),
                r#"spec.versions[0].additionalPrinterColumns[0].format: Invalid value: "uuid": must be one of byte,date,date-time,double,float,int32,int64,password"#.to_string(),
                r#"spec.versions[0].additionalPrinterColumns[0].jsonPath: Invalid value: "spec": must be a simple json path starting with ."#.to_string(),
                "spec.versions[0].additionalPrinterColumns[1].type: Required value: must be one of boolean,date,integer,number,string".to_string(),
                "spec.versions[0].additionalPrinterColumns[1].jsonPath: Required value".to_string(),
            ],
        ),
        (
            with_version(json!({"selectableFields": [
                {"jsonPath": ".spec.color"}, {}, {"jsonPath": ".metadata.name"}, {"jsonPath": ".spec.color"}]})),
            vec![
                "spec.versions[0].selectableFields[1].jsonPath: Required value".to_string(),
                r#"spec.versions[0].selectableFields[2].jsonPath: Invalid value: ".metadata.name": must not point to fields in metadata"#.to_string(),
                r#"spec.versions[0].selectableFields[3].jsonPath: Duplicate value: ".spec.color""#.to_string(),
            ],
        ),
        (
            with_version(json!({"selectableFields": (0..9)
                .map(|i| json!({"jsonPath": format!(".spec.f{i}")}))
                .collect::<Vec<_>>()})),
            vec!["spec.versions[0].selectableFields: Too many: 9: must have at most 8 items".to_string()],
        ),
    ];
    for (object, expected) in cases {
        assert_eq!(errors(object.clone()), expected, "{object}");
    }
}

#[test]
fn conversion_is_none_or_refused() {
    let conversion = |c: Value| with(&widgets(), json!({"spec": {"conversion": c}}));
    let cases = [
        (
            json!({"strategy": "Webhook", "webhook": {"clientConfig": {"url": "https://conv.example.com"},
                "conversionReviewVersions": ["v1"]}}),
            vec![
                r#"spec.conversion.strategy: Invalid value: "Webhook": webhook conversion is not supported by keelson: use strategy None"#,
            ],
        ),
        (
            json!({"strategy": "Custom"}),
            vec![
                r#"spec.conversion.strategy: Unsupported value: "Custom": supported values: "None", "Webhook""#,
            ],
        ),
        (
            json!({"strategy": "None", "webhook": {"clientConfig": {"url": "https://conv.example.com"}}}),
            vec![
                "spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook",
            ],
        ),
    ];
    for (patch, expected) in cases {
        assert_eq!(errors(conversion(patch.clone())), expected, "{patch}");
    }
}

#[test]
fn updates_keep_scope_group_and_plural_and_stored_versions() {
    let old = defaulted(widgets());
    assert_eq!(
        update_errors(old.clone(), old.clone()),
        Vec::<String>::new()
    );
    let renamed = with(
        &old,
        json!({"spec": {"names": {"shortNames": ["w"], "categories": ["all"], "kind": "Gadget",
            "singular": "gadget", "listKind": "GadgetList"}}}),
    );
    assert_eq!(update_errors(old.clone(), renamed), Vec::<String>::new());
    assert_eq!(
        update_errors(
            old.clone(),
            with(&old, json!({"spec": {"scope": "Cluster"}}))
        ),
        [r#"spec.scope: Invalid value: "Cluster": field is immutable"#]
    );
    assert_eq!(
        update_errors(
            old.clone(),
            with(
                &old,
                json!({"spec": {"group": "example.org", "names": {"plural": "gadgets"}}})
            )
        ),
        [
            r#"spec.group: Invalid value: "example.org": field is immutable"#,
            r#"spec.names.plural: Invalid value: "gadgets": field is immutable"#,
        ]
    );
    let established = with(
        &old,
        json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}}),
    );
    assert_eq!(
        update_errors(
            established.clone(),
            with(
                &established,
                json!({"spec": {"names": {"kind": "Gadget", "listKind": null}}})
            )
        ),
        [r#"spec.names.kind: Invalid value: "Gadget": field is immutable"#]
    );
    let mut v2_only = old.clone();
    v2_only["spec"]["versions"][0]["name"] = json!("v2");
    assert_eq!(
        update_errors(old, v2_only),
        [r#"status.storedVersions[0]: Invalid value: "v1": must appear in spec.versions"#]
    );
}

#[test]
fn the_schemas_are_listed_for_the_structural_check() {
    let object = with_version(json!({"schema": {"openAPIV3Schema": {"type": "object",
        "properties": {"spec": {"type": "object"}}}}}));
    let schemas = openapi_schemas(&object);
    assert_eq!(schemas.len(), 1);
    assert_eq!(
        schemas[0].0.to_string(),
        "spec.versions[0].schema.openAPIV3Schema"
    );
    assert_eq!(
        schemas[0].1["properties"]["spec"],
        json!({"type": "object"})
    );
}
