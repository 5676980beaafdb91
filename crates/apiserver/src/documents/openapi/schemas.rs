//! The `components.schemas` of one group-version: k8s-openapi's `schemars`
//! schemas (already keyed by upstream's definition names, with `$ref`s
//! under `#/components/schemas/`), plus what upstream's documents carry and
//! k8s-openapi's schemas do not: the group-version-kind of each kind, the
//! list semantics of [`keelson_api::list_types`], the list kinds, and
//! upstream's forms of `IntOrString` and `Quantity`.

use k8s_openapi::schemars::generate::SchemaSettings;
use keelson_api::list_types;
use keelson_api::registry::ResourceInfo;
use serde_json::{Map, Value, json};

/// Where `$ref`s point.
pub(super) const REF_PREFIX: &str = "#/components/schemas/";

pub(super) const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
pub(super) const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
pub(super) const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
pub(super) const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
/// The apiextensions types that hold any JSON (a schema's `default`,
/// `enum`, `example`) or one of two shapes (`items`, `additionalProperties`,
/// `dependencies`): upstream publishes them with no type at all, where
/// k8s-openapi's schemas say `object` or list the shapes.
const ANY_JSON: &[&str] = &[
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
];

/// The `$ref` object pointing at `definition`.
pub(super) fn reference(definition: &str) -> Value {
    json!({ "$ref": format!("{REF_PREFIX}{definition}") })
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({ "group": group, "kind": kind, "version": version })
}

/// The schemas of `resources` (one group-version) and of everything they
/// refer to, with upstream's extensions.
pub(super) fn components(
    group: &str,
    version: &str,
    resources: &[&ResourceInfo],
) -> Map<String, Value> {
    let mut generator = SchemaSettings::openapi3()
        .with(|settings| settings.meta_schema = None)
        .into_generator();
    let mut wanted = vec![STATUS, DELETE_OPTIONS, PATCH, LIST_META];
    if resources.iter().any(|r| r.subresource("scale").is_some()) {
        wanted.push(SCALE);
    }
    let custom: Vec<(&ResourceInfo, &Value)> = resources
        .iter()
        .filter_map(|r| r.strategy.openapi_schema().map(|schema| (*r, schema)))
        .collect();
    if !custom.is_empty() {
        wanted.push(OBJECT_META);
    }
    wanted.extend(
        resources
            .iter()
            .filter(|r| r.strategy.openapi_schema().is_none())
            .map(|r| r.definition),
    );
    for definition in wanted {
        let known = keelson_api::schemas::add_definition(&mut generator, definition);
        debug_assert!(known, "no schema for {definition}");
    }
    let mut schemas = generator.take_definitions(true);
    for (resource, schema) in custom {
        schemas.insert(resource.definition.to_string(), custom_schema(schema));
    }
    for resource in resources {
        if let Some(Value::Object(schema)) = schemas.get_mut(resource.definition) {
            schema.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([gvk(group, version, resource.kind)]),
            );
        }
        schemas.insert(list_definition(resource), list_schema(resource));
    }
    add_meta_kinds(&mut schemas, group, version);
    for (name, schema) in schemas.iter_mut() {
        add_list_semantics(name, schema);
    }
    override_scalars(&mut schemas);
    schemas
}

/// A custom resource's schema as its group-version's document publishes
/// it: the definition's schema, with `apiVersion`, `kind` and `metadata`
/// (upstream's ObjectMeta) as every kind has them.
fn custom_schema(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if !schema.is_object() {
        schema = json!({"type": "object"});
    }
    let properties = schema
        .as_object_mut()
        .expect("an object")
        .entry("properties")
        .or_insert_with(|| json!({}));
    if let Some(properties) = properties.as_object_mut() {
        properties.insert(
            "apiVersion".into(),
            json!({"description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources", "type": "string"}),
        );
        properties.insert(
            "kind".into(),
            json!({"description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds", "type": "string"}),
        );
        properties.insert(
            "metadata".into(),
            json!({"description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", "allOf": [reference(OBJECT_META)]}),
        );
    }
    schema
}

/// `io.k8s.api.apps.v1.DeploymentList`.
pub(super) fn list_definition(resource: &ResourceInfo) -> String {
    format!("{}List", resource.definition)
}

/// The schema of a resource's list kind (k8s-openapi has no schema for
/// its generic `List`).
fn list_schema(resource: &ResourceInfo) -> Value {
    json!({
        "description": format!("{} is a list of {}.", resource.list_kind, resource.kind),
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
                "type": "string",
            },
            "items": {
                "description": format!("List of {}.", resource.plural),
                "type": "array",
                "items": reference(resource.definition),
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                "type": "string",
            },
            "metadata": {
                "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                "allOf": [reference(LIST_META)],
            },
        },
        "required": ["items"],
        "x-kubernetes-group-version-kind": [gvk(resource.group, resource.version, resource.list_kind)],
    })
}

/// The kinds of the meta types, as upstream lists them in every document.
fn add_meta_kinds(schemas: &mut Map<String, Value>, group: &str, version: &str) {
    let mut delete_kinds = vec![gvk("", "v1", "DeleteOptions")];
    if !group.is_empty() {
        delete_kinds.push(gvk(group, version, "DeleteOptions"));
    }
    let kinds = [
        (STATUS, vec![gvk("", "v1", "Status")]),
        (DELETE_OPTIONS, delete_kinds),
        (SCALE, vec![gvk("autoscaling", "v1", "Scale")]),
    ];
    for (definition, kinds) in kinds {
        if let Some(Value::Object(schema)) = schemas.get_mut(definition) {
            schema.insert("x-kubernetes-group-version-kind".into(), json!(kinds));
        }
    }
}

/// Publishes the list types, map keys, patch strategies and merge keys of
/// [`list_types`] on the fields of `definition`, and its atomic maps and
/// atomic struct type.
fn add_list_semantics(definition: &str, schema: &mut Value) {
    if list_types::is_atomic_struct(definition)
        && let Some(object) = schema.as_object_mut()
    {
        object.insert("x-kubernetes-map-type".into(), json!("atomic"));
    }
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    for (field, property) in properties.iter_mut() {
        let Some(property) = property.as_object_mut() else {
            continue;
        };
        if list_types::is_atomic_map(definition, field) {
            property.insert("x-kubernetes-map-type".into(), json!("atomic"));
        }
        if let Some(strategy) = list_types::struct_field_strategy(definition, field) {
            property.insert(
                "x-kubernetes-patch-strategy".into(),
                json!(strategy.as_str()),
            );
        }
        let Some(list) = list_types::list_field(definition, field) else {
            continue;
        };
        property.insert(
            "x-kubernetes-list-type".into(),
            json!(list.list_type.as_str()),
        );
        if !list.map_keys.is_empty() {
            property.insert("x-kubernetes-list-map-keys".into(), json!(list.map_keys));
        }
        if let Some(strategy) = list.patch_strategy {
            property.insert(
                "x-kubernetes-patch-strategy".into(),
                json!(strategy.as_str()),
            );
        }
        if let Some(key) = list.patch_merge_key {
            property.insert("x-kubernetes-patch-merge-key".into(), json!(key));
        }
    }
}

/// Upstream's OpenAPI v3 forms of the two scalar types that take more than
/// one JSON type.
fn override_scalars(schemas: &mut Map<String, Value>) {
    let description = |schemas: &Map<String, Value>, name: &str| {
        schemas
            .get(name)
            .and_then(|s| s.get("description"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    if schemas.contains_key(INT_OR_STRING) {
        let schema = json!({
            "description": description(schemas, INT_OR_STRING),
            "format": "int-or-string",
            "oneOf": [{ "type": "integer" }, { "type": "string" }],
            "x-kubernetes-int-or-string": true,
        });
        schemas.insert(INT_OR_STRING.into(), schema);
    }
    if schemas.contains_key(QUANTITY) {
        let schema = json!({
            "description": description(schemas, QUANTITY),
            "oneOf": [{ "type": "string" }, { "type": "number" }],
        });
        schemas.insert(QUANTITY.into(), schema);
    }
    for name in ANY_JSON {
        if schemas.contains_key(*name) {
            let schema = json!({ "description": description(schemas, name) });
            schemas.insert((*name).into(), schema);
        }
    }
}
