//! The fields a kind lets clients select on: how each is read from the
//! object, and the message a Kubernetes v1.33 API server gives for any other
//! field (it differs by kind). Each kind's strategy names its set.

use serde_json::Value;

use crate::field_selector::Error;

/// How a selectable field is read from the object's JSON.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    /// A string at this path; missing reads as `""`.
    Text(&'static [&'static str]),
    /// A boolean at this path; missing reads as `false`.
    Bool(&'static [&'static str]),
    /// An integer at this path; missing reads as `0`.
    Count(&'static [&'static str]),
    /// An event's `source.component`, else its `reportingComponent`.
    EventSource,
    /// A pod's first IP (`status.podIPs[0].ip`), else `status.podIP`.
    PodIp,
}

/// One selectable field.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Its name in a selector (`spec.nodeName`).
    pub name: &'static str,
    /// How its value is read.
    pub reader: Reader,
}

/// A string field at `path`.
pub const fn text(name: &'static str, path: &'static [&'static str]) -> Field {
    Field {
        name,
        reader: Reader::Text(path),
    }
}

/// `metadata.name`.
pub const NAME: Field = text("metadata.name", &["metadata", "name"]);
/// `metadata.namespace`.
pub const NAMESPACE: Field = text("metadata.namespace", &["metadata", "namespace"]);

/// How a kind words its refusal of an unsupported field.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// Kinds without a list of their own: only name and namespace.
    OnlyMetadata,
    /// The core kinds with their own list.
    Core,
    /// A typed kind's own wording (`batchv1.Job`).
    Typed(&'static str),
}

/// The selectable fields of one kind.
#[derive(Debug, Clone, Copy)]
pub struct SelectableFields {
    fields: &'static [Field],
    /// Old field names accepted as another name.
    aliases: &'static [(&'static str, &'static str)],
    refusal: Refusal,
}

/// The fields of kinds without a list of their own: name and namespace.
pub const METADATA_ONLY: SelectableFields = SelectableFields {
    fields: &[NAME, NAMESPACE],
    aliases: &[],
    refusal: Refusal::OnlyMetadata,
};

impl SelectableFields {
    /// The fields of a core kind (`field label not supported: ...` for
    /// any other).
    pub const fn core(fields: &'static [Field]) -> Self {
        Self {
            fields,
            aliases: &[],
            refusal: Refusal::Core,
        }
    }

    /// The fields a custom resource's definition makes selectable, beside
    /// name and namespace (`field label not supported: ...` for others).
    pub const fn custom(fields: &'static [Field]) -> Self {
        Self::core(fields)
    }

    /// `self`, also accepting each `(old, new)` name pair's old name.
    pub const fn with_aliases(self, aliases: &'static [(&'static str, &'static str)]) -> Self {
        Self { aliases, ..self }
    }

    /// `self`, refusing other fields as upstream's `kind` of `package` does
    /// (`field label "x" not supported for batchv1.Job`).
    pub const fn refused_as(self, package_kind: &'static str) -> Self {
        Self {
            refusal: Refusal::Typed(package_kind),
            ..self
        }
    }

    /// The canonical name of `field` when the kind supports it, else the
    /// kind's refusal.
    pub(crate) fn accept(&self, field: &str) -> Result<&'static str, Error> {
        if let Some(known) = self.fields.iter().find(|f| f.name == field) {
            return Ok(known.name);
        }
        if let Some((_, to)) = self.aliases.iter().find(|(from, _)| *from == field) {
            return Ok(to);
        }
        let quoted = crate::quote::quote(field);
        Err(Error::UnsupportedField(match self.refusal {
            Refusal::OnlyMetadata => format!(
                "{quoted} is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
            ),
            Refusal::Core => format!("field label not supported: {field}"),
            Refusal::Typed(kind) => format!("field label {quoted} not supported for {kind}"),
        }))
    }

    /// The value of the supported `field` in `object`.
    pub(crate) fn read(&self, field: &str, object: &Value) -> String {
        let Some(known) = self.fields.iter().find(|f| f.name == field) else {
            return String::new();
        };
        match known.reader {
            Reader::Text(path) => text_at(object, path),
            Reader::Bool(path) => lookup(object, path)
                .and_then(Value::as_bool)
                .unwrap_or(false)
                .to_string(),
            Reader::Count(path) => lookup(object, path)
                .and_then(Value::as_i64)
                .unwrap_or(0)
                .to_string(),
            Reader::EventSource => {
                let component = text_at(object, &["source", "component"]);
                if component.is_empty() {
                    text_at(object, &["reportingComponent"])
                } else {
                    component
                }
            }
            Reader::PodIp => match lookup(object, &["status", "podIPs"])
                .and_then(|ips| ips.get(0))
                .and_then(|ip| ip.get("ip"))
                .and_then(Value::as_str)
            {
                Some(ip) => ip.to_string(),
                None => text_at(object, &["status", "podIP"]),
            },
        }
    }
}

fn lookup<'a>(object: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(object, |value, key| value.get(key))
}

/// A string at `path`; a number or boolean is read as its text, anything
/// else (missing, null, object) as `""`.
fn text_at(object: &Value, path: &[&str]) -> String {
    match lookup(object, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}
