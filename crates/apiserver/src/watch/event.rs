//! What the cache holds and publishes: objects decoded once and shared by
//! the cache, its snapshots, its events and every watcher and list that
//! sends them; and changes whose watch lines are serialized once per way
//! of seeing them.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use keelson_store::{Event, EventKind, KeyValue};
use serde_json::Value;

use crate::objects::decode;
use crate::objects::list::Filter;

/// How every watch line starts, before its type.
const LINE_HEAD: &[u8] = b"{\"type\":\"";
/// Between the type and the object.
const LINE_OBJECT: &[u8] = b"\",\"object\":";
/// How every watch line ends.
const LINE_TAIL: &[u8] = b"}\n";

/// One object as the cache holds it, never changed once made, so that
/// the cache, its snapshots and events, and every watcher and list share
/// it rather than copy it.
///
/// It is kept as its `ADDED` watch line, about the size of its JSON and
/// ready to send; the decoded object is several times larger, so it is
/// made only for what needs it (selectors, tables, lookups) and kept only
/// for what reads it again and again (selectors, lookups).
pub struct CachedObject {
    /// The object's storage key.
    pub key: String,
    /// The revision of the write that made this version (its resourceVersion).
    pub revision: i64,
    /// Its `ADDED` watch line; the object's JSON is a view of it.
    line: Bytes,
    /// The object decoded, once something has asked for it to be kept.
    value: OnceLock<Value>,
}

impl CachedObject {
    /// Decodes a stored entry.
    pub fn decode(resource: &ResourceInfo, kv: &KeyValue) -> Result<Self, ApiError> {
        let value = decode(resource, kv)?;
        Ok(CachedObject {
            key: kv.key.clone(),
            revision: kv.mod_revision,
            line: event_line("ADDED", &value),
            value: OnceLock::new(),
        })
    }

    /// The `ADDED` watch line of this object.
    pub fn added_line(&self) -> Bytes {
        self.line.clone()
    }

    /// The object as JSON: a view of its `ADDED` line, not a copy.
    pub fn json(&self) -> Bytes {
        let start = LINE_HEAD.len() + "ADDED".len() + LINE_OBJECT.len();
        self.line.slice(start..self.line.len() - LINE_TAIL.len())
    }

    /// The object, decoded on first use and kept: for what reads it
    /// again and again (selectors, lookups).
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| self.parse())
    }

    /// The object for one use: the kept one, else decoded for the caller
    /// alone (tables and the other reshaped forms).
    pub fn parsed(&self) -> Cow<'_, Value> {
        match self.value.get() {
            Some(value) => Cow::Borrowed(value),
            None => Cow::Owned(self.parse()),
        }
    }

    /// Whether `filter` selects the object; it is decoded (and kept) only
    /// for a filter that reads it.
    pub fn selected_by(&self, filter: &Filter) -> bool {
        filter.is_everything() || filter.matches(self.value())
    }

    fn parse(&self) -> Value {
        // The cache serialized it itself, so it parses.
        serde_json::from_slice(&self.json()).unwrap_or(Value::Null)
    }
}

/// How a watcher sees one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Added,
    Modified,
    /// The object no longer matches the watcher's selectors.
    LeftSelector,
    /// The object was deleted.
    Deleted,
}

impl Seen {
    pub fn event_type(self) -> &'static str {
        match self {
            Seen::Added => "ADDED",
            Seen::Modified => "MODIFIED",
            Seen::LeftSelector | Seen::Deleted => "DELETED",
        }
    }
}

/// One change, decoded once for every watcher.
pub struct CachedEvent {
    pub revision: i64,
    pub key: String,
    /// The object after the change; `None` after a delete.
    pub new: Option<Arc<CachedObject>>,
    /// The object before the change.
    pub old: Option<Arc<CachedObject>>,
    /// About the bytes of its line: what a watcher's buffer counts.
    size: usize,
    /// The line of a delete, made once (it is the old object at a new
    /// resourceVersion); the other lines frame the objects' own JSON.
    deleted: OnceLock<Bytes>,
}

impl CachedEvent {
    /// The change `event` reports, from `old` to `new` (decoded already).
    pub fn new(
        event: &Event,
        new: Option<Arc<CachedObject>>,
        old: Option<Arc<CachedObject>>,
    ) -> Self {
        let stored = match (&event.kind, &event.prev) {
            (EventKind::Delete, Some(prev)) => prev.value.len(),
            _ => event.kv.value.len(),
        };
        CachedEvent {
            revision: event.revision(),
            key: event.kv.key.clone(),
            new,
            old,
            size: stored + event.kv.key.len() + 64,
            deleted: OnceLock::new(),
        }
    }

    /// Decodes a store event on its own (both of its objects).
    pub fn decode(resource: &ResourceInfo, event: &Event) -> Result<Self, ApiError> {
        let new = match event.kind {
            EventKind::Put => Some(Arc::new(CachedObject::decode(resource, &event.kv)?)),
            EventKind::Delete => None,
        };
        let old = event
            .prev
            .as_ref()
            .map(|kv| CachedObject::decode(resource, kv).map(Arc::new))
            .transpose()?;
        Ok(CachedEvent::new(event, new, old))
    }

    /// About how many bytes a watcher is sent for this change.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How a watcher without selectors sees this change.
    pub fn plain(&self) -> Seen {
        match (&self.new, &self.old) {
            (Some(_), Some(_)) => Seen::Modified,
            (Some(_), None) => Seen::Added,
            (None, _) => Seen::Deleted,
        }
    }

    /// The object a watcher is sent for this change (a copy, for the
    /// forms that reshape it).
    pub fn object(&self, seen: Seen) -> Value {
        match (seen, &self.new, &self.old) {
            (Seen::Deleted, _, Some(old)) => {
                let mut old = old.parsed().into_owned();
                old["metadata"]["resourceVersion"] = Value::from(self.revision.to_string());
                old
            }
            (_, Some(new), _) => new.parsed().into_owned(),
            _ => Value::Null,
        }
    }

    /// Writes the line of this change as `seen`.
    fn write_line(&self, seen: Seen, out: &mut Vec<u8>) {
        match (seen, &self.new) {
            (Seen::Added | Seen::Modified | Seen::LeftSelector, Some(new)) => {
                write_framed(out, seen.event_type(), &new.json());
            }
            _ => out.extend_from_slice(&self.line(seen)),
        }
    }

    /// The JSON line of this change as `seen`. Only a delete's is kept:
    /// the others are the object's own JSON in a new frame, and the
    /// window keeps events long after every watcher has sent them.
    pub fn line(&self, seen: Seen) -> Bytes {
        match (seen, &self.new) {
            // The object's own line, shared with the cache.
            (Seen::Added, Some(new)) => new.added_line(),
            (Seen::Modified | Seen::LeftSelector, Some(new)) => {
                framed_line(seen.event_type(), &new.json())
            }
            _ => self
                .deleted
                .get_or_init(|| event_line(seen.event_type(), &self.object(seen)))
                .clone(),
        }
    }
}

/// One watch event as a line of JSON.
pub fn event_line(event_type: &str, object: &Value) -> Bytes {
    let object = serde_json::to_vec(object).unwrap_or_default();
    framed_line(event_type, &object)
}

/// A watch line around an object's JSON.
fn framed_line(event_type: &str, object: &[u8]) -> Bytes {
    let mut line = Vec::with_capacity(object.len() + 40);
    write_framed(&mut line, event_type, object);
    Bytes::from(line)
}

/// Writes a watch line around an object's JSON.
fn write_framed(out: &mut Vec<u8>, event_type: &str, object: &[u8]) {
    out.extend_from_slice(LINE_HEAD);
    out.extend_from_slice(event_type.as_bytes());
    out.extend_from_slice(LINE_OBJECT);
    out.extend_from_slice(object);
    out.extend_from_slice(LINE_TAIL);
}

/// Events published to watchers together.
pub type Batch = Arc<EventBatch>;

/// Events published together, with their lines as a watcher without
/// selectors sees them, joined once for every such watcher.
pub struct EventBatch {
    events: Vec<Arc<CachedEvent>>,
    size: usize,
    plain: OnceLock<Bytes>,
}

impl EventBatch {
    pub fn new(events: Vec<Arc<CachedEvent>>) -> Self {
        EventBatch {
            size: events.iter().map(|event| event.size()).sum(),
            events,
            plain: OnceLock::new(),
        }
    }

    /// About how many bytes its events' lines take.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Every event's line as a watcher without selectors gets it.
    pub fn plain_lines(&self) -> Bytes {
        self.plain
            .get_or_init(|| match &self.events[..] {
                [one] => one.line(one.plain()),
                events => {
                    let mut joined = Vec::with_capacity(self.size);
                    for event in events {
                        event.write_line(event.plain(), &mut joined);
                    }
                    Bytes::from(joined)
                }
            })
            .clone()
    }
}

impl std::ops::Deref for EventBatch {
    type Target = [Arc<CachedEvent>];

    fn deref(&self) -> &Self::Target {
        &self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, revision: i64, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Bytes::from(value.to_string()),
            create_revision: 1,
            mod_revision: revision,
            version: 1,
        }
    }

    fn config_maps() -> &'static ResourceInfo {
        keelson_api::registry::by_resource("", "configmaps").expect("configmaps are registered")
    }

    #[test]
    fn lines_are_json_events_and_share_the_object() {
        let stored = r#"{"metadata":{"name":"a","namespace":"default"},"data":{"k":"v"}}"#;
        let object = CachedObject::decode(config_maps(), &kv("/k/a", 7, stored)).expect("decodes");
        let line: Value = serde_json::from_slice(&object.added_line()).expect("a JSON line");
        assert_eq!(line["type"], "ADDED");
        assert_eq!(line["object"]["metadata"]["resourceVersion"], "7");
        assert_eq!(line["object"]["kind"], "ConfigMap");
        assert!(object.added_line().ends_with(b"\n"));
        let json: Value = serde_json::from_slice(&object.json()).expect("the object's JSON");
        assert_eq!(&json, object.value());
        assert_eq!(json["data"]["k"], "v");
        // The same bytes each time: one serialization.
        assert_eq!(object.added_line().as_ptr(), object.added_line().as_ptr());
    }

    #[test]
    fn a_delete_is_the_old_object_at_the_delete_revision() {
        let stored = r#"{"metadata":{"name":"a","namespace":"default"}}"#;
        let event = Event {
            kind: EventKind::Delete,
            kv: kv("/k/a", 9, ""),
            prev: Some(kv("/k/a", 7, stored)),
        };
        let event = CachedEvent::decode(config_maps(), &event).expect("decodes");
        assert_eq!(event.plain(), Seen::Deleted);
        let line: Value = serde_json::from_slice(&event.line(Seen::Deleted)).expect("JSON");
        assert_eq!(line["type"], "DELETED");
        assert_eq!(line["object"]["metadata"]["resourceVersion"], "9");
        assert_eq!(line["object"]["metadata"]["name"], "a");
    }
}
