//! Server-side printing: the `meta.k8s.io/v1` `Table` that `kubectl get`
//! asks for (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`).
//!
//! The columns and cell texts follow upstream's printers
//! (`pkg/printers/internalversion`) for every kind keelson serves; any
//! other resource gets upstream's default table (`Name`, `Created At`).
//! Like upstream's table convertor, the cells of the `-o wide` columns
//! (priority 1) are always present; kubectl hides them unless asked.

mod core;
mod format;
mod network;
mod pod;
mod storage;
mod workloads;

use jiff::Timestamp;
use keelson_api::ResourceInfo;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use format::human_duration;

/// What each row carries in `object` (the `includeObject` query
/// parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// `includeObject=None`: `object` is null.
    None,
    /// `includeObject=Metadata`, the default: a `PartialObjectMetadata`.
    #[default]
    Metadata,
    /// `includeObject=Object`: the whole object.
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query parameter (`None`, `Metadata`,
    /// `Object`); the empty string is the default.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "None" => Some(Self::None),
            "" | "Metadata" => Some(Self::Metadata),
            "Object" => Some(Self::Object),
            _ => None,
        }
    }
}

/// One column of a table (`TableColumnDefinition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header (`Name`, `Ready`, `Up-to-date`); kubectl upper-cases it.
    pub name: &'static str,
    /// The OpenAPI type of the cells (`string`, `integer`, `boolean`, `date`).
    pub type_: &'static str,
    /// The OpenAPI format (`name` for the name column).
    pub format: &'static str,
    /// What the column shows.
    pub description: &'static str,
    /// 0: shown by default; 1: shown by `-o wide`.
    pub priority: u8,
}

impl Column {
    fn to_json(self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// A column shown by default.
const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        description,
        priority: 0,
    }
}

/// A column shown by `-o wide` only.
const fn wide(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        priority: 1,
        ..col(name, type_, description)
    }
}

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATION_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The name column every printer starts with.
const NAME: Column = Column {
    format: "name",
    ..col("Name", "string", NAME_DESCRIPTION)
};
/// The age column.
const AGE: Column = col("Age", "string", CREATION_DESCRIPTION);
/// The wide container names column of workloads.
const CONTAINERS: Column = wide(
    "Containers",
    "string",
    "Names of each container in the template.",
);
/// The wide images column of workloads.
const IMAGES: Column = wide(
    "Images",
    "string",
    "Images referenced by each container in the template.",
);

/// Upstream's default table for resources without a printer.
const DEFAULT_COLUMNS: &[Column] = &[NAME, col("Created At", "date", CREATION_DESCRIPTION)];

/// The cells of one row, and its conditions (`Completed` for finished
/// pods).
struct Row {
    cells: Vec<Value>,
    conditions: Option<Value>,
}

impl Row {
    fn new(cells: Vec<Value>) -> Self {
        Self {
            cells,
            conditions: None,
        }
    }
}

/// How one kind prints: its columns and a function from an object to its
/// row (`None` when the object does not have the kind's shape).
struct Printer {
    columns: &'static [Column],
    row: fn(&Value, Timestamp) -> Option<Row>,
}

/// The printer of a resource, if upstream has one for its kind.
fn printer(resource: &ResourceInfo) -> Option<Printer> {
    let printer = |columns, row| Some(Printer { columns, row });
    match (resource.group, resource.kind) {
        ("", "Pod") => printer(pod::COLUMNS, pod::row),
        ("apps", "Deployment") => printer(workloads::DEPLOYMENT, workloads::deployment),
        ("apps", "ReplicaSet") => printer(workloads::REPLICA_SET, workloads::replica_set),
        ("apps", "StatefulSet") => printer(workloads::STATEFUL_SET, workloads::stateful_set),
        ("apps", "DaemonSet") => printer(workloads::DAEMON_SET, workloads::daemon_set),
        ("apps", "ControllerRevision") => printer(
            workloads::CONTROLLER_REVISION,
            workloads::controller_revision,
        ),
        ("batch", "Job") => printer(workloads::JOB, workloads::job),
        ("batch", "CronJob") => printer(workloads::CRON_JOB, workloads::cron_job),
        ("", "Service") => printer(network::SERVICE, network::service),
        ("", "Endpoints") => printer(network::ENDPOINTS, network::endpoints),
        ("discovery.k8s.io", "EndpointSlice") => {
            printer(network::ENDPOINT_SLICE, network::endpoint_slice)
        }
        ("", "Node") => printer(core::NODE, core::node),
        ("", "Namespace") => printer(core::NAMESPACE, core::namespace),
        ("", "ConfigMap") => printer(core::CONFIG_MAP, core::config_map),
        ("", "Secret") => printer(core::SECRET, core::secret),
        ("", "ServiceAccount") => printer(core::SERVICE_ACCOUNT, core::service_account),
        ("", "Event") => printer(core::EVENT, core::event),
        ("coordination.k8s.io", "Lease") => printer(core::LEASE, core::lease),
        ("", "PersistentVolume") => printer(storage::PERSISTENT_VOLUME, storage::persistent_volume),
        ("", "PersistentVolumeClaim") => printer(
            storage::PERSISTENT_VOLUME_CLAIM,
            storage::persistent_volume_claim,
        ),
        _ => None,
    }
}

/// The columns of a resource's table.
pub fn columns(resource: &ResourceInfo) -> &'static [Column] {
    printer(resource).map_or(DEFAULT_COLUMNS, |p| p.columns)
}

/// The `columnDefinitions` of a resource's table (for callers that send
/// them once, e.g. before a watch of one-row tables).
pub fn column_definitions(resource: &ResourceInfo) -> Value {
    Value::Array(columns(resource).iter().map(|c| c.to_json()).collect())
}

/// The `Table` of `objects` (all of `resource`'s kind) as kubectl asks for
/// it, with ages computed at `now`. `metadata` is left empty for the
/// caller to fill (`resourceVersion`, `continue`).
pub fn table(
    resource: &ResourceInfo,
    objects: &[Value],
    include_object: IncludeObject,
    now: Timestamp,
) -> Value {
    let printer = printer(resource);
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let row = match &printer {
                Some(printer) => (printer.row)(object, now)
                    .unwrap_or_else(|| fallback_row(object, printer.columns, now)),
                None => default_row(object),
            };
            row_json(row, object, include_object)
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": column_definitions(resource),
        "rows": rows,
    })
}

fn row_json(row: Row, object: &Value, include_object: IncludeObject) -> Value {
    let object = match include_object {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
        IncludeObject::Object => object.clone(),
    };
    let mut out = json!({ "cells": row.cells, "object": object });
    if let Some(conditions) = row.conditions {
        out["conditions"] = conditions;
    }
    out
}

/// Upstream's default table row: the name and the creation time in
/// RFC 3339.
fn default_row(object: &Value) -> Row {
    let created = object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    Row::new(vec![json!(name_of(object)), json!(created)])
}

/// The row of an object its kind's printer could not read: its name and
/// age where they belong, `<unknown>` elsewhere.
fn fallback_row(object: &Value, columns: &[Column], now: Timestamp) -> Row {
    let created: Option<Timestamp> = object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse().ok());
    let cells = columns
        .iter()
        .map(|column| match column.name {
            "Name" => json!(name_of(object)),
            "Age" => json!(format::since(created, now)),
            _ => json!("<unknown>"),
        })
        .collect();
    Row::new(cells)
}

fn name_of(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Reads an object as its typed form.
fn typed<T: DeserializeOwned>(object: &Value) -> Option<T> {
    T::deserialize(object).ok()
}
