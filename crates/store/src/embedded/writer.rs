//! The one writer of the embedded database: group commit and compaction.
//!
//! Callers queue their writes; a dedicated thread takes every write waiting
//! at once, applies them in one redb transaction (each gets its own revision,
//! conditions are checked against the writes before it), commits with one
//! fsync, publishes the events, and only then answers the callers. So a write
//! is acknowledged only once it is durable, and many concurrent writers share
//! one fsync. The same thread compacts history on a timer.

use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use redb::{ReadableTable, Table, WriteTransaction};
use tokio::sync::oneshot;

use super::Shared;
use super::record::Record;
use super::tables::{
    self, LOG, META, META_COMPACTED, META_REVISION, VERSIONS, deleted_kv, storage,
};
use crate::{Event, EventKind, KeyValue, Revision, StoreError};

/// Most writes one transaction takes.
const MAX_BATCH_WRITES: usize = 512;
/// Most value bytes one transaction takes (one value may exceed it alone).
const MAX_BATCH_BYTES: usize = 16 << 20;

/// A conditional write.
pub(crate) enum Write {
    Create {
        key: String,
        value: Bytes,
    },
    Update {
        key: String,
        value: Bytes,
        expected: Revision,
    },
    Delete {
        key: String,
        expected: Option<Revision>,
    },
}

impl Write {
    fn size(&self) -> usize {
        match self {
            Write::Create { value, .. } | Write::Update { value, .. } => value.len(),
            Write::Delete { .. } => 0,
        }
    }
}

/// What the writer thread is asked to do.
pub(crate) enum Request {
    Write {
        write: Write,
        reply: oneshot::Sender<Result<KeyValue, StoreError>>,
    },
    Compact {
        revision: Revision,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// Runs the writer until every sender is gone. `interval` is the period of
/// automatic compaction: each tick drops history older than the revision seen
/// at the tick before, so at least one interval of history stays available.
pub(crate) fn run(shared: Arc<Shared>, requests: mpsc::Receiver<Request>, interval: Duration) {
    let mut compact_target = shared.revision.load(Ordering::Acquire);
    let mut next_tick = Instant::now() + interval;
    loop {
        let wait = next_tick.saturating_duration_since(Instant::now());
        match requests.recv_timeout(wait) {
            Ok(first) => {
                let (writes, compactions) = gather(first, &requests);
                if !writes.is_empty() {
                    commit_writes(&shared, writes);
                }
                for (revision, reply) in compactions {
                    let _ = reply.send(compact(&shared, revision));
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(err) = compact(&shared, compact_target) {
                    tracing::warn!(%err, "automatic compaction of the embedded store failed");
                }
                compact_target = shared.revision.load(Ordering::Acquire);
                next_tick = Instant::now() + interval;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

type Pending = (Write, oneshot::Sender<Result<KeyValue, StoreError>>);
type PendingCompaction = (Revision, oneshot::Sender<Result<(), StoreError>>);

/// Takes `first` and whatever else is already queued, up to the batch limits.
fn gather(
    first: Request,
    requests: &mpsc::Receiver<Request>,
) -> (Vec<Pending>, Vec<PendingCompaction>) {
    let mut writes = Vec::new();
    let mut compactions = Vec::new();
    let mut bytes = 0;
    let mut next = Some(first);
    while let Some(request) = next.take() {
        match request {
            Request::Write { write, reply } => {
                bytes += write.size();
                writes.push((write, reply));
            }
            Request::Compact { revision, reply } => compactions.push((revision, reply)),
        }
        if writes.len() < MAX_BATCH_WRITES && bytes < MAX_BATCH_BYTES {
            next = requests.try_recv().ok();
        }
    }
    (writes, compactions)
}

/// Applies a batch in one transaction and answers every caller after the commit.
fn commit_writes(shared: &Shared, batch: Vec<Pending>) {
    let base = shared.revision.load(Ordering::Acquire) as u64;
    let (writes, replies): (Vec<Write>, Vec<_>) = batch.into_iter().unzip();
    let outcome = apply_all(shared, base, writes);
    match outcome {
        Ok((revision, results)) => {
            shared
                .revision
                .store(revision as Revision, Ordering::Release);
            let events: Vec<Event> = results
                .iter()
                .filter_map(|r| r.as_ref().ok().map(|(_, event)| event.clone()))
                .collect();
            if !events.is_empty() {
                // No receivers is fine: nobody watches.
                let _ = shared.events.send(Arc::new(events));
            }
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result.map(|(kv, _)| kv));
            }
        }
        Err(err) => {
            tracing::error!(%err, "embedded store commit failed");
            for reply in replies {
                let _ = reply.send(Err(StoreError::Internal(err.to_string())));
            }
        }
    }
}

type Applied = Result<(KeyValue, Event), StoreError>;

fn apply_all(
    shared: &Shared,
    base: u64,
    writes: Vec<Write>,
) -> Result<(u64, Vec<Applied>), StoreError> {
    let txn = shared.db.begin_write().map_err(storage)?;
    let mut revision = base;
    let mut results = Vec::with_capacity(writes.len());
    {
        let mut t = Tables::open(&txn)?;
        for write in writes {
            let result = t.apply(&mut revision, write);
            if let Err(StoreError::Internal(msg)) = &result {
                return Err(StoreError::Internal(msg.clone()));
            }
            results.push(result);
        }
        t.meta.insert(META_REVISION, revision).map_err(storage)?;
    }
    txn.commit().map_err(storage)?;
    Ok((revision, results))
}

/// The tables a write transaction changes.
struct Tables<'txn> {
    versions: Table<'txn, (&'static str, u64), &'static [u8]>,
    log: Table<'txn, u64, &'static str>,
    meta: Table<'txn, &'static str, u64>,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self, StoreError> {
        Ok(Tables {
            versions: txn.open_table(VERSIONS).map_err(storage)?,
            log: txn.open_table(LOG).map_err(storage)?,
            meta: txn.open_table(META).map_err(storage)?,
        })
    }

    fn apply(&mut self, revision: &mut u64, write: Write) -> Applied {
        match write {
            Write::Create { key, value } => {
                if tables::latest_kv(&self.versions, &key)?.is_some() {
                    return Err(StoreError::AlreadyExists { key });
                }
                self.put(revision, &key, value, None)
            }
            Write::Update {
                key,
                value,
                expected,
            } => {
                let prev = self.check(&key, Some(expected))?;
                self.put(revision, &key, value, Some(prev))
            }
            Write::Delete { key, expected } => {
                let prev = self.check(&key, expected)?;
                *revision += 1;
                self.record(*revision, &key, &Record::Tombstone)?;
                let event = Event {
                    kind: EventKind::Delete,
                    kv: deleted_kv(&key, *revision as Revision),
                    prev: Some(prev.clone()),
                };
                Ok((prev, event))
            }
        }
    }

    /// The live value of `key`, if its revision is `expected` (or any).
    fn check(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        let current = tables::latest_kv(&self.versions, key)?;
        match (current, expected) {
            (None, _) => Err(StoreError::NotFound {
                key: key.to_string(),
            }),
            (Some(kv), Some(expected)) if kv.mod_revision != expected => {
                Err(StoreError::Conflict {
                    key: key.to_string(),
                    expected,
                    current: Some(Box::new(kv)),
                })
            }
            (Some(kv), _) => Ok(kv),
        }
    }

    fn put(
        &mut self,
        revision: &mut u64,
        key: &str,
        value: Bytes,
        prev: Option<KeyValue>,
    ) -> Applied {
        *revision += 1;
        let (create_revision, version) = match &prev {
            Some(prev) => (prev.create_revision, prev.version + 1),
            None => (*revision as Revision, 1),
        };
        let record = Record::Put {
            create_revision,
            version,
            value: value.clone(),
        };
        self.record(*revision, key, &record)?;
        let kv = KeyValue {
            key: key.to_string(),
            value,
            create_revision,
            mod_revision: *revision as Revision,
            version,
        };
        let event = Event {
            kind: EventKind::Put,
            kv: kv.clone(),
            prev,
        };
        Ok((kv, event))
    }

    fn record(&mut self, revision: u64, key: &str, record: &Record) -> Result<(), StoreError> {
        self.versions
            .insert((key, revision), record.encode().as_slice())
            .map_err(storage)?;
        self.log.insert(revision, key).map_err(storage)?;
        Ok(())
    }
}

/// Drops every version no read at `revision` or later can see, and the write
/// log up to `revision`.
fn compact(shared: &Shared, revision: Revision) -> Result<(), StoreError> {
    let current = shared.revision.load(Ordering::Acquire);
    let compacted = shared.compacted.load(Ordering::Acquire);
    if revision > current {
        return Err(StoreError::FutureRevision {
            requested: revision,
            current,
        });
    }
    if revision <= compacted {
        return Ok(());
    }
    let target = revision as u64;
    let txn = shared.db.begin_write().map_err(storage)?;
    {
        let mut t = Tables::open(&txn)?;
        let mut keys = Vec::new();
        for entry in t.log.range(..=target).map_err(storage)? {
            let (_, key) = entry.map_err(storage)?;
            keys.push(key.value().to_string());
        }
        keys.sort_unstable();
        keys.dedup();
        for key in &keys {
            trim_versions(&mut t.versions, key, target)?;
        }
        t.log.retain_in(..=target, |_, _| false).map_err(storage)?;
        t.meta.insert(META_COMPACTED, target).map_err(storage)?;
    }
    txn.commit().map_err(storage)?;
    shared.compacted.store(revision, Ordering::Release);
    Ok(())
}

/// Keeps, of the versions of `key` at or before `target`, only the newest, and
/// not even that if it is a tombstone.
fn trim_versions(
    versions: &mut Table<'_, (&'static str, u64), &'static [u8]>,
    key: &str,
    target: u64,
) -> Result<(), StoreError> {
    let Some((newest, record)) = tables::version_at(versions, key, target)? else {
        return Ok(());
    };
    let keep_from = if record == Record::Tombstone {
        newest + 1
    } else {
        newest
    };
    versions
        .retain_in((key, 0)..(key, keep_from), |_, _| false)
        .map_err(storage)?;
    Ok(())
}
