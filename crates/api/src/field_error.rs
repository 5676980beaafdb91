//! Errors about one field of an object (`spec.replicas: Invalid value: -1:
//! must be greater than or equal to 0`), the causes inside an `Invalid`
//! API error.
//!
//! The texts follow Kubernetes' field errors word for word, because clients
//! show them to users and tests compare them.

use std::fmt;

use serde_json::Value;

use crate::field_path::FieldPath;
use crate::quote::quote;

/// What went wrong with a field, with the offending value where there is one.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldErrorKind {
    /// A value refers to something that does not exist.
    NotFound {
        /// The value that refers to nothing.
        value: Value,
    },
    /// A required field is missing or empty.
    Required,
    /// A value that must be unique appears more than once.
    Duplicate {
        /// The repeated value.
        value: Value,
    },
    /// A value is malformed or out of range.
    Invalid {
        /// The rejected value.
        value: Value,
    },
    /// A value is malformed, but too big to repeat (an object or a list):
    /// upstream's `field.OmitValueType`.
    InvalidOmitted,
    /// A value is not one of a fixed set.
    NotSupported {
        /// The rejected value.
        value: Value,
        /// The accepted values, in the order they are listed to the user.
        allowed: Vec<String>,
    },
    /// The field may not be set (or changed) here.
    Forbidden,
    /// A value is longer than allowed; the value itself is not repeated.
    TooLong,
    /// A list has more items than allowed.
    TooMany {
        /// How many items there are, when known.
        actual: Option<usize>,
    },
    /// The server failed while checking the field.
    Internal,
    /// A value has the wrong type (e.g. a string where a number belongs).
    TypeInvalid {
        /// The rejected value.
        value: Value,
    },
}

/// One invalid field: what is wrong, where, and a human explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// What went wrong.
    pub kind: FieldErrorKind,
    /// The rendered path of the field (`spec.containers[0].image`).
    pub path: String,
    /// The explanation after the value, possibly empty.
    pub detail: String,
}

impl FieldError {
    fn new(kind: FieldErrorKind, path: &FieldPath, detail: impl Into<String>) -> Self {
        Self {
            kind,
            path: path.to_string(),
            detail: detail.into(),
        }
    }

    /// A reference to something that does not exist.
    pub fn not_found(path: &FieldPath, value: impl Into<Value>) -> Self {
        Self::new(
            FieldErrorKind::NotFound {
                value: value.into(),
            },
            path,
            "",
        )
    }

    /// A missing required value.
    pub fn required(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorKind::Required, path, detail)
    }

    /// A value that appears twice where it must be unique.
    pub fn duplicate(path: &FieldPath, value: impl Into<Value>) -> Self {
        Self::new(
            FieldErrorKind::Duplicate {
                value: value.into(),
            },
            path,
            "",
        )
    }

    /// A malformed or out-of-range value.
    pub fn invalid(path: &FieldPath, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        Self::new(
            FieldErrorKind::Invalid {
                value: value.into(),
            },
            path,
            detail,
        )
    }

    /// A malformed value that the message does not repeat (`spec: Invalid
    /// value: must ...`), as upstream does for objects and lists.
    pub fn invalid_omitting_value(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorKind::InvalidOmitted, path, detail)
    }

    /// A value outside a fixed set; the detail lists the accepted values.
    pub fn not_supported<S: AsRef<str>>(
        path: &FieldPath,
        value: impl Into<Value>,
        allowed: &[S],
    ) -> Self {
        let allowed: Vec<String> = allowed.iter().map(|s| s.as_ref().to_string()).collect();
        let detail = if allowed.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = allowed.iter().map(|v| quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(
            FieldErrorKind::NotSupported {
                value: value.into(),
                allowed,
            },
            path,
            detail,
        )
    }

    /// A field that may not be set here.
    pub fn forbidden(path: &FieldPath, detail: impl Into<String>) -> Self {
        Self::new(FieldErrorKind::Forbidden, path, detail)
    }

    /// A value longer than `max_bytes` (or of unknown limit when `None`).
    pub fn too_long(path: &FieldPath, max_bytes: Option<usize>) -> Self {
        let detail = match max_bytes {
            Some(max) => format!("may not be more than {max} bytes"),
            None => "value is too long".to_string(),
        };
        Self::new(FieldErrorKind::TooLong, path, detail)
    }

    /// A list with more than `max` items.
    pub fn too_many(path: &FieldPath, actual: Option<usize>, max: Option<usize>) -> Self {
        let detail = match max {
            Some(max) => format!("must have at most {max} items"),
            None => "has too many items".to_string(),
        };
        Self::new(FieldErrorKind::TooMany { actual }, path, detail)
    }

    /// A failure of the server while checking the field.
    pub fn internal(path: &FieldPath, message: impl Into<String>) -> Self {
        Self::new(FieldErrorKind::Internal, path, message)
    }

    /// A value of the wrong type.
    pub fn type_invalid(
        path: &FieldPath,
        value: impl Into<Value>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(
            FieldErrorKind::TypeInvalid {
                value: value.into(),
            },
            path,
            detail,
        )
    }

    /// The `reason` of the `Status` cause this error becomes
    /// (`FieldValueInvalid`, `FieldValueRequired`, ...).
    pub fn cause_type(&self) -> &'static str {
        match self.kind {
            FieldErrorKind::NotFound { .. } => "FieldValueNotFound",
            FieldErrorKind::Required => "FieldValueRequired",
            FieldErrorKind::Duplicate { .. } => "FieldValueDuplicate",
            FieldErrorKind::Invalid { .. } | FieldErrorKind::InvalidOmitted => "FieldValueInvalid",
            FieldErrorKind::NotSupported { .. } => "FieldValueNotSupported",
            FieldErrorKind::Forbidden => "FieldValueForbidden",
            FieldErrorKind::TooLong => "FieldValueTooLong",
            FieldErrorKind::TooMany { .. } => "FieldValueTooMany",
            FieldErrorKind::Internal => "InternalError",
            FieldErrorKind::TypeInvalid { .. } => "FieldValueTypeInvalid",
        }
    }

    /// The words naming the kind of problem (`Invalid value`, `Required value`).
    pub fn kind_text(&self) -> &'static str {
        match self.kind {
            FieldErrorKind::NotFound { .. } => "Not found",
            FieldErrorKind::Required => "Required value",
            FieldErrorKind::Duplicate { .. } => "Duplicate value",
            FieldErrorKind::Invalid { .. }
            | FieldErrorKind::InvalidOmitted
            | FieldErrorKind::TypeInvalid { .. } => "Invalid value",
            FieldErrorKind::NotSupported { .. } => "Unsupported value",
            FieldErrorKind::Forbidden => "Forbidden",
            FieldErrorKind::TooLong => "Too long",
            FieldErrorKind::TooMany { .. } => "Too many",
            FieldErrorKind::Internal => "Internal error",
        }
    }

    /// The message without the field path, as it appears in a `Status` cause
    /// (`Invalid value: -1: must be greater than or equal to 0`).
    pub fn body(&self) -> String {
        let mut body = match &self.kind {
            FieldErrorKind::Required
            | FieldErrorKind::Forbidden
            | FieldErrorKind::TooLong
            | FieldErrorKind::Internal
            | FieldErrorKind::InvalidOmitted
            | FieldErrorKind::TooMany { actual: None } => self.kind_text().to_string(),
            FieldErrorKind::TooMany {
                actual: Some(actual),
            } => format!("{}: {actual}", self.kind_text()),
            FieldErrorKind::NotFound { value }
            | FieldErrorKind::Duplicate { value }
            | FieldErrorKind::Invalid { value }
            | FieldErrorKind::NotSupported { value, .. }
            | FieldErrorKind::TypeInvalid { value } => {
                format!("{}: {}", self.kind_text(), render_value(value))
            }
        };
        if !self.detail.is_empty() {
            body.push_str(": ");
            body.push_str(&self.detail);
        }
        body
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.body())
    }
}

impl std::error::Error for FieldError {}

/// Renders a list of field errors the way Kubernetes aggregates them: one
/// error alone, several in brackets separated by ", ", repeats dropped.
pub fn aggregate(errors: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for error in errors {
        let message = error.to_string();
        if !seen.contains(&message) {
            seen.push(message);
        }
    }
    match seen.len() {
        1 => seen.remove(0),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// Renders a rejected value as Kubernetes prints it: strings quoted,
/// numbers and booleans bare, a missing value as `null`, a list of strings
/// as `[]string{"a", "b"}`, a non-empty map of strings (labels) as
/// `map[string]string{"a":"b"}`, anything else as JSON.
fn render_value(value: &Value) -> String {
    match value {
        Value::Object(map) if !map.is_empty() && map.values().all(Value::is_string) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let rendered: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", quote(k), quote(v.as_str().unwrap_or_default())))
                .collect();
            format!("map[string]string{{{}}}", rendered.join(", "))
        }
        Value::Null => "null".to_string(),
        Value::String(s) => quote(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let quoted: Vec<String> = items
                .iter()
                .map(|item| quote(item.as_str().unwrap_or_default()))
                .collect();
            format!("[]string{{{}}}", quoted.join(", "))
        }
        other => other.to_string(),
    }
}
