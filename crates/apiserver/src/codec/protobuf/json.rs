//! From a decoded message (as a [`Node`] tree) to the JSON object the JSON
//! path would have produced, led by the OpenAPI schema of its kind: the
//! schema gives the JSON field names (prost's snake_case names are matched
//! to them ignoring case and underscores, so `cluster_ips` finds
//! `clusterIPs`), which numbers are integers and which strings are base64
//! bytes. The few types whose JSON form is not their message's shape are
//! recognised by message name: `Time`, `MicroTime`, `IntOrString`,
//! `Quantity`, `RawExtension` and `FieldsV1`. A field JSON does not name
//! is a Go struct embedded in its parent (`Probe.handler`): its fields are
//! written into the parent, as Go's JSON does.
//!
//! Go's protobuf encoding writes every non-pointer field, also when it
//! holds its zero value, where JSON's `omitempty` leaves it out: a zero
//! there means "unset", so zero scalars ("", 0, false) are dropped, as JSON
//! would. A pointer set to zero is the one thing the wire cannot tell
//! apart; [`ZERO_IS_A_VALUE`] names the fields where an explicit zero
//! differs from unset (`replicas: 0`, `runAsUser: 0`, ...) and keeps it.

use base64::Engine;
use serde_json::{Map, Number, Value};

use super::debug::Node;
use super::kinds::Definitions;

/// Fields (JSON names) whose explicit zero differs from their being unset:
/// Go pointers whose default is not the zero value, or whose zero means
/// something of its own.
const ZERO_IS_A_VALUE: &[&str] = &[
    "activeDeadlineSeconds",
    "allocateLoadBalancerNodePorts",
    "allowPrivilegeEscalation",
    "automountServiceAccountToken",
    "backoffLimit",
    "backoffLimitPerIndex",
    "completions",
    "defaultMode",
    "enableServiceLinks",
    "failedJobsHistoryLimit",
    "fsGroup",
    "gracePeriodSeconds",
    "hostUsers",
    "leaseTransitions",
    "maxFailedIndexes",
    "maxSurge",
    "maxUnavailable",
    "mode",
    "orphanDependents",
    "parallelism",
    "priority",
    "progressDeadlineSeconds",
    "ready",
    "replicas",
    "revisionHistoryLimit",
    "runAsGroup",
    "runAsUser",
    "serving",
    "startingDeadlineSeconds",
    "storageClassName",
    "successfulJobsHistoryLimit",
    "terminating",
    "terminationGracePeriodSeconds",
    "tolerationSeconds",
    "ttlSecondsAfterFinished",
];

/// What the message held that has no JSON form.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("field {field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: &str, message: impl Into<String>) -> ConvertError {
    ConvertError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The JSON object of `node`, a message of the type `schema` describes.
pub fn object(
    node: &Node,
    schema: &Value,
    definitions: &Definitions,
) -> Result<Value, ConvertError> {
    let converter = Converter { definitions };
    Ok(converter
        .value(node, schema, "")?
        .unwrap_or_else(|| Value::Object(Map::new())))
}

struct Converter<'a> {
    definitions: &'a Definitions,
}

impl Converter<'_> {
    /// The JSON of `node` at `path`; `None` when JSON would leave it out.
    fn value(
        &self,
        node: &Node,
        schema: &Value,
        path: &str,
    ) -> Result<Option<Value>, ConvertError> {
        let schema = self.definitions.resolve(schema);
        Ok(match node {
            Node::None => None,
            Node::Some(inner) => self.value(inner, schema, path)?,
            Node::Message { name, fields } => match well_known(name, fields, path)? {
                Some(special) => special,
                None => Some(self.message(fields, schema, path)?),
            },
            Node::Integers(integers) if is_bytes(schema) => {
                Some(Value::String(base64(integers, path)?))
            }
            Node::Integers(integers) if integers.is_empty() => None,
            Node::Integers(integers) => Some(integers.iter().copied().map(Value::from).collect()),
            // An empty `bytes` field prints as an empty list.
            Node::List(items) if items.is_empty() && is_bytes(schema) => {
                Some(Value::String(String::new()))
            }
            Node::List(items) if items.is_empty() => None,
            Node::List(items) => {
                let item_schema = schema.get("items").unwrap_or(&Value::Null);
                let items = items
                    .iter()
                    .map(|item| Ok(self.value(item, item_schema, path)?.unwrap_or(Value::Null)))
                    .collect::<Result<_, ConvertError>>()?;
                Some(Value::Array(items))
            }
            Node::Map(entries) if entries.is_empty() => None,
            Node::Map(entries) => Some(self.map(entries, schema, path)?),
            Node::Str(s) => Some(Value::String(s.clone())),
            Node::Bool(b) => Some(Value::Bool(*b)),
            Node::Number(n) => Some(number(n, schema, path)?),
        })
    }

    fn message(
        &self,
        fields: &[(String, Node)],
        schema: &Value,
        path: &str,
    ) -> Result<Value, ConvertError> {
        let mut out = Map::new();
        self.fields_into(&mut out, fields, schema, path, false)?;
        Ok(Value::Object(out))
    }

    /// Adds the JSON of a message's `fields` to `out`; those of an
    /// `embedded` struct never replace the parent's own, as in Go.
    fn fields_into(
        &self,
        out: &mut Map<String, Value>,
        fields: &[(String, Node)],
        schema: &Value,
        path: &str,
        embedded: bool,
    ) -> Result<(), ConvertError> {
        let properties = schema.get("properties").and_then(Value::as_object);
        for (rust_name, node) in fields {
            let Some((json_name, property)) = properties.and_then(|p| find_property(p, rust_name))
            else {
                self.unnamed_field_into(out, rust_name, node, schema, path)?;
                continue;
            };
            let field_path = join(path, json_name);
            let Some(value) = self.value(node, property, &field_path)? else {
                continue;
            };
            if is_zero(&value) && !ZERO_IS_A_VALUE.contains(&json_name) {
                continue;
            }
            if embedded {
                out.entry(json_name).or_insert(value);
            } else {
                out.insert(json_name.to_owned(), value);
            }
        }
        Ok(())
    }

    /// A field that JSON does not name: a Go struct embedded in its parent
    /// (`Probe.handler`, `Volume.volumeSource`, the `LocalObjectReference`
    /// of key selectors), whose fields JSON writes inline; or a field newer
    /// than the API version served here (k8s-pb may be ahead of it), which
    /// the server does not know, as an upstream server of this version
    /// would not.
    fn unnamed_field_into(
        &self,
        out: &mut Map<String, Value>,
        rust_name: &str,
        node: &Node,
        schema: &Value,
        path: &str,
    ) -> Result<(), ConvertError> {
        match unwrap_some(node) {
            Node::Message { name, fields } if !is_well_known(name) => {
                self.fields_into(out, fields, schema, path, true)
            }
            _ => {
                tracing::debug!(field = %rust_name, %path, "dropping a protobuf field unknown to the schema");
                Ok(())
            }
        }
    }

    fn map(
        &self,
        entries: &[(Node, Node)],
        schema: &Value,
        path: &str,
    ) -> Result<Value, ConvertError> {
        let value_schema = schema.get("additionalProperties").unwrap_or(&Value::Null);
        let mut out = Map::new();
        for (key, node) in entries {
            let Node::Str(key) = key else {
                return Err(invalid(path, "a map key is not a string"));
            };
            let field_path = join(path, key);
            // Map values stay even when empty: `data: {"k": ""}` is data.
            let value = self
                .value(node, value_schema, &field_path)?
                .unwrap_or(Value::Null);
            out.insert(key.clone(), value);
        }
        Ok(Value::Object(out))
    }
}

/// The JSON property a prost field name stands for.
fn find_property<'a>(
    properties: &'a Map<String, Value>,
    rust_name: &str,
) -> Option<(&'a str, &'a Value)> {
    let wanted = normalize(rust_name);
    properties
        .iter()
        .find(|(name, _)| normalize(name) == wanted)
        .map(|(name, schema)| (name.as_str(), schema))
}

/// A name without case or separators: prost's `cluster_ips` and JSON's
/// `clusterIPs` are both `clusterips`.
pub(super) fn normalize(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

fn is_bytes(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("string")
        && schema.get("format").and_then(Value::as_str) == Some("byte")
}

fn bytes(integers: &[i64], path: &str) -> Result<Vec<u8>, ConvertError> {
    integers
        .iter()
        .map(|&integer| u8::try_from(integer).ok())
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| invalid(path, "bytes that are not bytes"))
}

fn base64(integers: &[i64], path: &str) -> Result<String, ConvertError> {
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes(integers, path)?))
}

fn number(text: &str, schema: &Value, path: &str) -> Result<Value, ConvertError> {
    if let Ok(int) = text.parse::<i64>() {
        return Ok(Value::from(int));
    }
    if let Ok(int) = text.parse::<u64>() {
        return Ok(Value::from(int));
    }
    let float: f64 = text
        .parse()
        .map_err(|_| invalid(path, format!("{text} is not a number")))?;
    if schema.get("type").and_then(Value::as_str) == Some("integer") {
        return Err(invalid(path, format!("{text} is not an integer")));
    }
    Number::from_f64(float)
        .map(Value::Number)
        .ok_or_else(|| invalid(path, format!("{text} has no JSON form")))
}

/// The messages JSON does not write as objects.
fn is_well_known(name: &str) -> bool {
    matches!(
        name,
        "Time" | "MicroTime" | "IntOrString" | "Quantity" | "RawExtension" | "FieldsV1"
    )
}

/// The JSON of the messages JSON does not write as objects; `None` for
/// any other message.
fn well_known(
    name: &str,
    fields: &[(String, Node)],
    path: &str,
) -> Result<Option<Option<Value>>, ConvertError> {
    let field = |wanted: &str| {
        fields
            .iter()
            .find(|(n, _)| n == wanted)
            .map(|(_, node)| unwrap_some(node))
            .filter(|node| **node != Node::None)
    };
    let special = match name {
        "Time" | "MicroTime" => {
            let seconds = int_field(field("seconds"), path)?;
            let nanos = int_field(field("nanos"), path)?;
            if seconds.is_none() && nanos.is_none() {
                // Go's zero time: JSON writes null, which means unset.
                None
            } else {
                let micro = name == "MicroTime";
                Some(Value::String(time(
                    seconds.unwrap_or(0),
                    nanos.unwrap_or(0),
                    micro,
                    path,
                )?))
            }
        }
        "IntOrString" => {
            let is_string = int_field(field("type"), path)? == Some(1);
            if is_string {
                Some(Value::String(str_field(field("str_val")).to_owned()))
            } else {
                Some(Value::from(int_field(field("int_val"), path)?.unwrap_or(0)))
            }
        }
        "Quantity" => field("string").map(|_| Value::String(str_field(field("string")).to_owned())),
        "RawExtension" | "FieldsV1" => embedded_json(field("raw"), path)?,
        _ => return Ok(None),
    };
    Ok(Some(special))
}

fn unwrap_some(node: &Node) -> &Node {
    match node {
        Node::Some(inner) => unwrap_some(inner),
        other => other,
    }
}

fn int_field(node: Option<&Node>, path: &str) -> Result<Option<i64>, ConvertError> {
    match node {
        None => Ok(None),
        Some(Node::Number(n)) => n
            .parse()
            .map(Some)
            .map_err(|_| invalid(path, format!("{n} is not an integer"))),
        Some(_) => Err(invalid(path, "expected an integer")),
    }
}

fn str_field(node: Option<&Node>) -> &str {
    match node {
        Some(Node::Str(s)) => s,
        _ => "",
    }
}

/// RFC 3339 in UTC: whole seconds for `Time`, microseconds for
/// `MicroTime`, as Go's JSON writes them.
fn time(seconds: i64, nanos: i64, micro: bool, path: &str) -> Result<String, ConvertError> {
    let nanos = i32::try_from(nanos).map_err(|_| invalid(path, "nanos out of range"))?;
    let timestamp = jiff::Timestamp::new(seconds, nanos)
        .map_err(|err| invalid(path, format!("the time is out of range: {err}")))?;
    let whole = timestamp.strftime("%Y-%m-%dT%H:%M:%S");
    Ok(if micro {
        format!("{whole}.{:06}Z", timestamp.subsec_microsecond())
    } else {
        format!("{whole}Z")
    })
}

/// The JSON held as bytes by a `RawExtension` or `FieldsV1`.
fn embedded_json(raw: Option<&Node>, path: &str) -> Result<Option<Value>, ConvertError> {
    let bytes = match raw {
        None => return Ok(None),
        Some(Node::List(items)) if items.is_empty() => return Ok(None),
        Some(Node::Integers(integers)) => bytes(integers, path)?,
        Some(_) => return Err(invalid(path, "expected bytes")),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|err| invalid(path, format!("the embedded object is not JSON: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_go_writes_them() {
        assert_eq!(time(0, 0, false, "").unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            time(1_700_000_000, 123_456_789, true, "").unwrap(),
            "2023-11-14T22:13:20.123456Z"
        );
        assert!(time(i64::MAX, 0, false, "").is_err());
    }

    use k8s_pb::api::core::v1 as core;
    use serde_json::json;

    fn container_json(container: &core::Container) -> Value {
        let table = super::super::kinds::table();
        let tree = super::super::debug::parse(&format!("{container:?}")).unwrap();
        let schema = json!({"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"});
        object(&tree, &schema, &table.definitions).unwrap()
    }

    #[test]
    fn go_zero_values_are_unset_but_pointers_to_zero_stay() {
        let container = core::Container {
            name: Some("app".into()),
            // Go writes these non-pointer fields even when unset.
            working_dir: Some(String::new()),
            stdin: Some(false),
            ports: vec![core::ContainerPort {
                container_port: Some(80),
                host_port: Some(0),
                ..Default::default()
            }],
            security_context: Some(core::SecurityContext {
                run_as_user: Some(0),
                privileged: Some(false),
                ..Default::default()
            }),
            resources: Some(core::ResourceRequirements::default()),
            // Newer than the API served here: dropped.
            restart_policy_rules: vec![core::ContainerRestartRule {
                action: Some("Restart".into()),
                exit_codes: None,
            }],
            ..Default::default()
        };
        assert_eq!(
            container_json(&container),
            json!({
                "name": "app",
                "ports": [{"containerPort": 80}],
                "securityContext": {"runAsUser": 0},
                "resources": {},
            })
        );
    }

    #[test]
    fn embedded_structs_are_written_inline() {
        let container = core::Container {
            name: Some("app".into()),
            liveness_probe: Some(core::Probe {
                handler: Some(core::ProbeHandler {
                    exec: Some(core::ExecAction {
                        command: vec!["true".into()],
                    }),
                    ..Default::default()
                }),
                period_seconds: Some(3),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            container_json(&container)["livenessProbe"],
            json!({"exec": {"command": ["true"]}, "periodSeconds": 3})
        );
    }

    #[test]
    fn prost_names_find_json_names() {
        let properties: Map<String, Value> = ["clusterIPs", "externalIPs", "type", "hostIPC"]
            .iter()
            .map(|n| (n.to_string(), Value::Null))
            .collect();
        for (rust, json) in [
            ("cluster_ips", "clusterIPs"),
            ("external_ips", "externalIPs"),
            ("type", "type"),
            ("host_ipc", "hostIPC"),
        ] {
            assert_eq!(find_property(&properties, rust).unwrap().0, json);
        }
        assert!(find_property(&properties, "unknown").is_none());
    }
}
