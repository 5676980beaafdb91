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
    let printer = resource.strategy.printer();
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
