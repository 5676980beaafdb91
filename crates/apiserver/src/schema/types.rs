//! The value types a schema allows, checked as upstream's typed decoding
//! checks them: a field declared `int32` takes only whole numbers in its
//! range, a map of strings only strings, a quantity only what parses as
//! one. Quantities and times are written back in their canonical form, as
//! upstream's decoding and encoding round trip leaves them.

use keelson_api::Quantity;
use serde_json::Value;

/// Where in an object a value sits, in the two spellings errors need.
#[derive(Debug, Clone, Default)]
pub struct Place {
    /// The path with list indices and map keys: `spec.containers[0].name`.
    pub path: String,
    /// The path of struct fields only, as Go's decoder names a field:
    /// `spec.containers.name`.
    go_path: String,
    /// The Go type of the innermost struct holding the field
    /// (`Container`); empty at the root.
    go_struct: String,
}

impl Place {
    /// The field `name` of a struct whose Go type is `go_struct`.
    pub fn field(&self, name: &str, go_struct: &str) -> Place {
        let join = |base: &str| match base.is_empty() {
            true => name.to_string(),
            false => format!("{base}.{name}"),
        };
        Place {
            path: join(&self.path),
            go_path: join(&self.go_path),
            go_struct: go_struct.to_string(),
        }
    }

    /// An element of a list or map, `[0]` or `[key]`.
    pub fn element(&self, index: &str) -> Place {
        Place {
            path: format!("{}[{index}]", self.path),
            ..self.clone()
        }
    }
}

/// A value of a type its schema does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    /// The field, with indices: `spec.template.spec.containers[0].ports[0].containerPort`.
    pub path: String,
    /// What upstream's decoder says about it.
    pub message: String,
}

impl TypeMismatch {
    /// A value of the wrong JSON type, in the words of Go's decoder:
    /// `json: cannot unmarshal string into Go struct field
    /// DeploymentSpec.spec.replicas of type int32`.
    pub fn wrong_type(at: &Place, found: &str, go_type: &str) -> Self {
        let message = match at.go_struct.is_empty() {
            true => format!("json: cannot unmarshal {found} into Go value of type {go_type}"),
            false => format!(
                "json: cannot unmarshal {found} into Go struct field {}.{} of type {go_type}",
                at.go_struct, at.go_path
            ),
        };
        TypeMismatch {
            path: at.path.clone(),
            message,
        }
    }

    /// A value a type's own decoding refuses (a quantity, a time, base64),
    /// with the field it is in.
    fn refused(at: &Place, why: impl std::fmt::Display) -> Self {
        TypeMismatch {
            path: at.path.clone(),
            message: format!("{}: {why}", at.path),
        }
    }
}

/// The JSON type of a value, as Go's decoder names it in errors.
pub fn found(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The types with their own decoding rules, known by definition name or
/// by format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Quantity,
    IntOrString,
    /// `metav1.Time`: whole seconds.
    Time,
    /// `metav1.MicroTime`: microseconds.
    MicroTime,
}

impl Special {
    /// The special type of a schema named `definition`, if it is one.
    pub fn of(definition: Option<&str>, schema: &Value) -> Option<Special> {
        match definition {
            Some("io.k8s.apimachinery.pkg.api.resource.Quantity") => {
                return Some(Special::Quantity);
            }
            Some("io.k8s.apimachinery.pkg.apis.meta.v1.Time") => return Some(Special::Time),
            Some("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime") => {
                return Some(Special::MicroTime);
            }
            _ => {}
        }
        let int_or_string = schema.get("format").and_then(Value::as_str) == Some("int-or-string")
            || schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
        int_or_string.then_some(Special::IntOrString)
    }

    /// Checks `value` (not null) and writes it in canonical form.
    pub fn check(self, value: &mut Value, at: &Place) -> Result<(), TypeMismatch> {
        match self {
            Special::Quantity => {
                let text = match &*value {
                    Value::String(text) => text.clone(),
                    Value::Number(number) => number.to_string(),
                    _ => String::new(),
                };
                let quantity =
                    Quantity::parse(&text).map_err(|err| TypeMismatch::refused(at, err))?;
                *value = Value::String(quantity.canonical());
                Ok(())
            }
            Special::IntOrString => match &*value {
                Value::String(_) => Ok(()),
                Value::Number(number) if number.as_i64().is_some_and(fits_int32) => Ok(()),
                Value::Number(number) => Err(TypeMismatch::refused(
                    at,
                    format!("json: cannot unmarshal number {number} into Go value of type int32"),
                )),
                other => Err(TypeMismatch::refused(
                    at,
                    format!(
                        "json: cannot unmarshal {} into Go value of type int32",
                        found(other)
                    ),
                )),
            },
            Special::Time | Special::MicroTime => {
                let Value::String(text) = &*value else {
                    return Err(TypeMismatch::refused(
                        at,
                        format!(
                            "json: cannot unmarshal {} into Go value of type string",
                            found(value)
                        ),
                    ));
                };
                let time: jiff::Timestamp = text.parse().map_err(|_| {
                    TypeMismatch::refused(
                        at,
                        format!("parsing time {text:?}: not an RFC 3339 time such as \"2006-01-02T15:04:05Z\""),
                    )
                })?;
                let format = match self {
                    Special::Time => "%Y-%m-%dT%H:%M:%SZ",
                    _ => "%Y-%m-%dT%H:%M:%S%.6fZ",
                };
                *value = Value::String(time.strftime(format).to_string());
                Ok(())
            }
        }
    }
}

fn fits_int32(number: i64) -> bool {
    i32::try_from(number).is_ok()
}

/// Checks a scalar (not null) against a schema with no fields, items or
/// values: `type` and `format` decide.
pub fn leaf(schema: &Value, value: &Value, at: &Place) -> Result<(), TypeMismatch> {
    let format = schema.get("format").and_then(Value::as_str);
    let fits = match schema.get("type").and_then(Value::as_str) {
        Some("string") => match value {
            Value::String(text) if format == Some("byte") => return base64(text, at),
            value => value.is_string(),
        },
        Some("boolean") => value.is_boolean(),
        Some("number") => value.is_number(),
        Some("integer") => {
            let Value::Number(number) = value else {
                return Err(TypeMismatch::wrong_type(
                    at,
                    found(value),
                    go_scalar(schema),
                ));
            };
            let whole = number.as_i64();
            let fits = match format {
                Some("int32") => whole.is_some_and(fits_int32),
                _ => whole.is_some(),
            };
            if !fits {
                let found = format!("number {number}");
                return Err(TypeMismatch::wrong_type(at, &found, go_scalar(schema)));
            }
            true
        }
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        _ => true,
    };
    match fits {
        true => Ok(()),
        false => Err(TypeMismatch::wrong_type(
            at,
            found(value),
            go_scalar(schema),
        )),
    }
}

/// A `format: byte` string: standard base64, as Go decodes `[]byte`
/// (line breaks ignored).
fn base64(text: &str, at: &Place) -> Result<(), TypeMismatch> {
    use base64::Engine;
    let text: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
        Ok(_) => Ok(()),
        Err(err) => Err(TypeMismatch::refused(
            at,
            format!("illegal base64 data: {err}"),
        )),
    }
}

/// The Go type of a scalar schema, for errors.
pub fn go_scalar(schema: &Value) -> &'static str {
    let format = schema.get("format").and_then(Value::as_str);
    match (schema.get("type").and_then(Value::as_str), format) {
        (Some("string"), Some("byte")) => "[]uint8",
        (Some("string"), _) => "string",
        (Some("boolean"), _) => "bool",
        (Some("integer"), Some("int32")) => "int32",
        (Some("integer"), _) => "int64",
        (Some("number"), _) => "float64",
        _ => "interface {}",
    }
}

/// `io.k8s.api.apps.v1.DeploymentSpec` as Go names the type in errors:
/// `v1.DeploymentSpec`; and the bare struct name, `DeploymentSpec`.
pub fn go_named(definition: &str) -> (String, &str) {
    let mut segments = definition.rsplit('.');
    let name = segments.next().unwrap_or(definition);
    match segments.next() {
        Some(package) => (format!("{package}.{name}"), name),
        None => (name.to_string(), name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at() -> Place {
        Place::default()
            .field("spec", "Deployment")
            .field("replicas", "DeploymentSpec")
    }

    #[test]
    fn integers_are_checked_against_their_format() {
        let int32 = json!({"type": "integer", "format": "int32"});
        assert!(leaf(&int32, &json!(3), &at()).is_ok());
        let too_big = leaf(&int32, &json!(9223372036854775807_i64), &at()).unwrap_err();
        assert_eq!(
            too_big.message,
            "json: cannot unmarshal number 9223372036854775807 into Go struct field DeploymentSpec.spec.replicas of type int32"
        );
        assert_eq!(too_big.path, "spec.replicas");
        let text = leaf(&int32, &json!("3"), &at()).unwrap_err();
        assert!(
            text.message.contains("cannot unmarshal string into"),
            "{text:?}"
        );
        assert!(leaf(&int32, &json!(1.5), &at()).is_err());
        let int64 = json!({"type": "integer", "format": "int64"});
        assert!(leaf(&int64, &json!(9223372036854775807_i64), &at()).is_ok());
        assert!(leaf(&int64, &json!(9223372036854775808_u64), &at()).is_err());
    }

    #[test]
    fn strings_booleans_and_bytes() {
        let string = json!({"type": "string"});
        let err = leaf(&string, &json!(1), &at()).unwrap_err();
        assert!(err.message.contains("unmarshal number into"), "{err:?}");
        assert!(leaf(&json!({"type": "boolean"}), &json!("true"), &at()).is_err());
        let bytes = json!({"type": "string", "format": "byte"});
        assert!(leaf(&bytes, &json!("aGVsbG8="), &at()).is_ok());
        assert!(leaf(&bytes, &json!("not base64!"), &at()).is_err());
    }

    #[test]
    fn quantities_and_times_are_made_canonical() {
        let mut cpu = json!(1);
        Special::Quantity.check(&mut cpu, &at()).unwrap();
        assert_eq!(cpu, json!("1"));
        let mut half = json!("0.5");
        Special::Quantity.check(&mut half, &at()).unwrap();
        assert_eq!(half, json!("500m"));
        let err = Special::Quantity
            .check(&mut json!("lots"), &at())
            .unwrap_err();
        assert!(
            err.message
                .starts_with("spec.replicas: quantities must match")
        );
        let mut time = json!("2024-01-01T01:00:00.5+01:00");
        Special::Time.check(&mut time, &at()).unwrap();
        assert_eq!(time, json!("2024-01-01T00:00:00Z"));
        assert!(Special::Time.check(&mut json!("yesterday"), &at()).is_err());
        let mut micro = json!("2024-01-01T00:00:00.123456789Z");
        Special::MicroTime.check(&mut micro, &at()).unwrap();
        assert_eq!(micro, json!("2024-01-01T00:00:00.123456Z"));
        assert!(
            Special::IntOrString
                .check(&mut json!(3_000_000_000_i64), &at())
                .is_err()
        );
        assert!(Special::IntOrString.check(&mut json!("25%"), &at()).is_ok());
    }
}
