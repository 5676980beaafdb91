//! keelson's storage layer: a revisioned key-value store with the semantics of
//! etcd v3, behind one object-safe trait.
//!
//! Every committed write advances one global revision by one. Each key carries
//! its `create_revision`, `mod_revision` and `version`; an object's
//! `metadata.resourceVersion` is its `mod_revision`. Conditional writes compare
//! `mod_revision`, watches deliver ordered events with the previous value, and
//! compaction drops history older than a revision (later reads of it fail with
//! [`StoreError::Compacted`]).
//!
//! Backends: [`embedded`] (redb, the default) and [`etcd`]. [`open`] picks one
//! from a URL at run time.

pub mod compactor;
pub mod embedded;
mod error;
pub mod etcd;
mod key;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

pub use error::StoreError;
pub use key::{MAX_KEY_BYTES, MAX_VALUE_BYTES, prefix_end, validate_key, validate_prefix};

/// A store revision: the count of writes committed since the store was made.
pub type Revision = i64;

/// A key and its value as of one revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    /// The stored bytes; cloning shares them rather than copying.
    pub value: Bytes,
    /// Revision of the write that created the key (since its last deletion).
    pub create_revision: Revision,
    /// Revision of the write that last changed the key.
    pub mod_revision: Revision,
    /// Number of writes to the key since it was created (1 after the create).
    pub version: i64,
}

/// What a watch event reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The key was created or changed.
    Put,
    /// The key was deleted.
    Delete,
}

/// One change to one key, in revision order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The key after the change. For a delete: the key with an empty value,
    /// `mod_revision` the revision of the delete, and zero create revision and
    /// version (as etcd reports it).
    pub kv: KeyValue,
    /// The key before the change, if it existed.
    pub prev: Option<KeyValue>,
}

impl Event {
    /// The revision at which the change was committed.
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }

    /// True for the put that created the key.
    pub fn is_create(&self) -> bool {
        self.kind == EventKind::Put && self.kv.create_revision == self.kv.mod_revision
    }
}

/// A read of the keys under a prefix.
#[derive(Clone, Debug, Default)]
pub struct RangeRequest {
    /// Every key read starts with this (non-empty, starting with '/').
    pub prefix: String,
    /// Start strictly after this key (for continuing a paged read).
    pub start_after: Option<String>,
    /// Read as of this revision; `None` reads the latest.
    pub revision: Option<Revision>,
    /// Return at most this many keys; `None` returns all.
    pub limit: Option<usize>,
}

/// The keys a [`RangeRequest`] found, in key order.
#[derive(Clone, Debug, Default)]
pub struct RangeResponse {
    pub kvs: Vec<KeyValue>,
    /// True when keys remain after the last one returned.
    pub more: bool,
    /// The revision the read was served at: pass it back to read the next page
    /// consistently.
    pub revision: Revision,
}

/// A stream of watch events. After an error item (for instance
/// [`StoreError::Compacted`]) the stream ends.
pub type WatchStream = BoxStream<'static, Result<Event, StoreError>>;

/// The contract every backend meets; see the crate docs.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The key's latest value, or `None`.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError>;

    /// Keys under a prefix at one revision, with limit and continue.
    async fn range(&self, request: RangeRequest) -> Result<RangeResponse, StoreError>;

    /// Creates the key if it does not exist; otherwise [`StoreError::AlreadyExists`].
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StoreError>;

    /// Replaces the value if the key's `mod_revision` is `expected`; otherwise
    /// [`StoreError::Conflict`] carrying the current value, or
    /// [`StoreError::NotFound`].
    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Revision,
    ) -> Result<KeyValue, StoreError>;

    /// Deletes the key, if `expected` is given only when its `mod_revision`
    /// matches. Returns the deleted value.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError>;

    /// Events for keys under `prefix`, from revision `from` on (inclusive).
    /// `from == 0` starts after the current revision.
    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StoreError>;

    /// Drops history before `revision`: later reads and watches at older
    /// revisions fail with [`StoreError::Compacted`].
    async fn compact(&self, revision: Revision) -> Result<(), StoreError>;

    /// The latest committed revision.
    async fn current_revision(&self) -> Result<Revision, StoreError>;
}

/// Opens the backend a URL names: `embedded:DIR` (a redb database in DIR) or
/// `etcd://HOST:PORT[,HOST:PORT...]`. For etcd it also starts a
/// [`compactor`], as the embedded store compacts itself.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(dir) = url.strip_prefix("embedded:") {
        if dir.is_empty() {
            return Err(StoreError::InvalidUrl {
                url: url.to_string(),
                reason: "embedded: needs a directory, e.g. embedded:/var/lib/keelson".into(),
            });
        }
        let store = embedded::EmbeddedStore::open(dir, embedded::Options::default())?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("etcd://") {
        let endpoints = etcd::parse_endpoints(url)?;
        let store: Arc<dyn Store> = Arc::new(etcd::EtcdStore::connect(&endpoints).await?);
        // The embedded store compacts itself; a shared etcd needs its servers to.
        compactor::spawn(Arc::clone(&store), compactor::DEFAULT_INTERVAL);
        return Ok(store);
    }
    Err(StoreError::InvalidUrl {
        url: url.to_string(),
        reason: "expected embedded:DIR or etcd://HOST:PORT[,HOST:PORT]".into(),
    })
}
