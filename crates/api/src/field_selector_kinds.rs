//! Which fields each kind lets clients select on, how each is read from the
//! object, and the message a Kubernetes v1.33 API server gives for any other
//! field (it differs by kind).

use serde_json::Value;

use crate::field_selector::Error;

/// How a selectable field is read from the object's JSON.
#[derive(Debug, Clone, Copy)]
enum Reader {
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

#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    reader: Reader,
}

const fn text(name: &'static str, path: &'static [&'static str]) -> Field {
    Field {
        name,
        reader: Reader::Text(path),
    }
}

const NAME: Field = text("metadata.name", &["metadata", "name"]);
const NAMESPACE: Field = text("metadata.namespace", &["metadata", "namespace"]);

/// How a kind words its refusal of an unsupported field.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// Kinds without a list of their own: only name and namespace.
    OnlyMetadata,
    /// The core kinds with their own list.
    Core,
    /// batch/v1 Job.
    Job,
}

/// The selectable fields of one kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KindFields {
    fields: &'static [Field],
    /// Old field names accepted as another name.
    aliases: &'static [(&'static str, &'static str)],
    refusal: Refusal,
}

const POD: &[Field] = &[
    NAME,
    NAMESPACE,
    text("spec.nodeName", &["spec", "nodeName"]),
    text("spec.restartPolicy", &["spec", "restartPolicy"]),
    text("spec.schedulerName", &["spec", "schedulerName"]),
    text("spec.serviceAccountName", &["spec", "serviceAccountName"]),
    Field {
        name: "spec.hostNetwork",
        reader: Reader::Bool(&["spec", "hostNetwork"]),
    },
    text("status.phase", &["status", "phase"]),
    Field {
        name: "status.podIP",
        reader: Reader::PodIp,
    },
    text("status.nominatedNodeName", &["status", "nominatedNodeName"]),
];

const EVENT: &[Field] = &[
    NAME,
    NAMESPACE,
    text("involvedObject.kind", &["involvedObject", "kind"]),
    text("involvedObject.namespace", &["involvedObject", "namespace"]),
    text("involvedObject.name", &["involvedObject", "name"]),
    text("involvedObject.uid", &["involvedObject", "uid"]),
    text(
        "involvedObject.apiVersion",
        &["involvedObject", "apiVersion"],
    ),
    text(
        "involvedObject.resourceVersion",
        &["involvedObject", "resourceVersion"],
    ),
    text("involvedObject.fieldPath", &["involvedObject", "fieldPath"]),
    text("reason", &["reason"]),
    text("reportingComponent", &["reportingComponent"]),
    Field {
        name: "source",
        reader: Reader::EventSource,
    },
    text("type", &["type"]),
];

const NODE: &[Field] = &[
    NAME,
    Field {
        name: "spec.unschedulable",
        reader: Reader::Bool(&["spec", "unschedulable"]),
    },
];

const NAMESPACE_KIND: &[Field] = &[NAME, text("status.phase", &["status", "phase"])];

const SECRET: &[Field] = &[NAME, NAMESPACE, text("type", &["type"])];

const SERVICE: &[Field] = &[
    NAME,
    NAMESPACE,
    text("spec.clusterIP", &["spec", "clusterIP"]),
    text("spec.type", &["spec", "type"]),
];

const JOB: &[Field] = &[
    NAME,
    NAMESPACE,
    Field {
        name: "status.successful",
        reader: Reader::Count(&["status", "succeeded"]),
    },
];

const METADATA_ONLY: &[Field] = &[NAME, NAMESPACE];

const fn core(fields: &'static [Field]) -> KindFields {
    KindFields {
        fields,
        aliases: &[],
        refusal: Refusal::Core,
    }
}

/// The selectable fields of `kind` in `group` (`""` for the core group).
pub(crate) fn fields_of(group: &str, kind: &str) -> KindFields {
    match (group, kind) {
        ("", "Pod") => KindFields {
            fields: POD,
            aliases: &[("spec.host", "spec.nodeName")],
            refusal: Refusal::Core,
        },
        ("", "Event") => core(EVENT),
        ("", "Node") => core(NODE),
        ("", "Namespace") => core(NAMESPACE_KIND),
        ("", "Secret") => core(SECRET),
        ("", "Service") => core(SERVICE),
        ("batch", "Job") => KindFields {
            fields: JOB,
            aliases: &[],
            refusal: Refusal::Job,
        },
        _ => KindFields {
            fields: METADATA_ONLY,
            aliases: &[],
            refusal: Refusal::OnlyMetadata,
        },
    }
}

impl KindFields {
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
            Refusal::Job => format!("field label {quoted} not supported for batchv1.Job"),
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
