//! Server-side printing: the `meta.k8s.io/v1` `Table` that `kubectl get`
//! asks for (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`).
//!
//! The columns and cell texts come from each kind's printer, which its
//! strategy names (see `keelson_api::printers`); a resource without one
//! gets upstream's default table (`Name`, `Created At`).
//! Like upstream's table convertor, the cells of the `-o wide` columns
//! (priority 1) are always present; kubectl hides them unless asked.

use jiff::Timestamp;
use keelson_api::ResourceInfo;
use keelson_api::printers::{Column, DEFAULT_COLUMNS, Row, since};
use serde::Serialize;
use serde_json::{Value, json};

pub use keelson_api::printers::human_duration;

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

/// The columns of a resource's table.
pub fn columns(resource: &ResourceInfo) -> &'static [Column] {
    resource
        .strategy
        .printer()
        .map_or(DEFAULT_COLUMNS, |p| p.columns)
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
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| row_json(row(resource, object, now), object, include_object))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": column_definitions(resource),
        "rows": rows,
    })
}

/// The JSON of a table up to its first row, with `metadata`, for callers
/// that write the rows one by one ([`write_row`]) and end with [`TAIL`].
pub fn head(resource: &ResourceInfo, metadata: &Value) -> Vec<u8> {
    let start = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": column_definitions(resource),
    });
    let mut head = serde_json::to_vec(&start).unwrap_or_default();
    // Reopened after its last field, for the rows.
    head.pop();
    head.extend_from_slice(b",\"rows\":[");
    head
}

/// What ends a table begun with [`head`].
pub const TAIL: &[u8] = b"]}";

/// Writes the row of `object` as [`table`] makes it, without copying the
/// object (rows are separated by the caller).
pub fn write_row(
    out: &mut Vec<u8>,
    resource: &ResourceInfo,
    object: &Value,
    include_object: IncludeObject,
    now: Timestamp,
) {
    let row = row(resource, object, now);
    let written = RowOut {
        cells: &row.cells,
        conditions: row.conditions.as_ref(),
        object: RowObject {
            object,
            include: include_object,
        },
    };
    // Writing values to memory cannot fail.
    let _ = serde_json::to_writer(out, &written);
}

/// One object's row, from its kind's printer.
fn row(resource: &ResourceInfo, object: &Value, now: Timestamp) -> Row {
    match resource.strategy.printer() {
        Some(printer) => printer
            .row(object, now)
            .unwrap_or_else(|| fallback_row(object, printer.columns, now)),
        None => default_row(object),
    }
}

fn row_json(row: Row, object: &Value, include_object: IncludeObject) -> Value {
    let object = match include_object {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => partial_metadata(object),
        IncludeObject::Object => object.clone(),
    };
    let mut out = json!({ "cells": row.cells, "object": object });
    if let Some(conditions) = row.conditions {
        out["conditions"] = conditions;
    }
    out
}

/// The `PartialObjectMetadata` of `object`.
fn partial_metadata(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A row as [`row_json`] makes it, serialized from borrowed parts.
#[derive(Serialize)]
struct RowOut<'a> {
    cells: &'a [Value],
    #[serde(skip_serializing_if = "Option::is_none")]
    conditions: Option<&'a Value>,
    object: RowObject<'a>,
}

/// What a row carries in `object`, borrowed.
struct RowObject<'a> {
    object: &'a Value,
    include: IncludeObject,
}

impl Serialize for RowObject<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.include {
            IncludeObject::None => serializer.serialize_unit(),
            IncludeObject::Metadata => PartialMetadata::of(self.object).serialize(serializer),
            IncludeObject::Object => self.object.serialize(serializer),
        }
    }
}

/// The `PartialObjectMetadata` of an object, borrowing its metadata.
#[derive(Serialize)]
pub struct PartialMetadata<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: &'a Value,
}

/// The metadata of an object that has none.
static NO_METADATA: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| json!({}));

impl<'a> PartialMetadata<'a> {
    /// The `PartialObjectMetadata` of `object`.
    pub fn of(object: &'a Value) -> Self {
        PartialMetadata {
            kind: "PartialObjectMetadata",
            api_version: "meta.k8s.io/v1",
            metadata: object.get("metadata").unwrap_or(&NO_METADATA),
        }
    }
}

/// Upstream's default table row: the name and the creation time in
/// RFC 3339.
fn default_row(object: &Value) -> Row {
    let created = object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    Row {
        cells: vec![json!(name_of(object)), json!(created)],
        conditions: None,
    }
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
            "Age" => json!(since(created, now)),
            _ => json!("<unknown>"),
        })
        .collect();
    Row {
        cells,
        conditions: None,
    }
}

fn name_of(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INCLUDES: [IncludeObject; 3] = [
        IncludeObject::None,
        IncludeObject::Metadata,
        IncludeObject::Object,
    ];

    #[test]
    fn written_rows_are_the_table_rows_of_every_kind() {
        let now: Timestamp = "2025-01-02T00:00:00Z".parse().expect("a time");
        let object = json!({
            "metadata": {"name": "a", "namespace": "default", "labels": {"x": "y"},
                         "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": {}, "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            "data": {"k": "v"},
        });
        for resource in keelson_api::registry::all() {
            for include in INCLUDES {
                let whole = table(resource, std::slice::from_ref(&object), include, now);
                let mut written = Vec::new();
                write_row(&mut written, resource, &object, include, now);
                let written: Value = serde_json::from_slice(&written).expect("a JSON row");
                assert_eq!(written, whole["rows"][0], "{} {include:?}", resource.plural);
            }
        }
    }

    #[test]
    fn a_table_from_its_head_and_rows_is_the_whole_table() {
        let now = Timestamp::now();
        let resource = keelson_api::registry::by_resource("", "configmaps").expect("registered");
        let objects = [
            json!({"metadata": {"name": "a"}}),
            json!({"metadata": {"name": "b"}}),
        ];
        let metadata = json!({"resourceVersion": "7"});
        let mut streamed = head(resource, &metadata);
        for (i, object) in objects.iter().enumerate() {
            if i > 0 {
                streamed.push(b',');
            }
            write_row(
                &mut streamed,
                resource,
                object,
                IncludeObject::Metadata,
                now,
            );
        }
        streamed.extend_from_slice(TAIL);
        let streamed: Value = serde_json::from_slice(&streamed).expect("a JSON table");
        let mut whole = table(resource, &objects, IncludeObject::Metadata, now);
        whole["metadata"] = metadata;
        assert_eq!(streamed, whole);
    }
}
