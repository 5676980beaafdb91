//! The store's one error type, with variants named after what a caller can do.

use crate::{KeyValue, Revision};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A create found the key already there.
    #[error("key {key:?} already exists")]
    AlreadyExists { key: String },

    /// The key does not exist.
    #[error("key {key:?} not found")]
    NotFound { key: String },

    /// A conditional write lost: the key changed since `expected`.
    #[error(
        "key {key:?} was modified: expected revision {expected}, found {}",
        current_revision(current)
    )]
    Conflict {
        key: String,
        expected: Revision,
        /// The value now stored, so the caller can retry without another read.
        current: Option<Box<KeyValue>>,
    },

    /// The requested revision is older than the oldest one kept.
    #[error("revision {requested} has been compacted (compacted up to {compacted})")]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },

    /// The requested revision has not happened yet.
    #[error("revision {requested} is newer than the current revision {current}")]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },

    /// A value over [`crate::MAX_VALUE_BYTES`].
    #[error("value of {size} bytes for key {key:?} is over the limit of {limit} bytes")]
    ValueTooLarge {
        key: String,
        size: usize,
        limit: usize,
    },

    /// An empty or malformed key or prefix.
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey { key: String, reason: String },

    /// The store URL could not be understood.
    #[error("invalid store URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// The embedded database file is damaged or not a database at all. It is
    /// left untouched for inspection.
    #[error("the database at {path} cannot be opened: {detail}")]
    Corrupt { path: String, detail: String },

    /// The backend could not be reached or is shutting down; retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),

    /// A failure of the backend itself (I/O errors and the like).
    #[error("store failure: {0}")]
    Internal(String),
}

fn current_revision(current: &Option<Box<KeyValue>>) -> String {
    match current {
        Some(kv) => kv.mod_revision.to_string(),
        None => "no value".to_string(),
    }
}
