//! Walking objects along the OpenAPI schemas the server publishes: the one
//! source of what fields each kind has, for `fieldValidation` (unknown and
//! duplicate fields) and later for field ownership.

use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::{Map, Value};

/// What a schema says a value is.
pub enum Shape<'a> {
    /// An object with known fields.
    Struct(&'a Map<String, Value>),
    /// A map from any key to values of one schema.
    Map(&'a Value),
    /// A list of values of one schema.
    List(&'a Value),
    /// A string, number, boolean, or anything the schema leaves open.
    Leaf,
}

/// The schemas of one group-version.
pub struct Schemas {
    definitions: &'static Map<String, Value>,
}

impl Schemas {
    /// The schemas of `resource`'s group-version and its kind's root schema.
    pub fn of(resource: &ResourceInfo) -> Option<(Self, &'static Value)> {
        let definitions = crate::documents::openapi::schemas(resource.group, resource.version)?;
        let root = definitions.get(resource.definition)?;
        Some((Schemas { definitions }, root))
    }

    /// Follows `$ref` (also wrapped in a one-element `allOf`).
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        resolve(self.definitions, schema)
    }

    /// A schema with its references followed.
    pub fn resolved<'a>(&'a self, schema: &'a Value) -> &'a Value {
        self.resolve(schema)
    }

    /// The shape of a schema.
    pub fn shape<'a>(&'a self, schema: &'a Value) -> Shape<'a> {
        let schema = self.resolve(schema);
        if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
            return Shape::Leaf;
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            return Shape::Struct(properties);
        }
        if let Some(items) = schema.get("items") {
            return Shape::List(items);
        }
        match schema.get("additionalProperties") {
            Some(values) if values.is_object() => Shape::Map(values),
            _ => Shape::Leaf,
        }
    }

    /// Removes the fields of `value` its schema does not know, as upstream
    /// drops them when it decodes a built-in kind, and returns their paths
    /// as upstream names them (`spec.template.spec.containers[0].foo`).
    pub fn prune(&self, schema: &Value, value: &mut Value) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(schema, value, "", &mut out);
        out
    }

    fn walk(&self, schema: &Value, value: &mut Value, path: &str, out: &mut Vec<String>) {
        let child = |name: &str| {
            if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            }
        };
        match (self.shape(schema), value) {
            (Shape::Struct(properties), Value::Object(fields)) => {
                fields.retain(|name, field| match properties.get(name) {
                    Some(schema) => {
                        self.walk(schema, field, &child(name), out);
                        true
                    }
                    None => {
                        out.push(child(name));
                        false
                    }
                });
            }
            (Shape::Map(values), Value::Object(entries)) => {
                for (key, entry) in entries {
                    self.walk(values, entry, &format!("{path}[{key}]"), out);
                }
            }
            (Shape::List(items), Value::Array(elements)) => {
                for (i, element) in elements.iter_mut().enumerate() {
                    self.walk(items, element, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
}

/// Follows `$ref`s into `definitions` (also when wrapped in a one-element
/// `allOf`, as a `$ref` with a description is), a few levels at most.
pub fn resolve<'a>(definitions: &'a Map<String, Value>, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    for _ in 0..8 {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.trim_start_matches("#/components/schemas/");
            match definitions.get(name) {
                Some(next) => schema = next,
                None => return schema,
            }
        } else if let Some([only]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            schema = only;
        } else {
            break;
        }
    }
    schema
}

/// How unknown fields in a request are treated (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter; the default is `Warn`, as upstream.
    pub fn parse(text: Option<&str>) -> Result<Self, ApiError> {
        match text {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", not {other:?}"
            ))),
        }
    }

    /// Checks `object` against its kind's schema and drops the fields it
    /// does not know: an error under Strict, otherwise the warnings to send
    /// (none under Ignore).
    pub fn check(
        self,
        resource: &ResourceInfo,
        object: &mut Value,
    ) -> Result<Vec<String>, ApiError> {
        self.check_body(resource, object, &[])
    }

    /// Like [`check`](Self::check), for a body whose JSON named the fields
    /// `duplicates` more than once (upstream reports those too).
    pub fn check_body(
        self,
        resource: &ResourceInfo,
        object: &mut Value,
        duplicates: &[String],
    ) -> Result<Vec<String>, ApiError> {
        let Some((schemas, root)) = Schemas::of(resource) else {
            return Ok(Vec::new());
        };
        let mut unknown: Vec<String> = duplicates
            .iter()
            .map(|path| format!("duplicate field \"{path}\""))
            .collect();
        unknown.extend(
            schemas
                .prune(root, object)
                .into_iter()
                .map(|path| format!("unknown field \"{path}\"")),
        );
        match self {
            FieldValidation::Strict if !unknown.is_empty() => Err(ApiError::bad_request(format!(
                "strict decoding error: {}",
                unknown.join(", ")
            ))),
            FieldValidation::Ignore => Ok(Vec::new()),
            _ => Ok(unknown),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployments() -> &'static ResourceInfo {
        keelson_api::registry::by_resource("apps", "deployments").expect("registered")
    }

    #[test]
    fn unknown_fields_are_named_by_path() {
        let object = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x", "labels": {"a": "b"}, "bogus": 1},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "c", "image": "i", "imagePolicy": "x", "resources": {"limits": {"cpu": "1"}}}
            ]}}}
        });
        let (schemas, root) = Schemas::of(deployments()).expect("schemas");
        assert_eq!(
            schemas.prune(root, &mut object.clone()),
            [
                "metadata.bogus",
                "spec.template.spec.containers[0].imagePolicy"
            ]
        );
    }

    #[test]
    fn strict_refuses_and_warn_warns() {
        let object = json!({"metadata": {"name": "x"}, "spec": {"replica": 1}});
        let err = FieldValidation::Strict
            .check(deployments(), &mut object.clone())
            .unwrap_err();
        assert_eq!(err.code(), 400);
        assert!(
            err.message.contains("unknown field \"spec.replica\""),
            "{}",
            err.message
        );
        let mut warned = object.clone();
        let warnings = FieldValidation::Warn
            .check(deployments(), &mut warned)
            .unwrap();
        assert_eq!(warnings, ["unknown field \"spec.replica\""]);
        assert_eq!(warned["spec"], json!({}), "unknown fields are dropped");
        let mut ignored = object.clone();
        assert!(
            FieldValidation::Ignore
                .check(deployments(), &mut ignored)
                .unwrap()
                .is_empty()
        );
        assert_eq!(ignored["spec"], json!({}));
        assert!(FieldValidation::parse(Some("Loose")).is_err());
    }
}
