//! The embedded backend: a single redb file with etcd's revision semantics.
//!
//! Writes go through one writer thread that commits in groups (see
//! [`writer`]); reads open their own read transactions and never wait for
//! writes. Watches catch up from the write log and then follow the events each
//! commit publishes; they share the published values instead of copying them.

mod record;
mod tables;
mod watch;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use redb::{Database, ReadableDatabase};
use tokio::sync::{broadcast, oneshot};

use crate::key::{validate_key, validate_prefix, validate_value};
use crate::{
    Event, KeyValue, RangeRequest, RangeResponse, Revision, Store, StoreError, WatchStream,
};
use tables::{LOG, META, META_COMPACTED, META_REVISION, VERSIONS, storage};
use writer::{Request, Write};

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "store.redb";

/// How many published commits a watcher may fall behind before it catches
/// up from the write log instead.
const EVENT_BUFFER: usize = 4096;

/// Settings of the embedded store.
#[derive(Clone, Debug)]
pub struct Options {
    /// How often history is compacted; each run keeps at least this much.
    pub compaction_interval: Duration,
}

impl Default for Options {
    fn default() -> Self {
        // Upstream's API server compacts every five minutes.
        Options {
            compaction_interval: Duration::from_secs(300),
        }
    }
}

/// State shared by the handle, the writer thread and watchers.
pub(crate) struct Shared {
    pub(crate) db: Database,
    pub(crate) revision: AtomicI64,
    pub(crate) compacted: AtomicI64,
    pub(crate) events: broadcast::Sender<Arc<Vec<Event>>>,
}

/// The embedded store; see the module docs.
pub struct EmbeddedStore {
    shared: Arc<Shared>,
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in directory `dir`.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|err| {
            StoreError::Internal(format!(
                "cannot create data directory {}: {err}",
                dir.display()
            ))
        })?;
        let path = dir.join(DATABASE_FILE);
        let db = open_database(&path)?;
        let (revision, compacted) = init_tables(&db, &path)?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let shared = Arc::new(Shared {
            db,
            revision: AtomicI64::new(revision),
            compacted: AtomicI64::new(compacted),
            events,
        });
        let (requests, receiver) = mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("keelson-store-writer".into())
            .spawn(move || writer::run(thread_shared, receiver, options.compaction_interval))
            .map_err(|err| {
                StoreError::Internal(format!("cannot start the writer thread: {err}"))
            })?;
        Ok(EmbeddedStore {
            shared,
            requests: Mutex::new(Some(requests)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Stops the writer after the writes already queued; later writes fail
    /// with [`StoreError::Unavailable`].
    pub fn close(&self) {
        self.requests.lock().expect("lock is never poisoned").take();
        if let Some(writer) = self.writer.lock().expect("lock is never poisoned").take() {
            let _ = writer.join();
        }
    }

    /// The oldest revision still readable.
    pub fn compacted_revision(&self) -> Revision {
        self.shared.compacted.load(Ordering::Acquire)
    }

    async fn write(&self, write: Write) -> Result<KeyValue, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Write { write, reply })?;
        answer.await.map_err(|_| closed())?
    }

    fn send(&self, request: Request) -> Result<(), StoreError> {
        let requests = self.requests.lock().expect("lock is never poisoned");
        let sender = requests.as_ref().ok_or_else(closed)?;
        sender.send(request).map_err(|_| closed())
    }

    /// Runs a read on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Shared) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || f(&shared))
            .await
            .map_err(|err| StoreError::Internal(format!("read task failed: {err}")))?
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the embedded store is closed".into())
}

/// Opens the database file, refusing (rather than repairing over) anything
/// that is not an intact redb database.
fn open_database(path: &PathBuf) -> Result<Database, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        path: path.display().to_string(),
        detail,
    };
    // A damaged file must never take the process down: turn a panic in the
    // database library into an error as well.
    let opened = std::panic::catch_unwind(|| Database::create(path));
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(redb::DatabaseError::DatabaseAlreadyOpen)) => Err(StoreError::Unavailable(format!(
            "the database at {} is already open in another process",
            path.display()
        ))),
        Ok(Err(redb::DatabaseError::Storage(redb::StorageError::Io(err))))
            if err.kind() != std::io::ErrorKind::InvalidData =>
        {
            Err(StoreError::Internal(format!(
                "cannot open {}: {err}",
                path.display()
            )))
        }
        Ok(Err(err)) => Err(corrupt(err.to_string())),
        Err(_) => Err(corrupt("the database file is damaged".into())),
    }
}

/// Creates the tables if new and reads the current and compacted revisions.
fn init_tables(db: &Database, path: &Path) -> Result<(Revision, Revision), StoreError> {
    let corrupt = |err: &dyn std::fmt::Display| StoreError::Corrupt {
        path: path.display().to_string(),
        detail: err.to_string(),
    };
    let txn = db.begin_write().map_err(|e| corrupt(&e))?;
    let (revision, compacted) = {
        txn.open_table(VERSIONS).map_err(|e| corrupt(&e))?;
        txn.open_table(LOG).map_err(|e| corrupt(&e))?;
        let meta = txn.open_table(META).map_err(|e| corrupt(&e))?;
        (
            tables::meta_value(&meta, META_REVISION)?,
            tables::meta_value(&meta, META_COMPACTED)?,
        )
    };
    txn.commit().map_err(|e| corrupt(&e))?;
    Ok((revision as Revision, compacted as Revision))
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        validate_key(key)?;
        let txn = self.shared.db.begin_read().map_err(storage)?;
        let versions = txn.open_table(VERSIONS).map_err(storage)?;
        tables::latest_kv(&versions, key)
    }

    async fn range(&self, request: RangeRequest) -> Result<RangeResponse, StoreError> {
        validate_prefix(&request.prefix)?;
        self.read(move |shared| range(shared, &request)).await
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StoreError> {
        validate_key(key)?;
        validate_value(key, &value)?;
        let key = key.to_string();
        self.write(Write::Create { key, value }).await
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Revision,
    ) -> Result<KeyValue, StoreError> {
        validate_key(key)?;
        validate_value(key, &value)?;
        let key = key.to_string();
        self.write(Write::Update {
            key,
            value,
            expected,
        })
        .await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        validate_key(key)?;
        let key = key.to_string();
        self.write(Write::Delete { key, expected }).await
    }

    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StoreError> {
        validate_prefix(prefix)?;
        watch::start(Arc::clone(&self.shared), prefix.to_string(), from)
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Compact { revision, reply })?;
        answer.await.map_err(|_| closed())?
    }

    async fn current_revision(&self) -> Result<Revision, StoreError> {
        Ok(self.shared.revision.load(Ordering::Acquire))
    }
}

/// Serves a range from one read transaction.
fn range(shared: &Shared, request: &RangeRequest) -> Result<RangeResponse, StoreError> {
    let txn = shared.db.begin_read().map_err(storage)?;
    let meta = txn.open_table(META).map_err(storage)?;
    let current = tables::meta_value(&meta, META_REVISION)? as Revision;
    let compacted = tables::meta_value(&meta, META_COMPACTED)? as Revision;
    let revision = request.revision.filter(|r| *r > 0).unwrap_or(current);
    if revision > current {
        return Err(StoreError::FutureRevision {
            requested: revision,
            current,
        });
    }
    if revision < compacted {
        return Err(StoreError::Compacted {
            requested: revision,
            compacted,
        });
    }
    let limit = request.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let versions = txn.open_table(VERSIONS).map_err(storage)?;
    let start_after = request.start_after.as_deref();
    let (kvs, more) = tables::range_at(
        &versions,
        &request.prefix,
        start_after,
        revision as u64,
        limit,
    )?;
    Ok(RangeResponse {
        kvs,
        more,
        revision,
    })
}
