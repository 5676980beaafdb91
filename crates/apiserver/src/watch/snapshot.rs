//! The cache's objects at one revision, as an immutable list in key order.
//!
//! The cache builds the list at most once per revision, on first demand,
//! and hands out the same list to every watch and list that starts there:
//! a watcher's initial events are a cursor into it, not a copy of the
//! objects (10,000 objects cost each watcher a pointer, not 10,000 copies).

use std::sync::Arc;

use super::event::CachedObject;

/// The objects of a cache at one revision, shared by whoever holds it.
#[derive(Clone)]
pub struct Snapshot {
    objects: Arc<[Arc<CachedObject>]>,
    revision: i64,
}

impl Snapshot {
    /// A snapshot of `objects` (in key order) at `revision`.
    pub(super) fn new(objects: Arc<[Arc<CachedObject>]>, revision: i64) -> Self {
        Snapshot { objects, revision }
    }

    /// The revision the snapshot reflects.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// The objects whose keys start with `prefix`, in key order; the
    /// iterator holds the snapshot, so it may outlive this value.
    pub fn under(&self, prefix: &str) -> Under {
        let start = self
            .objects
            .partition_point(|object| object.key.as_str() < prefix);
        let len = self.objects[start..].partition_point(|object| object.key.starts_with(prefix));
        Under {
            objects: Arc::clone(&self.objects),
            next: start,
            end: start + len,
        }
    }
}

/// The objects of a snapshot under one prefix.
pub struct Under {
    objects: Arc<[Arc<CachedObject>]>,
    next: usize,
    end: usize,
}

impl Iterator for Under {
    type Item = Arc<CachedObject>;

    fn next(&mut self) -> Option<Self::Item> {
        let object = self.objects[self.next..self.end].first()?;
        self.next += 1;
        Some(Arc::clone(object))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.end - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Under {}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str) -> Arc<CachedObject> {
        let kv = keelson_store::KeyValue {
            key: key.into(),
            value: bytes::Bytes::from_static(b"{\"metadata\":{}}"),
            create_revision: 1,
            mod_revision: 1,
            version: 1,
        };
        let resource = keelson_api::registry::by_resource("", "configmaps").expect("registered");
        Arc::new(CachedObject::decode(resource, &kv).expect("decodes"))
    }

    #[test]
    fn under_a_prefix_is_its_keys_in_order() {
        let keys = ["/c/a/1", "/c/b/1", "/c/b/2", "/c/bb/1", "/c/c/1"];
        let objects: Vec<_> = keys.iter().map(|key| object(key)).collect();
        let snapshot = Snapshot::new(objects.into(), 5);
        let keys_under = |prefix: &str| -> Vec<String> {
            snapshot.under(prefix).map(|o| o.key.clone()).collect()
        };
        assert_eq!(keys_under("/c/b/"), ["/c/b/1", "/c/b/2"]);
        assert_eq!(keys_under("/c/"), keys);
        assert!(keys_under("/c/d/").is_empty());
        assert!(keys_under("/a/").is_empty());
        assert_eq!(snapshot.under("/c/").len(), 5);
    }
}
