//! What a definition's schema does to its objects, through the HTTP API:
//! pruning, defaults, validation with upstream's field paths, CEL rules
//! (a transition rule refusing an update), selectable fields, several
//! versions (the apiVersion rewritten, a deprecated one's warning), a
//! schema change applying to new writes; and the definitions refused when
//! written: a non-structural schema, a rule that does not compile, a
//! built-in resource defined again.

mod support;

use std::time::Duration;

use keelson_apiserver::testing::{Server, failure};
use serde_json::{Value, json};

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const GADGETS: &str = "/apis/shop.example.com/v1/namespaces/default/gadgets";

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["color"],
                "properties": {
                    "color": {"type": "string", "enum": ["red", "blue"]},
                    "size": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
                    "replicas": {"type": "integer"},
                    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}
                },
                "x-kubernetes-validations": [{
                    "rule": "!has(oldSelf.replicas) || !has(self.replicas) || self.replicas >= oldSelf.replicas",
                    "message": "replicas may not go down"
                }]
            }
        }
    })
}

fn definition(versions: Value) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.shop.example.com"},
        "spec": {
            "group": "shop.example.com",
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": versions
        }
    })
}

fn one_version() -> Value {
    json!([{
        "name": "v1", "served": true, "storage": true,
        "schema": {"openAPIV3Schema": schema()},
        "selectableFields": [{"jsonPath": ".spec.color"}]
    }])
}

/// Creates the definition and waits until its objects are served.
async fn install(server: &Server, definition: &Value) {
    let created = server.json("POST", CRDS, definition).await;
    assert_eq!(created.code, 201, "{}", created.body);
    for _ in 0..200 {
        if server.get(GADGETS).await.code == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the gadgets are not served within 5 s");
}

fn gadget(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "shop.example.com/v1", "kind": "Gadget", "metadata": {"name": name}, "spec": spec})
}

#[tokio::test]
async fn the_schema_prunes_defaults_and_validates() {
    let server = support::embedded().await;
    install(&server, &definition(one_version())).await;

    // Unknown fields are pruned (and refused when asked to be strict);
    // defaults are filled.
    let body = gadget("a", json!({"color": "red", "unknown": 1}));
    let created = server.json("POST", GADGETS, &body).await;
    assert_eq!(created.code, 201, "{}", created.body);
    assert_eq!(created.body["spec"], json!({"color": "red", "size": 3}));
    let strict = server
        .json(
            "POST",
            &format!("{GADGETS}?fieldValidation=Strict"),
            &gadget("b", json!({"color": "red", "unknown": 1})),
        )
        .await;
    assert!(
        failure(&strict, 400)["message"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown field \"spec.unknown\""),
        "{}",
        strict.body
    );

    // Values against the schema, each at its path.
    let bad = gadget(
        "c",
        json!({"color": "green", "size": 11, "tags": ["x", "y", "z"]}),
    );
    let refused = server.json("POST", GADGETS, &bad).await;
    let status = failure(&refused, 422);
    let fields: Vec<&str> = status["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert!(fields.contains(&"spec.color"), "{status}");
    assert!(fields.contains(&"spec.size"), "{status}");
    assert!(fields.contains(&"spec.tags"), "{status}");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Unsupported value: \"green\""),
        "{message}"
    );
    let missing = server
        .json("POST", GADGETS, &gadget("d", json!({"size": 2})))
        .await;
    assert!(
        failure(&missing, 422)["message"]
            .as_str()
            .unwrap_or_default()
            .contains("spec.color: Required value"),
        "{}",
        missing.body
    );

    // A transition rule refuses an update, not the create.
    let path = format!("{GADGETS}/a");
    let up = json!({"spec": {"replicas": 5}});
    let patched = server
        .raw(
            "PATCH",
            &path,
            "application/merge-patch+json",
            serde_json::to_vec(&up).unwrap(),
        )
        .await;
    assert_eq!(patched.code, 200, "{}", patched.body);
    let down = json!({"spec": {"replicas": 1}});
    let refused = server
        .raw(
            "PATCH",
            &path,
            "application/merge-patch+json",
            serde_json::to_vec(&down).unwrap(),
        )
        .await;
    let status = failure(&refused, 422);
    assert_eq!(status["details"]["causes"][0]["field"], "spec", "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("replicas may not go down"),
        "{status}"
    );

    // Selectable fields.
    let blue = server
        .json("POST", GADGETS, &gadget("e", json!({"color": "blue"})))
        .await;
    assert_eq!(blue.code, 201, "{}", blue.body);
    let selected = server
        .get(&format!("{GADGETS}?fieldSelector=spec.color%3Dblue"))
        .await;
    let names: Vec<&str> = selected.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["e"], "{}", selected.body);
    let unknown = server
        .get(&format!("{GADGETS}?fieldSelector=spec.size%3D3"))
        .await;
    assert_eq!(unknown.code, 400, "{}", unknown.body);
}

#[tokio::test]
async fn versions_share_objects_and_a_schema_change_applies_to_new_writes() {
    let server = support::embedded().await;
    let versions = json!([
        {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": schema()}},
        {"name": "v1beta1", "served": true, "storage": false, "deprecated": true,
         "schema": {"openAPIV3Schema": schema()}}
    ]);
    install(&server, &definition(versions)).await;
    let created = server
        .json("POST", GADGETS, &gadget("a", json!({"color": "red"})))
        .await;
    assert_eq!(created.code, 201, "{}", created.body);
    let old = "/apis/shop.example.com/v1beta1/namespaces/default/gadgets/a";
    let mut read = server.get(old).await;
    for _ in 0..100 {
        if read.code == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        read = server.get(old).await;
    }
    assert_eq!(read.code, 200, "{}", read.body);
    assert_eq!(read.body["apiVersion"], "shop.example.com/v1beta1");
    assert_eq!(read.body["spec"]["color"], "red");
    let warning = read
        .headers
        .get("warning")
        .and_then(|w| w.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        warning.contains("shop.example.com/v1beta1 Gadget is deprecated"),
        "{warning}"
    );

    // A new schema: blue is no longer a color; new writes follow it.
    let path = format!("{CRDS}/gadgets.shop.example.com");
    let mut current = server.get(&path).await.body;
    current["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        ["color"]["enum"] = json!(["red"]);
    let updated = server.json("PUT", &path, &current).await;
    assert_eq!(updated.code, 200, "{}", updated.body);
    let mut refused = server
        .json("POST", GADGETS, &gadget("b", json!({"color": "blue"})))
        .await;
    for _ in 0..100 {
        if refused.code == 422 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        let _ = server
            .raw(
                "DELETE",
                &format!("{GADGETS}/b"),
                "application/json",
                Vec::new(),
            )
            .await;
        refused = server
            .json("POST", GADGETS, &gadget("b", json!({"color": "blue"})))
            .await;
    }
    assert_eq!(refused.code, 422, "{}", refused.body);
}

/// A definition of gadgets in a group of their own (the custom kinds of
/// every server in a process are served by each, from its own store).
fn refused_definition(versions: Value) -> Value {
    let mut definition = definition(versions);
    definition["metadata"]["name"] = json!("gadgets.refused.example.com");
    definition["spec"]["group"] = json!("refused.example.com");
    definition
}

#[tokio::test]
async fn bad_definitions_are_refused_whole() {
    let server = support::embedded().await;
    // No type: not structural.
    let mut untyped = schema();
    untyped["properties"]["spec"]["properties"]["size"] = json!({"minimum": 1});
    let versions = json!([{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": untyped}}]);
    let refused = server
        .json("POST", CRDS, &refused_definition(versions))
        .await;
    let status = failure(&refused, 422);
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].type",
        "{status}"
    );
    // A rule that does not compile.
    let mut broken = schema();
    broken["properties"]["spec"]["x-kubernetes-validations"] = json!([{"rule": "self.size >"}]);
    let versions = json!([{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": broken}}]);
    let refused = server
        .json("POST", CRDS, &refused_definition(versions))
        .await;
    let status = failure(&refused, 422);
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("x-kubernetes-validations[0].rule"),
        "{message}"
    );
    assert!(message.contains("compilation failed"), "{message}");
    // A built-in resource defined again.
    let mut classes = definition(one_version());
    classes["metadata"]["name"] = json!("storageclasses.storage.k8s.io");
    classes["metadata"]["annotations"] =
        json!({"api-approved.kubernetes.io": "https://github.com/kubernetes/kubernetes/pull/1"});
    classes["spec"]["group"] = json!("storage.k8s.io");
    classes["spec"]["names"] =
        json!({"plural": "storageclasses", "singular": "storageclass", "kind": "StorageClass"});
    let refused = server.json("POST", CRDS, &classes).await;
    assert!(
        failure(&refused, 422)["message"]
            .as_str()
            .unwrap_or_default()
            .contains("built into the server"),
        "{}",
        refused.body
    );
    // Nothing of them is stored or served.
    let list = server.get(CRDS).await;
    assert_eq!(list.body["items"], json!([]), "{}", list.body);
    let path = "/apis/refused.example.com/v1/namespaces/default/gadgets";
    assert_eq!(server.get(path).await.code, 404);
}

#[tokio::test]
async fn every_server_on_the_store_serves_the_definition() {
    let first = support::embedded().await;
    let second = first.beside(keelson_apiserver::Config::default()).await;
    let mut definition = definition(one_version());
    definition["metadata"]["name"] = json!("gadgets.shared.example.com");
    definition["spec"]["group"] = json!("shared.example.com");
    let created = first.json("POST", CRDS, &definition).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let path = "/apis/shared.example.com/v1/namespaces/default/gadgets";
    let mut body = gadget("made-on-the-second", json!({"color": "red"}));
    body["apiVersion"] = json!("shared.example.com/v1");
    let mut written = second.json("POST", path, &body).await;
    for _ in 0..200 {
        if written.code == 201 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        written = second.json("POST", path, &body).await;
    }
    assert_eq!(written.code, 201, "{}", written.body);
    let read = first.get(&format!("{path}/made-on-the-second")).await;
    assert_eq!(read.code, 200, "{}", read.body);
    assert_eq!(
        read.body["spec"]["size"], 3,
        "defaulted by the second server"
    );
}

#[tokio::test]
async fn server_side_apply_merges_lists_as_the_schema_says() {
    let server = support::embedded().await;
    let mut schema = schema();
    schema["properties"]["spec"]["properties"]["ports"] = json!({
        "type": "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        "items": {"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}
    });
    schema["properties"]["spec"]["properties"]["tags"]["x-kubernetes-list-type"] = json!("set");
    let mut definition = definition(json!([{
        "name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": schema}
    }]));
    definition["metadata"]["name"] = json!("gadgets.apply.example.com");
    definition["spec"]["group"] = json!("apply.example.com");
    let created = server.json("POST", CRDS, &definition).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let path = "/apis/apply.example.com/v1/namespaces/default/gadgets/merged";
    let apply = |manager: &str, spec: Value| {
        let body = json!({"apiVersion": "apply.example.com/v1", "kind": "Gadget",
            "metadata": {"name": "merged"}, "spec": spec});
        let uri = format!("{path}?fieldManager={manager}");
        let server = &server;
        async move {
            server
                .raw(
                    "PATCH",
                    &uri,
                    "application/apply-patch+yaml",
                    serde_json::to_vec(&body).unwrap(),
                )
                .await
        }
    };
    let mut first = apply(
        "one",
        json!({"color": "red", "ports": [{"name": "http", "port": 80}], "tags": ["a"]}),
    )
    .await;
    for _ in 0..200 {
        if first.code != 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        first = apply(
            "one",
            json!({"color": "red", "ports": [{"name": "http", "port": 80}], "tags": ["a"]}),
        )
        .await;
    }
    assert_eq!(first.code, 201, "{}", first.body);
    let second = apply(
        "two",
        json!({"ports": [{"name": "https", "port": 443}], "tags": ["b"]}),
    )
    .await;
    assert_eq!(second.code, 200, "{}", second.body);
    let ports: Vec<&str> = second.body["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(ports, ["http", "https"], "{}", second.body);
    assert_eq!(
        second.body["spec"]["tags"],
        json!(["a", "b"]),
        "{}",
        second.body
    );
    // The first manager gives up its port: only its own entry goes.
    let third = apply("one", json!({"color": "red", "tags": ["a"]})).await;
    assert_eq!(third.code, 200, "{}", third.body);
    assert_eq!(
        third.body["spec"]["ports"],
        json!([{"name": "https", "port": 443}]),
        "{}",
        third.body
    );
}

#[tokio::test]
async fn cluster_scoped_kinds_dry_runs_and_oversized_objects() {
    let server = support::embedded().await;
    let mut definition = definition(one_version());
    definition["metadata"]["name"] = json!("gadgets.cluster.example.com");
    definition["spec"]["group"] = json!("cluster.example.com");
    definition["spec"]["scope"] = json!("Cluster");
    let created = server.json("POST", CRDS, &definition).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let path = "/apis/cluster.example.com/v1/gadgets";
    let mut body = gadget("global", json!({"color": "red"}));
    body["apiVersion"] = json!("cluster.example.com/v1");
    let mut made = server
        .json("POST", &format!("{path}?dryRun=All"), &body)
        .await;
    for _ in 0..200 {
        if made.code != 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        made = server
            .json("POST", &format!("{path}?dryRun=All"), &body)
            .await;
    }
    // A dry run answers with the object as it would be, and keeps nothing.
    assert_eq!(made.code, 201, "{}", made.body);
    assert_eq!(made.body["spec"]["size"], 3);
    assert_eq!(server.get(&format!("{path}/global")).await.code, 404);
    let made = server.json("POST", path, &body).await;
    assert_eq!(made.code, 201, "{}", made.body);
    assert!(
        made.body["metadata"].get("namespace").is_none(),
        "{}",
        made.body
    );
    // Not under a namespace.
    let namespaced = "/apis/cluster.example.com/v1/namespaces/default/gadgets";
    assert_eq!(server.get(namespaced).await.code, 404);
    // Far over the size limit: refused, nothing stored.
    let mut huge = gadget("huge", json!({"color": "red"}));
    huge["apiVersion"] = json!("cluster.example.com/v1");
    huge["metadata"]["annotations"] = json!({"filler": "x".repeat(4 * 1024 * 1024)});
    let refused = server.json("POST", path, &huge).await;
    assert_eq!(refused.code, 413, "{}", refused.body);
    assert_eq!(server.get(&format!("{path}/huge")).await.code, 404);
}
