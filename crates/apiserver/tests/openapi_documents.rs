//! The OpenAPI v3 documents, checked the way kubectl reads them.

use keelson_api::registry;
use keelson_apiserver::openapi::{PATCH_CONTENT_TYPES, v3_document, v3_hash, v3_index};
use serde_json::{Value, json};

fn document(group: &str, version: &str) -> Value {
    let bytes = v3_document(group, version).expect("a served group-version");
    serde_json::from_slice(&bytes).expect("valid JSON")
}

fn schemas(doc: &Value) -> &serde_json::Map<String, Value> {
    doc["components"]["schemas"]
        .as_object()
        .expect("components.schemas")
}

/// kubectl's `resolve`: the first `allOf`, then the `$ref`.
fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    if let Some(first) = schema["allOf"].get(0) {
        schema = first;
    }
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("local ref");
            &schemas(doc)[name]
        }
        None => schema,
    }
}

/// The schema of the component whose `x-kubernetes-group-version-kind`
/// list names the kind, as kubectl finds it.
fn kind_schema<'a>(doc: &'a Value, group: &str, version: &str, kind: &str) -> &'a Value {
    let wanted = json!({ "group": group, "version": version, "kind": kind });
    let matches: Vec<&Value> = schemas(doc)
        .values()
        .filter(|s| {
            s["x-kubernetes-group-version-kind"]
                .as_array()
                .is_some_and(|kinds| kinds.contains(&wanted))
        })
        .collect();
    assert_eq!(matches.len(), 1, "one schema for {kind}");
    matches[0]
}

/// kubectl's strategic-merge lookup over an object: every key whose value
/// is an object or a list must be a property of the schema.
fn walk(doc: &Value, schema: &Value, object: &Value, path: &str) {
    let Some(fields) = object.as_object() else {
        return;
    };
    for (key, value) in fields {
        if !(value.is_object() || value.is_array()) {
            continue;
        }
        let property = schema["properties"]
            .get(key)
            .unwrap_or_else(|| panic!("unable to find api field {path}.{key}"));
        let resolved = resolve(doc, property);
        match value {
            Value::Array(items) => {
                let item_schema = resolve(doc, &resolved["items"]);
                for item in items {
                    walk(doc, item_schema, item, &format!("{path}.{key}[]"));
                }
            }
            _ => walk(doc, resolved, value, &format!("{path}.{key}")),
        }
    }
}

#[test]
fn index_points_at_every_group_version_with_its_hash() {
    let index = v3_index();
    let paths = index["paths"].as_object().expect("paths");
    for (group, version) in registry::group_versions() {
        let key = if group.is_empty() {
            format!("api/{version}")
        } else {
            format!("apis/{group}/{version}")
        };
        let hash = v3_hash(group, version).expect("hash");
        assert_eq!(
            paths[&key]["serverRelativeURL"],
            format!("/openapi/v3/{key}?hash={hash}")
        );
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    }
    assert!(v3_document("apps", "v1beta1").is_none());
    assert_eq!(v3_index(), index, "stable across calls");
}

#[test]
fn deployment_schema_carries_its_kind_and_container_merge_keys() {
    let doc = document("apps", "v1");
    assert_eq!(doc["openapi"], "3.0.0");
    let deployment = &schemas(&doc)["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(
        deployment["x-kubernetes-group-version-kind"],
        json!([{ "group": "apps", "kind": "Deployment", "version": "v1" }])
    );
    let pod_spec = &schemas(&doc)["io.k8s.api.core.v1.PodSpec"];
    let containers = &pod_spec["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-list-type"], "map");
    assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    let volumes = &pod_spec["properties"]["volumes"];
    assert_eq!(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");
    assert_eq!(
        pod_spec["properties"]["nodeSelector"]["x-kubernetes-map-type"],
        "atomic"
    );
    let selector = &schemas(&doc)["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"];
    assert_eq!(selector["x-kubernetes-map-type"], "atomic");
    let list = &schemas(&doc)["io.k8s.api.apps.v1.DeploymentList"];
    assert_eq!(
        list["x-kubernetes-group-version-kind"],
        json!([{ "group": "apps", "kind": "DeploymentList", "version": "v1" }])
    );
}

#[test]
fn scalars_look_like_upstream() {
    let doc = document("", "v1");
    let s = schemas(&doc);
    let int_or_string = &s["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(int_or_string["x-kubernetes-int-or-string"], true);
    assert_eq!(int_or_string["format"], "int-or-string");
    let quantity = &s["io.k8s.apimachinery.pkg.api.resource.Quantity"];
    assert!(
        quantity["oneOf"]
            .as_array()
            .expect("oneOf")
            .contains(&json!({ "type": "string" }))
    );
    let time = &s["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
    assert_eq!(
        (&time["type"], &time["format"]),
        (&json!("string"), &json!("date-time"))
    );
}

#[test]
fn deployment_patch_operation_is_what_kubectl_looks_for() {
    let doc = document("apps", "v1");
    let wanted = json!({ "group": "apps", "kind": "Deployment", "version": "v1" });
    let item = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    let patch = &item["patch"];
    assert_eq!(patch["x-kubernetes-group-version-kind"], wanted);
    assert_eq!(patch["x-kubernetes-action"], "patch");
    assert_eq!(patch["operationId"], "patchAppsV1NamespacedDeployment");
    let content: Vec<&String> = patch["requestBody"]["content"]
        .as_object()
        .expect("content")
        .keys()
        .collect();
    for content_type in PATCH_CONTENT_TYPES {
        assert!(
            content.iter().any(|c| c == content_type),
            "{content_type} missing"
        );
    }
    let query: Vec<&str> = patch["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        query,
        ["dryRun", "fieldManager", "fieldValidation", "force"]
    );
    for verb in ["get", "put", "delete"] {
        assert_eq!(
            item[verb]["x-kubernetes-group-version-kind"], wanted,
            "{verb}"
        );
    }
    let create = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["post"];
    assert_eq!(create["x-kubernetes-action"], "post");
    assert!(
        create["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
    let scale =
        &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"];
    assert_eq!(
        scale["x-kubernetes-group-version-kind"],
        json!({ "group": "autoscaling", "kind": "Scale", "version": "v1" })
    );
    assert!(doc["paths"]["/apis/apps/v1/deployments"]["get"].is_object());
    let nodes = &document("", "v1")["paths"]["/api/v1/nodes/{name}"];
    assert_eq!(nodes["patch"]["operationId"], "patchCoreV1Node");
}

#[test]
fn every_ref_resolves_and_every_kind_is_findable() {
    for (group, version) in registry::group_versions() {
        let doc = document(group, version);
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"").skip(1) {
            let reference = &piece[..piece.find('"').expect("closing quote")];
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{reference} is not a component"));
            assert!(
                schemas(&doc).contains_key(name),
                "{group}/{version}: {reference} dangles"
            );
        }
        for resource in registry::resources_in(group, version) {
            let schema = kind_schema(&doc, group, version, resource.kind);
            assert!(
                schema["properties"]["metadata"].is_object(),
                "{}",
                resource.kind
            );
            let patches = doc["paths"]
                .as_object()
                .expect("paths")
                .values()
                .filter(|p| {
                    p["patch"]["x-kubernetes-group-version-kind"]
                        == json!({ "group": group, "kind": resource.kind, "version": version })
                })
                .count();
            assert!(patches >= 1, "no PATCH operation for {}", resource.kind);
        }
    }
}

#[test]
fn list_semantics_land_on_array_properties() {
    for (group, version) in registry::group_versions() {
        let doc = document(group, version);
        for field in keelson_api::list_types::all_list_fields() {
            let Some(schema) = schemas(&doc).get(field.definition) else {
                continue;
            };
            let property = &schema["properties"][field.field];
            assert_eq!(
                property["type"], "array",
                "{}.{}",
                field.definition, field.field
            );
            assert_eq!(property["x-kubernetes-list-type"], field.list_type.as_str());
        }
    }
}

#[test]
fn a_realistic_deployment_walks_the_schema_like_kubectl_apply() {
    let doc = document("apps", "v1");
    let manifest = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web", "namespace": "default", "labels": { "app": "web" },
            "annotations": { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
            "ownerReferences": [{ "apiVersion": "v1", "kind": "X", "name": "x", "uid": "u" }],
        },
        "spec": {
            "replicas": 3,
            "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": 1 } },
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": {
                    "containers": [{
                        "name": "nginx", "image": "nginx:1.27",
                        "ports": [{ "containerPort": 80, "protocol": "TCP" }],
                        "env": [{ "name": "A", "valueFrom": { "fieldRef": { "fieldPath": "metadata.name" } } }],
                        "resources": { "limits": { "cpu": "500m", "memory": "128Mi" } },
                        "readinessProbe": { "httpGet": { "path": "/", "port": 80 } },
                        "volumeMounts": [{ "name": "data", "mountPath": "/data" }],
                    }],
                    "volumes": [{ "name": "data", "emptyDir": {} }],
                    "tolerations": [{ "key": "k", "operator": "Exists" }],
                    "affinity": { "podAntiAffinity": { "preferredDuringSchedulingIgnoredDuringExecution": [
                        { "weight": 1, "podAffinityTerm": { "topologyKey": "kubernetes.io/hostname",
                          "labelSelector": { "matchExpressions": [{ "key": "app", "operator": "In", "values": ["web"] }] } } }
                    ] } },
                },
            },
        },
        "status": { "conditions": [{ "type": "Available", "status": "True" }] },
    });
    let schema = kind_schema(&doc, "apps", "v1", "Deployment");
    walk(&doc, schema, &manifest, "");
}
