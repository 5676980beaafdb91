//! CustomResourceDefinitions through the HTTP API: created, read, listed
//! and shown in discovery and tables like any built-in kind, defaulted as
//! upstream defaults them, and refused with a 422 naming the field when
//! invalid; a protobuf body of one is a 415 (they are read from JSON and
//! YAML only).

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{Value, json};
use support::failure;

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

fn widgets() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer", "default": 3}}},
                }}},
            }],
        },
    })
}

#[tokio::test]
async fn a_definition_is_created_read_and_listed() {
    let server = support::embedded().await;
    let created = server.json("POST", CRDS, &widgets()).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let got = server.get(&format!("{CRDS}/widgets.example.com")).await;
    assert_eq!(got.code, 200, "{}", got.body);
    let crd = &got.body;
    assert_eq!(crd["metadata"]["generation"], 1);
    assert_eq!(crd["spec"]["names"]["singular"], "widget");
    assert_eq!(crd["spec"]["names"]["listKind"], "WidgetList");
    assert_eq!(crd["spec"]["conversion"], json!({"strategy": "None"}));
    assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    assert_eq!(
        schema["properties"]["spec"]["properties"]["size"]["default"],
        3
    );

    let list = server.get(CRDS).await;
    assert_eq!(list.code, 200, "{}", list.body);
    assert_eq!(list.body["kind"], "CustomResourceDefinitionList");
    assert_eq!(
        list.body["items"][0]["metadata"]["name"],
        "widgets.example.com"
    );
}

#[tokio::test]
async fn main_writes_keep_the_status_and_bump_the_generation() {
    let server = support::embedded().await;
    let path = format!("{CRDS}/widgets.example.com");
    assert_eq!(server.json("POST", CRDS, &widgets()).await.code, 201);
    let accepted = json!({"status": {"acceptedNames": {"plural": "widgets", "kind": "Widget"}}});
    let status = server
        .raw(
            "PATCH",
            &format!("{path}/status"),
            "application/merge-patch+json",
            serde_json::to_vec(&accepted).unwrap(),
        )
        .await;
    assert_eq!(status.code, 200, "{}", status.body);
    let patch = json!({"spec": {"names": {"shortNames": ["wd"]}}, "status": null});
    let patched = server
        .raw(
            "PATCH",
            &path,
            "application/merge-patch+json",
            serde_json::to_vec(&patch).unwrap(),
        )
        .await;
    assert_eq!(patched.code, 200, "{}", patched.body);
    assert_eq!(patched.body["metadata"]["generation"], 2);
    assert_eq!(patched.body["status"]["acceptedNames"]["kind"], "Widget");
    assert_eq!(patched.body["status"]["storedVersions"], json!(["v1"]));
}

#[tokio::test]
async fn an_invalid_definition_is_a_422_naming_its_fields() {
    let server = support::embedded().await;
    let mut bad = widgets();
    bad["metadata"]["name"] = json!("gadgets.example.com");
    bad["spec"]["scope"] = json!("Global");
    bad["spec"]["versions"][0]["storage"] = json!(false);
    let answer = server.json("POST", CRDS, &bad).await;
    let status = failure(&answer, 422);
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(status["details"]["group"], "apiextensions.k8s.io");
    assert_eq!(status["details"]["kind"], "CustomResourceDefinition");
    let fields: Vec<&str> = status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "metadata.name",
            "spec.scope",
            "spec.versions",
            "status.storedVersions"
        ],
        "{status}"
    );
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "CustomResourceDefinition.apiextensions.k8s.io \"gadgets.example.com\" is invalid"
        ),
        "{message}"
    );

    assert_eq!(server.json("POST", CRDS, &widgets()).await.code, 201);
    let path = format!("{CRDS}/widgets.example.com");
    let scope = json!({"spec": {"scope": "Cluster"}});
    let answer = server
        .raw(
            "PATCH",
            &path,
            "application/merge-patch+json",
            serde_json::to_vec(&scope).unwrap(),
        )
        .await;
    let status = failure(&answer, 422);
    assert_eq!(
        status["details"]["causes"][0]["field"], "spec.scope",
        "{status}"
    );
    assert_eq!(
        status["details"]["causes"][0]["message"],
        "Invalid value: \"Cluster\": field is immutable"
    );
}

#[tokio::test]
async fn discovery_and_tables_show_definitions() {
    let server = support::embedded().await;
    let group = server.get("/apis/apiextensions.k8s.io/v1").await;
    assert_eq!(group.code, 200, "{}", group.body);
    let resources = group.body["resources"].as_array().unwrap();
    let crds = resources
        .iter()
        .find(|r| r["name"] == "customresourcedefinitions")
        .unwrap();
    assert_eq!(crds["namespaced"], false);
    assert_eq!(crds["kind"], "CustomResourceDefinition");
    assert_eq!(crds["shortNames"], json!(["crd", "crds"]));
    assert!(
        resources
            .iter()
            .any(|r| r["name"] == "customresourcedefinitions/status")
    );
    let groups = server.get("/apis").await;
    let names: Vec<&str> = groups.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"apiextensions.k8s.io"), "{names:?}");
    let api_service = server
        .get("/apis/apiregistration.k8s.io/v1/apiservices/v1.apiextensions.k8s.io")
        .await;
    assert_eq!(api_service.code, 200, "{}", api_service.body);

    assert_eq!(server.json("POST", CRDS, &widgets()).await.code, 201);
    let table = server
        .raw_accept(
            "GET",
            CRDS,
            "application/json;as=Table;v=v1;g=meta.k8s.io",
            Vec::new(),
        )
        .await;
    assert_eq!(table.code, 200, "{}", table.body);
    let columns: Vec<&str> = table.body["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["Name", "Created At"]);
    assert_eq!(table.body["rows"][0]["cells"][0], "widgets.example.com");
}

/// A schema using what k8s-openapi's types describe loosely (any JSON for
/// `default`, `enum` and `example`; a schema or a boolean for
/// `additionalProperties`; zeros that are values) is stored as sent.
#[tokio::test]
async fn schemas_are_stored_as_sent() {
    let server = support::embedded().await;
    let schema = json!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
        "properties": {
            "spec": {
                "type": "object",
                "required": ["size"],
                "properties": {
                    "size": {"type": "integer", "minimum": 0, "maximum": 10, "default": 0},
                    "color": {"type": "string", "enum": ["red", "blue"], "example": "red"},
                    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "extra": {"type": "object", "additionalProperties": true},
                    "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "default": {"a": [1, "b", null]}},
                    "port": {"x-kubernetes-int-or-string": true},
                },
                "x-kubernetes-validations": [{"rule": "self.size <= 10", "message": "too big"}],
            },
        },
    });
    let mut crd = widgets();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = schema.clone();
    let created = server.json("POST", CRDS, &crd).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let got = server.get(&format!("{CRDS}/widgets.example.com")).await;
    assert_eq!(
        got.body["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
        schema
    );
}

/// The protobuf form of a definition is refused with a 415 that says to
/// send JSON, not read into a schema other than the one sent.
#[tokio::test]
async fn a_protobuf_definition_is_unsupported() {
    use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
    use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
    use prost::Message;
    let server = support::embedded().await;
    let crd = ext::CustomResourceDefinition {
        spec: Some(ext::CustomResourceDefinitionSpec {
            group: Some("example.com".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some("apiextensions.k8s.io/v1".into()),
            kind: Some("CustomResourceDefinition".into()),
        }),
        raw: Some(crd.encode_to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let body = [b"k8s\0".as_slice(), &unknown.encode_to_vec()].concat();
    let answer = server
        .raw("POST", CRDS, "application/vnd.kubernetes.protobuf", body)
        .await;
    let status = failure(&answer, 415);
    assert_eq!(status["reason"], "UnsupportedMediaType", "{status}");
    let message = status["message"].as_str().unwrap();
    assert!(message.contains("application/json"), "{message}");
    assert!(
        server.get(CRDS).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
