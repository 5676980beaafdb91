//! Walking objects along the OpenAPI schemas the server publishes: the one
//! source of what fields each kind has, for `fieldValidation` (unknown and
//! duplicate fields) and later for field ownership.

mod types;

use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::{Map, Value};

pub use types::TypeMismatch;
use types::{Place, Special};

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

    /// Walks `value` along `schema` as upstream's typed decoding does:
    /// drops the fields the schema does not know (and lists them as
    /// upstream names them, `spec.template.spec.containers[0].foo`), finds the
    /// first value of a type the schema does not allow, and writes
    /// quantities and times in their canonical form.
    /// The object's schema is the definition named `definition`
    /// (`io.k8s.api.apps.v1.Deployment`); nothing is checked if there is
    /// none.
    pub fn check(&self, definition: &str, value: &mut Value) -> Checked {
        let mut checked = Checked::default();
        if let Some((name, root)) = self.definitions.get_key_value(definition) {
            self.walk_named(Some(name), root, value, &Place::default(), &mut checked);
        }
        checked
    }

    fn walk(&self, schema: &Value, value: &mut Value, at: &Place, out: &mut Checked) {
        let (definition, schema) = resolve_named(self.definitions, schema);
        self.walk_named(definition, schema, value, at, out);
    }

    /// [`walk`](Self::walk) of a resolved schema, the definition `definition`.
    fn walk_named(
        &self,
        definition: Option<&str>,
        schema: &Value,
        value: &mut Value,
        at: &Place,
        out: &mut Checked,
    ) {
        if out.mismatch.is_some() || value.is_null() {
            return;
        }
        let (definition, schema) = match resolve_named(self.definitions, schema) {
            (Some(name), schema) => (Some(name), schema),
            (None, schema) => (definition, schema),
        };
        if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
            return;
        }
        let wrong = |value: &Value| {
            let go_type = self.go_type(definition, schema);
            Some(TypeMismatch::wrong_type(at, types::found(value), &go_type))
        };
        if let Some(special) = Special::of(definition, schema) {
            out.mismatch = special.check(value, at).err();
            return;
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            let Value::Object(fields) = value else {
                out.mismatch = wrong(value);
                return;
            };
            let go_struct = definition.map_or("", |d| types::go_named(d).1);
            fields.retain(|name, field| match properties.get(name) {
                // A field set to null is left unset, as Go decodes it.
                Some(_) if field.is_null() => false,
                Some(schema) => {
                    self.walk(schema, field, &at.field(name, go_struct), out);
                    true
                }
                None => {
                    out.unknown.push(at.field(name, go_struct).path);
                    false
                }
            });
            return;
        }
        if let Some(items) = schema.get("items") {
            let Value::Array(elements) = value else {
                out.mismatch = wrong(value);
                return;
            };
            for (i, element) in elements.iter_mut().enumerate() {
                match element.is_null() {
                    true => *element = self.zero(items),
                    false => self.walk(items, element, &at.element(&i.to_string()), out),
                }
            }
            return;
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            let Value::Object(entries) = value else {
                out.mismatch = wrong(value);
                return;
            };
            for (key, entry) in entries {
                match entry.is_null() {
                    true => *entry = self.zero(values),
                    false => self.walk(values, entry, &at.element(key), out),
                }
            }
            return;
        }
        out.mismatch = types::leaf(schema, value, at).err();
    }

    /// The value Go decodes a null list element or map value to: its
    /// type's zero value (`""`, `0`, `false`, `{}`), as it then encodes it.
    fn zero(&self, schema: &Value) -> Value {
        let (definition, schema) = resolve_named(self.definitions, schema);
        match Special::of(definition, schema) {
            Some(Special::Quantity) => return Value::from("0"),
            Some(Special::IntOrString) => return Value::from(0),
            Some(_) => return Value::Null,
            None => {}
        }
        if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() {
            return Value::Object(Map::new());
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("string") => Value::from(""),
            Some("integer" | "number") => Value::from(0),
            Some("boolean") => Value::from(false),
            Some("array") => Value::Array(Vec::new()),
            Some("object") => Value::Object(Map::new()),
            _ => Value::Null,
        }
    }

    /// The Go type of a schema, as upstream's decoding errors name it:
    /// `v1.DeploymentSpec`, `map[string]string`, `[]v1.Container`, `int32`.
    fn go_type(&self, definition: Option<&str>, schema: &Value) -> String {
        if let Some(definition) = definition {
            return types::go_named(definition).0;
        }
        if let Some(items) = schema.get("items") {
            let (definition, items) = resolve_named(self.definitions, items);
            return format!("[]{}", self.go_type(definition, items));
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            let (definition, values) = resolve_named(self.definitions, values);
            return format!("map[string]{}", self.go_type(definition, values));
        }
        types::go_scalar(schema).to_string()
    }
}

/// What walking an object along its schema found.
#[derive(Debug, Default)]
pub struct Checked {
    /// The paths of the fields the schema does not know (now dropped).
    pub unknown: Vec<String>,
    /// The first value of a type the schema does not allow.
    pub mismatch: Option<TypeMismatch>,
}

/// [`resolve`], also giving the name of the definition reached, if any.
fn resolve_named<'a>(
    definitions: &'a Map<String, Value>,
    schema: &'a Value,
) -> (Option<&'a str>, &'a Value) {
    let mut schema = schema;
    let mut name = None;
    for _ in 0..8 {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let next = reference.trim_start_matches("#/components/schemas/");
            match definitions.get_key_value(next) {
                Some((key, definition)) => {
                    name = Some(key.as_str());
                    schema = definition;
                }
                None => break,
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
    (name, schema)
}

/// Follows `$ref`s into `definitions` (also when wrapped in a one-element
/// `allOf`, as a `$ref` with a description is), a few levels at most.
pub fn resolve<'a>(definitions: &'a Map<String, Value>, schema: &'a Value) -> &'a Value {
    resolve_named(definitions, schema).1
}

/// Where a checked object came from, which decides how upstream words a
/// value of the wrong type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A create or update body, decoded into its type.
    Body,
    /// The result of a JSON, merge or strategic merge patch.
    Patch,
    /// A server-side apply configuration.
    Apply,
}

impl Source {
    /// The error for `mismatch` in an object of `kind` in `api_version`,
    /// as upstream answers it: a 400 for bodies and apply configurations,
    /// a 422 on the `patch` field for patches.
    fn error(
        self,
        api_version: &str,
        kind: &str,
        object: &Value,
        mismatch: &TypeMismatch,
    ) -> ApiError {
        let version = api_version.rsplit('/').next().unwrap_or(api_version);
        match self {
            Source::Body => ApiError::bad_request(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: {}",
                mismatch.message
            )),
            Source::Patch => {
                let path = keelson_api::FieldPath::new("patch");
                let cause =
                    keelson_api::FieldError::invalid(&path, object.to_string(), &mismatch.message);
                ApiError::invalid("", "", "", &[cause])
            }
            Source::Apply => ApiError::bad_request(format!(
                "failed to create typed patch object ({api_version}, Kind={kind}): .{}: {}",
                mismatch.path, mismatch.message
            )),
        }
    }
}

/// Checks the types in a body that is not the resource's own kind (a
/// `Scale`, an `Eviction`): `definition` in `resource`'s group-version
/// document, `kind` in `api_version`. Unknown fields are dropped.
pub fn check_types(
    resource: &ResourceInfo,
    (api_version, kind): (&str, &str),
    definition: &str,
    object: &mut Value,
    source: Source,
) -> Result<(), ApiError> {
    let Some(definitions) = crate::documents::openapi::schemas(resource.group, resource.version)
    else {
        return Ok(());
    };
    let checked = Schemas { definitions }.check(definition, object);
    match checked.mismatch {
        Some(mismatch) => Err(source.error(api_version, kind, object, &mismatch)),
        None => Ok(()),
    }
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
        source: Source,
    ) -> Result<Vec<String>, ApiError> {
        self.check_from(resource, object, &[], source)
    }

    /// Like [`check`](Self::check), for a body whose JSON named the fields
    /// `duplicates` more than once (upstream reports those too).
    pub fn check_body(
        self,
        resource: &ResourceInfo,
        object: &mut Value,
        duplicates: &[String],
    ) -> Result<Vec<String>, ApiError> {
        self.check_from(resource, object, duplicates, Source::Body)
    }

    fn check_from(
        self,
        resource: &ResourceInfo,
        object: &mut Value,
        duplicates: &[String],
        source: Source,
    ) -> Result<Vec<String>, ApiError> {
        let Some((schemas, _)) = Schemas::of(resource) else {
            return Ok(Vec::new());
        };
        let checked = schemas.check(resource.definition, object);
        if let Some(mismatch) = &checked.mismatch {
            let api_version = resource.api_version();
            return Err(source.error(&api_version, resource.kind, object, mismatch));
        }
        let mut unknown: Vec<String> = duplicates
            .iter()
            .map(|path| format!("duplicate field \"{path}\""))
            .collect();
        unknown.extend(
            checked
                .unknown
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
        let (schemas, _) = Schemas::of(deployments()).expect("schemas");
        assert_eq!(
            schemas
                .check(deployments().definition, &mut object.clone())
                .unknown,
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
            .check(deployments(), &mut object.clone(), Source::Body)
            .unwrap_err();
        assert_eq!(err.code(), 400);
        assert!(
            err.message.contains("unknown field \"spec.replica\""),
            "{}",
            err.message
        );
        let mut warned = object.clone();
        let warnings = FieldValidation::Warn
            .check(deployments(), &mut warned, Source::Body)
            .unwrap();
        assert_eq!(warnings, ["unknown field \"spec.replica\""]);
        assert_eq!(warned["spec"], json!({}), "unknown fields are dropped");
        let mut ignored = object.clone();
        assert!(
            FieldValidation::Ignore
                .check(deployments(), &mut ignored, Source::Body)
                .unwrap()
                .is_empty()
        );
        assert_eq!(ignored["spec"], json!({}));
        assert!(FieldValidation::parse(Some("Loose")).is_err());
    }
}
