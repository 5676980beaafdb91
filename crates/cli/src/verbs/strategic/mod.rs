//! Client-side apply's three-way strategic merge patch, computed as kubectl
//! computes it (k8s.io/apimachinery `strategicpatch.CreateThreeWayMergePatch`
//! with overwrite): the patch is the difference from the live object to the
//! file without deletions ("delta"), combined with the deletions from the
//! last applied configuration to the file ("deletions").
//!
//! - a field the last apply set and the file dropped becomes `null`; a list
//!   item merged by key becomes `{key: value, $patch: delete}`; a scalar of
//!   a merged list goes into `$deleteFromPrimitiveList/<list>`;
//! - merged lists that change carry `$setElementOrder/<list>` (the file's
//!   order), fields with the `retainKeys` strategy carry `$retainKeys`;
//! - lists without the merge strategy go whole;
//! - what only others wrote (absent from the last apply and from the file)
//!   is never in the patch, so it survives.
//!
//! Which lists merge, on which key, comes from [`Shape`] (the same table the
//! server merges with); the two halves combine with the server's own merge
//! ([`strategic_merge::merge_patches`]) and lists are ordered by its
//! functions. Only the diff is computed here. The functions are pure:
//! values in, patch out.

mod diff;

// The directive names, as the server reads them.
use keelson_api::strategic_merge::{
    self, DELETE_FROM_PRIMITIVE_LIST, PATCH, RETAIN_KEYS, SET_ELEMENT_ORDER, Shape,
};
use serde_json::{Map, Value};

/// Why no patch could be computed: the file (or the live object) does not
/// fit the declared list semantics. Nothing was sent; the user fixes the
/// file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An item of a list merged by key lacks the key.
    #[error("map: {item} does not contain declared merge key: {key}")]
    NoMergeKey { item: String, key: String },
    /// Values that cannot be diffed or combined (mixed item types, lists of
    /// lists, a malformed directive in the file).
    #[error("{0}")]
    Invalid(String),
}

impl From<strategic_merge::Error> for Error {
    fn from(err: strategic_merge::Error) -> Self {
        Error::Invalid(err.to_string())
    }
}

/// The strategic merge patch that makes `current` (the live object) what
/// `modified` (the file, with its new last-applied annotation) says,
/// deleting what `original` (the last applied configuration) set and the
/// file no longer does. An empty object when nothing would change.
pub fn three_way(
    original: Option<&Value>,
    modified: &Value,
    current: &Value,
    shape: &Shape,
) -> Result<Value, Error> {
    let empty = Map::new();
    let original = original.and_then(Value::as_object).unwrap_or(&empty);
    let modified = modified.as_object().unwrap_or(&empty);
    let current = current.as_object().unwrap_or(&empty);
    let delta = diff::diff_maps(current, modified, shape, diff::Options::DELTA)?;
    let deletions = diff::diff_maps(original, modified, shape, diff::Options::DELETIONS)?;
    let patch = strategic_merge::merge_patches(shape, deletions, delta)?;
    Ok(Value::Object(patch))
}

/// How Go's `%v` prints a merge key or a scalar: the order in which
/// kubectl sorts items before diffing them.
fn go_text(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".into(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The type of a decoded JSON value as Go's reflection sees it: kubectl
/// replaces a field whose type changed instead of diffing inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Int,
    Float,
    String,
    List,
    Map,
}

fn kind(value: &Value) -> Kind {
    match value {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) if n.is_f64() => Kind::Float,
        Value::Number(_) => Kind::Int,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::List,
        Value::Object(_) => Kind::Map,
    }
}

/// The kind shared by every item of the lists; `None` when they have no
/// items; an error for mixed kinds or lists of lists.
fn element_kind(lists: &[&[Value]]) -> Result<Option<Kind>, Error> {
    let mut found = None;
    for item in lists.iter().flat_map(|list| list.iter()) {
        let this = kind(item);
        if this == Kind::List {
            return Err(Error::Invalid("lists of lists are not supported".into()));
        }
        match found {
            None => found = Some(this),
            Some(kind) if kind != this => {
                let lists: Vec<String> = lists
                    .iter()
                    .map(|l| Value::Array(l.to_vec()).to_string())
                    .collect();
                return Err(Error::Invalid(format!(
                    "list element types are not identical: {}",
                    lists.join(" ")
                )));
            }
            Some(_) => {}
        }
    }
    Ok(found)
}

/// The value of an item's merge key, or the error kubectl reports.
fn merge_key_value<'v>(item: &'v Value, key: &str) -> Result<&'v Value, Error> {
    item.get(key).ok_or_else(|| Error::NoMergeKey {
        item: item.to_string(),
        key: key.to_string(),
    })
}

#[cfg(test)]
mod tests;
