//! Lists in the form the client asks for, written item by item so that no
//! form holds a large list twice: from the watch cache's shared objects
//! as the client reads (`resourceVersion=0`), or, for the forms that
//! reshape each item (a Table, a `PartialObjectMetadataList`), from the
//! store's list JSON parsed one item at a time.

use std::fmt;

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Value, json};

use super::Params;
use crate::documents::table::{self, IncludeObject, PartialMetadata};
use crate::http::negotiation::Form;
use crate::http::response::{ApiResult, Failure, pieces_response, streamed_list};
use crate::objects::list::Filter;
use crate::watch::Snapshot;

/// How each item of a list is written.
#[derive(Clone, Copy)]
pub(super) enum Shape {
    /// The objects themselves, in the resource's list kind.
    Objects,
    /// Rows of a `meta.k8s.io` Table.
    Table {
        include: IncludeObject,
        now: jiff::Timestamp,
    },
    /// `PartialObjectMetadata` in a `PartialObjectMetadataList`.
    Metadata,
}

/// Closes a list begun with [`Shape::head`].
const TAIL: &[u8] = b"]}";

impl Shape {
    /// The shape of a list in `form` (not `Form::Metadata`, which is for
    /// one object).
    pub(super) fn of(form: Form, params: &Params) -> ApiResult<Self> {
        Ok(match form {
            Form::Table => Shape::Table {
                include: include_object(params)?,
                now: jiff::Timestamp::now(),
            },
            Form::MetadataList => Shape::Metadata,
            Form::Object | Form::Metadata => Shape::Objects,
        })
    }

    /// The list's JSON up to its first item.
    fn head(self, resource: &ResourceInfo, metadata: &Value) -> Vec<u8> {
        let start = match self {
            Shape::Table { .. } => return table::head(resource, metadata),
            Shape::Objects => json!({
                "kind": resource.list_kind,
                "apiVersion": resource.api_version(),
                "metadata": metadata,
            }),
            Shape::Metadata => json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata,
            }),
        };
        let mut head = serde_json::to_vec(&start).unwrap_or_default();
        // Reopened after its last field, for the items.
        head.pop();
        head.extend_from_slice(b",\"items\":[");
        head
    }

    /// Writes one item of the list.
    fn write(self, resource: &ResourceInfo, object: &Value, out: &mut Vec<u8>) {
        // Writing values to memory cannot fail.
        let _ = match self {
            Shape::Objects => serde_json::to_writer(out, object),
            Shape::Table { include, now } => {
                table::write_row(out, resource, object, include, now);
                Ok(())
            }
            Shape::Metadata => serde_json::to_writer(out, &PartialMetadata::of(object)),
        };
    }
}

/// The table's `includeObject` parameter.
pub(super) fn include_object(params: &Params) -> ApiResult<IncludeObject> {
    let include = params
        .get("includeObject")
        .map(String::as_str)
        .unwrap_or("");
    IncludeObject::parse(include).ok_or_else(|| {
        Failure(ApiError::bad_request(format!(
            "invalid includeObject {include:?}"
        )))
    })
}

/// The objects of `snapshot` under `prefix` that `filter` selects, in
/// `shape`, written as the client reads: the objects stay the cache's.
pub(super) fn from_snapshot(
    resource: &'static ResourceInfo,
    snapshot: &Snapshot,
    prefix: &str,
    filter: Filter,
    shape: Shape,
) -> Response {
    let metadata = json!({"resourceVersion": snapshot.revision().to_string()});
    let items = snapshot
        .under(prefix)
        .filter(move |object| object.selected_by(&filter));
    let head = shape.head(resource, &metadata);
    streamed_list(
        head,
        items,
        move |object, out| match shape {
            // The cache's own JSON of the object, made once for everyone.
            Shape::Objects => out.extend_from_slice(&object.json()),
            shape => shape.write(resource, &object.parsed(), out),
        },
        TAIL,
    )
}

/// A list's JSON (as the store's list makes it) reshaped item by item:
/// each item is parsed, written in `shape` and let go before the next.
pub(super) fn reshaped(
    resource: &'static ResourceInfo,
    list: &[u8],
    shape: Shape,
) -> ApiResult<Response> {
    let mut items = Vec::new();
    let metadata = for_each_item(list, |object| {
        if !items.is_empty() {
            items.push(b',');
        }
        shape.write(resource, &object, &mut items);
    })
    .map_err(|err| Failure(ApiError::internal(format!("a list did not parse: {err}"))))?;
    let head = shape.head(resource, &metadata);
    let pieces = vec![
        Bytes::from(head),
        Bytes::from(items),
        Bytes::from_static(TAIL),
    ];
    Ok(pieces_response(StatusCode::OK, pieces))
}

/// Calls `each` with every item of a list document, parsing one at a
/// time, and returns the list's `metadata`.
fn for_each_item(list: &[u8], each: impl FnMut(Value)) -> Result<Value, serde_json::Error> {
    let mut parser = serde_json::Deserializer::from_slice(list);
    let metadata = ListSeed { each }.deserialize(&mut parser)?;
    parser.end()?;
    Ok(metadata)
}

/// Reads a list object, handing out its items.
struct ListSeed<F> {
    each: F,
}

impl<'de, F: FnMut(Value)> DeserializeSeed<'de> for ListSeed<F> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Value)> Visitor<'de> for ListSeed<F> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let mut metadata = json!({});
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "items" => map.next_value_seed(Items(&mut self.each))?,
                "metadata" => metadata = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(metadata)
    }
}

/// Reads a list's `items`, one at a time.
struct Items<'a, F>(&'a mut F);

impl<'de, F: FnMut(Value)> DeserializeSeed<'de> for Items<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Value)> Visitor<'de> for Items<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list's items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Value>()? {
            (self.0)(item);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_read_one_by_one_with_the_metadata() {
        let list = br#"{"apiVersion":"v1","kind":"ConfigMapList","metadata":{"resourceVersion":"5","continue":"x"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#;
        let mut names = Vec::new();
        let metadata = for_each_item(list, |item| names.push(item["metadata"]["name"].clone()))
            .expect("a list parses");
        assert_eq!(names, [json!("a"), json!("b")]);
        assert_eq!(metadata, json!({"resourceVersion": "5", "continue": "x"}));
        assert!(for_each_item(b"{\"items\":[", |_| {}).is_err());
    }

    #[test]
    fn a_reshaped_list_is_whole_json() {
        let resource = keelson_api::registry::by_resource("", "configmaps").expect("registered");
        let list = br#"{"metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"a","creationTimestamp":"2024-01-01T00:00:00Z"}},{"metadata":{"name":"b"}}]}"#;
        for shape in [
            Shape::Metadata,
            Shape::Table {
                include: IncludeObject::Metadata,
                now: jiff::Timestamp::now(),
            },
        ] {
            let mut items = Vec::new();
            let metadata = for_each_item(list, |o| {
                if !items.is_empty() {
                    items.push(b',');
                }
                shape.write(resource, &o, &mut items);
            })
            .expect("parses");
            let mut whole = shape.head(resource, &metadata);
            whole.extend_from_slice(&items);
            whole.extend_from_slice(TAIL);
            let whole: Value = serde_json::from_slice(&whole).expect("whole JSON");
            assert_eq!(whole["metadata"]["resourceVersion"], "5");
            let entries = whole.get("rows").or(whole.get("items")).expect("entries");
            assert_eq!(entries.as_array().map(Vec::len), Some(2), "{whole}");
        }
    }
}
