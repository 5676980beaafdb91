//! Watches on the embedded store.
//!
//! A watcher subscribes to the events each commit publishes, then catches up
//! from the write log (from its start revision to the present), then follows
//! the published events, skipping what it already delivered. A watcher that
//! falls too far behind does not hold anyone up: it loses its place in the
//! published stream and catches up from the log again.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::stream;
use redb::ReadableDatabase;
use tokio::sync::broadcast::{self, error::RecvError};

use super::Shared;
use super::tables::{self, LOG, META, META_COMPACTED, VERSIONS, storage};
use crate::{Event, Revision, StoreError, WatchStream};

/// Log entries read per catch-up step.
const CATCH_UP_CHUNK: usize = 1024;

struct Watcher {
    shared: Arc<Shared>,
    prefix: String,
    /// The next revision this watcher has not yet looked at.
    next: Revision,
    live: broadcast::Receiver<Arc<Vec<Event>>>,
    pending: VecDeque<Event>,
    catching_up: bool,
    done: bool,
}

/// Starts a watch of `prefix` from revision `from` (0: from now on).
pub(crate) fn start(
    shared: Arc<Shared>,
    prefix: String,
    from: Revision,
) -> Result<WatchStream, StoreError> {
    // Subscribe before reading anything so no commit falls between the two.
    let live = shared.events.subscribe();
    let current = shared.revision.load(Ordering::Acquire);
    let compacted = shared.compacted.load(Ordering::Acquire);
    let next = if from <= 0 { current + 1 } else { from };
    if next <= compacted {
        return Err(StoreError::Compacted {
            requested: from,
            compacted,
        });
    }
    let watcher = Watcher {
        shared,
        prefix,
        next,
        live,
        pending: VecDeque::new(),
        catching_up: next <= current,
        done: false,
    };
    Ok(Box::pin(stream::unfold(
        watcher,
        |mut watcher| async move {
            let item = watcher.next_item().await?;
            Some((item, watcher))
        },
    )))
}

impl Watcher {
    async fn next_item(&mut self) -> Option<Result<Event, StoreError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            if self.catching_up {
                if let Err(err) = self.catch_up().await {
                    self.done = true;
                    return Some(Err(err));
                }
                continue;
            }
            match self.live.recv().await {
                Ok(batch) => self.take(&batch),
                Err(RecvError::Lagged(_)) => self.catching_up = true,
                Err(RecvError::Closed) => {
                    self.done = true;
                    return Some(Err(StoreError::Unavailable(
                        "the embedded store is closed".into(),
                    )));
                }
            }
        }
    }

    /// Queues the events of one published commit that this watcher wants.
    fn take(&mut self, batch: &[Event]) {
        let Some(first) = batch.first() else { return };
        if first.revision() > self.next {
            // A gap: something was published that we never saw. Never
            // expected, but the log always has the truth.
            self.catching_up = true;
            return;
        }
        for event in batch {
            if event.revision() < self.next {
                continue;
            }
            self.next = event.revision() + 1;
            if event.kv.key.starts_with(&self.prefix) {
                self.pending.push_back(event.clone());
            }
        }
    }

    /// Reads the next chunk of the write log into `pending`.
    async fn catch_up(&mut self) -> Result<(), StoreError> {
        let shared = Arc::clone(&self.shared);
        let prefix = self.prefix.clone();
        let from = self.next;
        let (events, next, finished) =
            tokio::task::spawn_blocking(move || read_log(&shared, &prefix, from))
                .await
                .map_err(|err| StoreError::Internal(format!("watch read failed: {err}")))??;
        self.pending.extend(events);
        self.next = next;
        self.catching_up = !finished;
        Ok(())
    }
}

/// Events under `prefix` from revision `from`, one chunk of the log at most.
/// Returns the events, the next revision to read, and whether the log ended.
fn read_log(
    shared: &Shared,
    prefix: &str,
    from: Revision,
) -> Result<(Vec<Event>, Revision, bool), StoreError> {
    let txn = shared.db.begin_read().map_err(storage)?;
    let meta = txn.open_table(META).map_err(storage)?;
    let compacted = tables::meta_value(&meta, META_COMPACTED)? as Revision;
    if from <= compacted {
        return Err(StoreError::Compacted {
            requested: from,
            compacted,
        });
    }
    let log = txn.open_table(LOG).map_err(storage)?;
    let versions = txn.open_table(VERSIONS).map_err(storage)?;
    let mut events = Vec::new();
    let mut next = from;
    let mut read = 0;
    for entry in log.range(from as u64..).map_err(storage)? {
        let (revision, key) = entry.map_err(storage)?;
        let (revision, key) = (revision.value(), key.value());
        if key.starts_with(prefix) {
            events.push(tables::event_at(&versions, key, revision)?);
        }
        next = revision as Revision + 1;
        read += 1;
        if read == CATCH_UP_CHUNK {
            return Ok((events, next, false));
        }
    }
    Ok((events, next, true))
}
