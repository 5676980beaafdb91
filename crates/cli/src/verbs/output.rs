//! `-o`: kubectl's output formats for objects (`yaml`, `json`, `name`)
//! besides the tables of [`super::table`].

use serde::Serialize;
use serde_json::{Value, json};

use super::Error;
use super::catalog::Resource;

/// An `-o` format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The server's table (no `-o`).
    Table,
    /// `-o wide`.
    Wide,
    /// `-o yaml`.
    Yaml,
    /// `-o json`.
    Json,
    /// `-o name`.
    Name,
}

impl Format {
    /// Parses `-o`.
    pub fn parse(text: Option<&str>) -> Result<Self, Error> {
        match text {
            None | Some("") => Ok(Self::Table),
            Some("wide") => Ok(Self::Wide),
            Some("yaml") => Ok(Self::Yaml),
            Some("json") => Ok(Self::Json),
            Some("name") => Ok(Self::Name),
            Some(other) => Err(Error::usage(format!(
                "unable to match a printer suitable for the output format \"{other}\", \
                 allowed formats are: json,name,wide,yaml"
            ))),
        }
    }
}

/// `kind.group/name`, as `-o name` and apply print an object.
pub fn qualified_name(resource: &Resource, object: &Value) -> String {
    let name = object["metadata"]["name"].as_str().unwrap_or("");
    format!("{}/{name}", resource.kind_group())
}

/// The objects, as kubectl prints them in YAML or JSON: one object alone,
/// else (or when the user listed) a `v1` `List`.
pub fn document(mut objects: Vec<Value>, single: bool) -> Value {
    if single && objects.len() == 1 {
        return objects.remove(0);
    }
    json!({
        "apiVersion": "v1",
        "items": objects,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    })
}

/// `value` in YAML or JSON (4-space indents, as kubectl).
pub fn render(value: &Value, format: Format) -> Result<String, Error> {
    match format {
        Format::Json => {
            let mut out = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
            value
                .serialize(&mut serializer)
                .map_err(|err| Error::Client(err.to_string()))?;
            let mut text = String::from_utf8(out).map_err(|err| Error::Client(err.to_string()))?;
            text.push('\n');
            Ok(text)
        }
        _ => serde_yaml::to_string(value).map_err(|err| Error::Client(err.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_formats_parse() {
        assert_eq!(Format::parse(None).ok(), Some(Format::Table));
        assert_eq!(Format::parse(Some("wide")).ok(), Some(Format::Wide));
        assert_eq!(Format::parse(Some("name")).ok(), Some(Format::Name));
        assert!(Format::parse(Some("jsonpath={.x}")).is_err());
    }

    #[test]
    fn one_object_prints_alone_and_several_as_a_list() {
        let a = json!({"kind": "Pod", "metadata": {"name": "a"}});
        assert_eq!(document(vec![a.clone()], true), a);
        let list = document(vec![a.clone()], false);
        assert_eq!(list["kind"], "List");
        assert_eq!(list["items"][0], a);
        let text = render(&a, Format::Json).expect("renders");
        assert_eq!(
            text,
            "{\n    \"kind\": \"Pod\",\n    \"metadata\": {\n        \"name\": \"a\"\n    }\n}\n"
        );
        let yaml = render(&list, Format::Yaml).expect("renders");
        assert!(
            yaml.starts_with("apiVersion: v1\nitems:\n- kind: Pod\n"),
            "{yaml}"
        );
    }
}
