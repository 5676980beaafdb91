//! The served form of a custom resource: one [`ResourceInfo`] per served
//! version of an established CustomResourceDefinition, made at run time
//! and kept for the life of the process (the registry hands out
//! `&'static` entries; a definition is made into entries once per
//! change of it, so what is kept grows with the definitions' changes, a
//! few kilobytes each).
//!
//! Its strategy ([`CustomStrategy`]) holds the version's rules: the schema
//! that prunes, defaults and validates objects ([`super::schema`]), the
//! `status` and `scale` subresources, the printer columns and the
//! selectable fields. Objects of every version live under one key space,
//! and a read in a version gives the stored object that version's
//! `apiVersion` (upstream's `conversion: None`).

use std::sync::Arc;

use jiff::Timestamp;
use keelson_api::FieldError;
use keelson_api::field_selector::{Field, Reader, SelectableFields};
use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceDefinitionVersion,
    JSONSchemaProps,
};
use keelson_api::printers::{Column, NAME, Printer, Row};
use keelson_api::registry::{ALL_VERBS, Absent, Owned, ResourceInfo, Serve, Subresource};
use keelson_api::strategy::{Message, NameRule, ScalePaths, Strategy};
use serde_json::Value;

use super::jsonpath;

/// What a version's schema does to objects: prune and default them, and
/// find their errors (types, formats, bounds, validation rules).
pub trait SchemaRules: Send + Sync {
    /// Drops unknown fields and fills defaults.
    fn prune_and_default(&self, object: &mut Value);
    /// The object's errors; `old` is the stored object of an update.
    fn validate(&self, object: &Value, old: Option<&Value>) -> Vec<FieldError>;
}

/// Makes the rules of a version's schema; `None` when it has none that
/// can be used (the definition's validation refuses such schemas).
pub type RulesOf = fn(&JSONSchemaProps) -> Option<Arc<dyn SchemaRules>>;

/// What a custom resource's `status` subresource owns.
const STATUS: &[Owned] = &[Owned {
    path: &["status"],
    absent: Absent::Null,
}];

/// The verbs of the `status` subresource.
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

/// Keeps `text` for the life of the process.
fn keep(text: &str) -> &'static str {
    Box::leak(text.to_string().into_boxed_str())
}

fn keep_all(texts: &[String]) -> &'static [&'static str] {
    Box::leak(
        texts
            .iter()
            .map(|t| keep(t))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

/// The rules of one served version of a custom resource.
pub struct CustomStrategy {
    /// The definition's name (`widgets.example.com`).
    pub definition: String,
    /// The version's schema (`openAPIV3Schema`), as published.
    openapi: Option<Value>,
    /// The version's schema rules.
    schema: Option<Arc<dyn SchemaRules>>,
    scale: Option<Scale>,
    printer: &'static Printer,
    selectable: &'static SelectableFields,
    /// The warning of a deprecated version.
    deprecation: Option<String>,
}

/// Where a version's Scale reads and writes, as JSON pointers.
struct Scale {
    spec_replicas: String,
    status_replicas: String,
    label_selector: Option<String>,
}

/// A JSON pointer for a dotted path (`.spec.replicas`).
fn pointer(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .filter(|part| !part.is_empty())
        .map(|part| format!("/{}", part.replace('~', "~0").replace('/', "~1")))
        .collect()
}

impl Strategy for CustomStrategy {
    fn protobuf(&self) -> Option<Message> {
        None
    }

    fn name_rule(&self) -> NameRule {
        NameRule::Subdomain
    }

    fn has_generation(&self) -> bool {
        true
    }

    fn prepare_for_create(&self, object: &mut Value) {
        // As upstream: a new custom resource has no status until its
        // status subresource is written (built-in kinds start with `{}`).
        if let Some(object) = object.as_object_mut() {
            object.remove("status");
        }
    }

    fn defaults(&self, object: &mut Value) {
        if let Some(schema) = &self.schema {
            schema.prune_and_default(object);
        }
    }

    fn validate(&self, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
        match &self.schema {
            Some(schema) => schema.validate(object, old),
            None => Vec::new(),
        }
    }

    fn printer(&self) -> Option<&'static Printer> {
        Some(self.printer)
    }

    fn openapi_schema(&self) -> Option<&Value> {
        self.openapi.as_ref()
    }

    fn deprecation(&self) -> Option<&str> {
        self.deprecation.as_deref()
    }

    fn selectable_fields(&self) -> &'static SelectableFields {
        self.selectable
    }

    fn scale_paths(&self) -> ScalePaths {
        match &self.scale {
            Some(scale) => ScalePaths {
                spec_replicas: scale.spec_replicas.clone(),
                status_replicas: scale.status_replicas.clone(),
            },
            None => ScalePaths::default(),
        }
    }

    fn scale_selector(&self, object: &Value) -> String {
        let path = self.scale.as_ref().and_then(|s| s.label_selector.as_ref());
        path.and_then(|path| object.pointer(path))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

/// The served entries of `crd`'s versions: one per served version, the
/// storage version's first.
pub fn resources(crd: &CustomResourceDefinition, rules: RulesOf) -> Vec<&'static ResourceInfo> {
    let spec = &crd.spec;
    let mut versions: Vec<&CustomResourceDefinitionVersion> =
        spec.versions.iter().filter(|v| v.served).collect();
    versions.sort_by_key(|v| !v.storage);
    versions
        .into_iter()
        .map(|version| made(crd, version, rules))
        .collect()
}

/// The entry of one version, kept for the life of the process.
fn made(
    crd: &CustomResourceDefinition,
    version: &CustomResourceDefinitionVersion,
    rules: RulesOf,
) -> &'static ResourceInfo {
    let spec = &crd.spec;
    let names = &spec.names;
    let group = keep(&spec.group);
    let version_name = keep(&version.name);
    let kind = keep(&names.kind);
    let plural = keep(&names.plural);
    let singular = keep(
        names
            .singular
            .as_deref()
            .unwrap_or(&names.kind.to_ascii_lowercase()),
    );
    let list_kind = keep(
        names
            .list_kind
            .as_deref()
            .unwrap_or(&format!("{}List", names.kind)),
    );
    let subresources = version.subresources.as_ref();
    let mut served = Vec::new();
    if subresources.is_some_and(|s| s.status.is_some()) {
        served.push(Subresource {
            name: "status",
            group,
            version: version_name,
            kind,
            verbs: STATUS_VERBS,
            serve: Serve::Owns(STATUS),
        });
    }
    let scale = subresources.and_then(|s| s.scale.as_ref()).map(|scale| {
        served.push(Subresource {
            name: "scale",
            group: "autoscaling",
            version: "v1",
            kind: "Scale",
            verbs: STATUS_VERBS,
            serve: Serve::Scale,
        });
        Scale {
            spec_replicas: pointer(&scale.spec_replicas_path),
            status_replicas: pointer(&scale.status_replicas_path),
            label_selector: scale.label_selector_path.as_deref().map(pointer),
        }
    });
    let props = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref());
    let openapi = props.and_then(|props| serde_json::to_value(props).ok());
    let schema = props.and_then(rules);
    let (columns, paths) = columns(version.additional_printer_columns.as_deref().unwrap_or(&[]));
    let printer: &'static Printer = Box::leak(Box::new(Printer::made(
        columns,
        Box::new(move |object: &Value, _now: Timestamp| Some(row(object, columns, &paths))),
    )));
    let selectable: &'static SelectableFields = Box::leak(Box::new(selectable(version)));
    let strategy: &'static CustomStrategy = Box::leak(Box::new(CustomStrategy {
        definition: crd.metadata.name.clone().unwrap_or_default(),
        openapi,
        schema,
        scale,
        printer,
        selectable,
        deprecation: version.deprecated.unwrap_or(false).then(|| {
            version.deprecation_warning.clone().unwrap_or_else(|| {
                format!(
                    "{}/{} {} is deprecated",
                    spec.group, version.name, names.kind
                )
            })
        }),
    }));
    let definition = {
        let mut reversed: Vec<&str> = spec.group.split('.').collect();
        reversed.reverse();
        keep(&format!(
            "{}.{}.{}",
            reversed.join("."),
            version.name,
            names.kind
        ))
    };
    Box::leak(Box::new(ResourceInfo {
        group,
        version: version_name,
        kind,
        list_kind,
        plural,
        singular,
        short_names: keep_all(names.short_names.as_deref().unwrap_or(&[])),
        categories: keep_all(names.categories.as_deref().unwrap_or(&[])),
        namespaced: spec.scope == "Namespaced",
        verbs: ALL_VERBS,
        subresources: Box::leak(served.into_boxed_slice()),
        definition,
        strategy,
        stored_as: None,
    }))
}

/// The table columns of a version: the name, then its printer columns
/// (upstream's `Age` when it names none); and each column's JSONPath.
fn columns(defined: &[CustomResourceColumnDefinition]) -> (&'static [Column], Vec<String>) {
    let age = CustomResourceColumnDefinition {
        name: "Age".to_string(),
        type_: "date".to_string(),
        json_path: ".metadata.creationTimestamp".to_string(),
        ..Default::default()
    };
    let defined = match defined.is_empty() {
        true => std::slice::from_ref(&age),
        false => defined,
    };
    let mut columns = vec![NAME];
    let mut paths = Vec::new();
    for column in defined {
        let description = column.description.clone().unwrap_or_else(|| {
            format!(
                "Custom resource definition column (in JSONPath format): {}",
                column.json_path
            )
        });
        columns.push(Column {
            name: keep(&column.name),
            type_: keep(&column.type_),
            format: keep(column.format.as_deref().unwrap_or_default()),
            description: keep(&description),
            priority: column.priority.unwrap_or(0).clamp(0, 255) as u8,
        });
        paths.push(column.json_path.clone());
    }
    (Box::leak(columns.into_boxed_slice()), paths)
}

/// One object's cells: its name, then each column's value (none when the
/// path finds nothing or a value of another type than the column's).
fn row(object: &Value, columns: &[Column], paths: &[String]) -> Row {
    let mut cells = vec![object["metadata"]["name"].clone()];
    for (column, path) in columns[1..].iter().zip(paths) {
        let found = jsonpath::find(object, path);
        let cell = match found.as_slice() {
            [] => Value::Null,
            [one] => typed(one, column.type_),
            many => Value::from(
                many.iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        };
        cells.push(cell);
    }
    Row::new(cells)
}

/// A cell of a column's type, or none.
fn typed(value: &Value, column_type: &str) -> Value {
    let fits = match column_type {
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "string" | "date" => value.is_string(),
        _ => true,
    };
    match (fits, value) {
        (true, _) => value.clone(),
        // Upstream prints what is there for a string column.
        (false, Value::Object(_) | Value::Array(_)) if column_type == "string" => {
            Value::from(value.to_string())
        }
        (false, other) if column_type == "string" => Value::from(other.to_string()),
        _ => Value::Null,
    }
}

/// The fields a version makes selectable, beside name and namespace.
fn selectable(version: &CustomResourceDefinitionVersion) -> SelectableFields {
    let mut fields = vec![
        keelson_api::field_selector::NAME,
        keelson_api::field_selector::NAMESPACE,
    ];
    for field in version.selectable_fields.as_deref().unwrap_or(&[]) {
        let path = field.json_path.trim_start_matches('.');
        let parts: Vec<String> = path.split('.').map(str::to_string).collect();
        fields.push(Field {
            name: keep(path),
            reader: Reader::Text(keep_all(&parts)),
        });
    }
    SelectableFields::custom(Box::leak(fields.into_boxed_slice()))
}
