//! The watch cache: one store watch per resource, fanned out in memory to
//! every client watch, with the current objects (for watches and lists at
//! `resourceVersion=0`) and a window of recent events (for watches that
//! resume from a recent resourceVersion).
//!
//! Each object is decoded once and kept as its serialized watch line,
//! which every watcher and list shares ([`event`]); the lines of a batch
//! of events are joined once for every watcher without selectors.
//! Watches and lists that start from the current state share one
//! immutable [`snapshot`] of it. Each watcher has a bounded queue
//! ([`watcher`]) that the cache fills without ever waiting: one that falls
//! behind is closed, so no client can slow the cache's writes or hold
//! more than one buffer's worth of events alive.

pub mod event;
pub mod snapshot;
pub mod watcher;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use keelson_store::{Event, EventKind, RangeRequest, Store};
use serde_json::Value;

use crate::objects::store_error;

pub use event::{Batch, CachedEvent, CachedObject, EventBatch, Seen, event_line};
pub use snapshot::{Snapshot, Under};
pub use watcher::Receiver;

/// Under load, events are published at most this often, in batches, so
/// that each watcher writes to its client once per batch rather than once
/// per event. An event after a quiet spell goes out at once.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(10);
/// The most events in one batch.
const MAX_BATCH: usize = 256;

/// Events kept for resuming watches.
const WINDOW: usize = 2048;

struct State {
    objects: BTreeMap<String, Arc<CachedObject>>,
    /// The revision `objects` reflects.
    revision: i64,
    /// `objects` as a list, made on first demand after each change.
    snapshot: Option<Snapshot>,
    /// Every event after `window_start` up to `revision`.
    window: VecDeque<Arc<CachedEvent>>,
    window_start: i64,
    /// The queues of the open watchers, fed under the lock so that each
    /// watcher sees every event after its start exactly once.
    watchers: Vec<Arc<watcher::Shared>>,
    failed: bool,
}

impl State {
    /// The current objects as a shared snapshot.
    fn snapshot(&mut self) -> Snapshot {
        let revision = self.revision;
        let objects = &self.objects;
        self.snapshot
            .get_or_insert_with(|| Snapshot::new(objects.values().cloned().collect(), revision))
            .clone()
    }

    /// Copies of the objects under `prefix`.
    fn under(&self, prefix: &str) -> Vec<Value> {
        self.objects
            .range(prefix.to_string()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(_, object)| object.value().clone())
            .collect()
    }

    /// A new watcher of the events after the current revision.
    fn watch(&mut self) -> Receiver {
        let (shared, receiver) = Receiver::new();
        self.watchers.push(shared);
        receiver
    }

    /// The object `event` replaced: the cache's own, when it has that
    /// version, else decoded from the event.
    fn previous(
        &self,
        resource: &ResourceInfo,
        event: &Event,
    ) -> Result<Option<Arc<CachedObject>>, ApiError> {
        let Some(prev) = &event.prev else {
            return Ok(None);
        };
        match self.objects.get(&prev.key) {
            Some(object) if object.revision == prev.mod_revision => Ok(Some(Arc::clone(object))),
            _ => Ok(Some(Arc::new(CachedObject::decode(resource, prev)?))),
        }
    }

    /// Applies one store event whose new object is decoded already.
    fn apply_one(&mut self, event: CachedEvent) -> Arc<CachedEvent> {
        match &event.new {
            Some(object) => self.objects.insert(event.key.clone(), Arc::clone(object)),
            None => self.objects.remove(&event.key),
        };
        self.revision = event.revision;
        let event = Arc::new(event);
        self.window.push_back(Arc::clone(&event));
        if self.window.len() > WINDOW
            && let Some(oldest) = self.window.pop_front()
        {
            self.window_start = oldest.revision;
        }
        event
    }

    /// Offers `batch` to every watcher; returns how many were closed for
    /// being too far behind.
    fn publish(&mut self, batch: &Batch) -> usize {
        let mut overflowed = 0;
        self.watchers.retain(|watcher| match watcher.offer(batch) {
            watcher::Offer::Queued => true,
            watcher::Offer::Overflowed => {
                overflowed += 1;
                false
            }
            watcher::Offer::Gone => false,
        });
        overflowed
    }
}

impl Drop for State {
    /// A cache let go of ends its watches (their clients watch again).
    fn drop(&mut self) {
        for watcher in self.watchers.drain(..) {
            watcher.end();
        }
    }
}

/// The cache of one resource.
pub struct Cache {
    resource: &'static ResourceInfo,
    state: Mutex<State>,
    /// Dropped with the cache, which ends its store watch.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A store event with its new object decoded, not yet applied.
struct Pending {
    event: Event,
    new: Option<Arc<CachedObject>>,
}

impl Pending {
    fn decode(resource: &ResourceInfo, event: Event) -> Result<Self, ApiError> {
        let new = match event.kind {
            EventKind::Put => Some(Arc::new(CachedObject::decode(resource, &event.kv)?)),
            EventKind::Delete => None,
        };
        Ok(Pending { event, new })
    }
}

impl Cache {
    async fn start(
        store: Arc<dyn Store>,
        resource: &'static ResourceInfo,
    ) -> Result<Arc<Self>, ApiError> {
        let prefix = registry::storage_prefix(resource, None);
        let (objects, revision) = list_all(&store, resource, &prefix).await?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let cache = Arc::new(Cache {
            resource,
            state: Mutex::new(State {
                objects,
                revision,
                snapshot: None,
                window: VecDeque::new(),
                window_start: revision,
                watchers: Vec::new(),
                failed: false,
            }),
            _stop: stop,
        });
        let mut events = store
            .watch(&prefix, revision + 1)
            .await
            .map_err(|err| store_error(err, resource.group, resource.plural, ""))?;
        // The feeder holds the cache weakly: when every user has let go of
        // it (a server's caches dropped), its store watch ends too.
        let feeder = Arc::downgrade(&cache);
        tokio::spawn(async move {
            tokio::select! {
                _ = feed(&feeder, resource, &mut events) => {
                    // Gone: nothing to tell. Still in use: it failed.
                    if let Some(cache) = feeder.upgrade() {
                        tracing::warn!(
                            resource = resource.plural,
                            "watch cache stopped; it restarts on next use"
                        );
                        cache.fail();
                    }
                }
                _ = stopped => {}
            }
        });
        Ok(cache)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks the cache failed and ends its watchers (their clients watch
    /// again, on a restarted cache).
    fn fail(&self) {
        let mut state = self.lock();
        state.failed = true;
        for watcher in state.watchers.drain(..) {
            watcher.end();
        }
    }

    /// Applies decoded store events and publishes them as one batch.
    fn apply(&self, pending: Vec<Pending>) -> Result<(), ApiError> {
        let mut state = self.lock();
        let mut events = Vec::with_capacity(pending.len());
        for Pending { event, new } in pending {
            let old = state.previous(self.resource, &event)?;
            events.push(state.apply_one(CachedEvent::new(&event, new, old)));
        }
        state.snapshot = None;
        let batch = Arc::new(EventBatch::new(events));
        let overflowed = state.publish(&batch);
        drop(state);
        if overflowed > 0 {
            // As upstream's cacher: the client lists and watches again.
            tracing::warn!(
                resource = self.resource.plural,
                watchers = overflowed,
                max_events = watcher::MAX_EVENTS,
                max_bytes = watcher::MAX_BYTES,
                "forcing watcher close due to unresponsiveness: its buffer is full"
            );
        }
        Ok(())
    }

    /// The current objects, shared; `None` when the cache has failed.
    pub fn snapshot(&self) -> Option<Snapshot> {
        let mut state = self.lock();
        (!state.failed).then(|| state.snapshot())
    }

    /// A watch from now: the current objects and a watcher of the
    /// events after them.
    pub fn watch_now(&self) -> Option<(Snapshot, Receiver)> {
        let mut state = self.lock();
        if state.failed {
            return None;
        }
        Some((state.snapshot(), state.watch()))
    }

    /// A watch from `revision`: the window's events after it (if the
    /// window still has them all) and a watcher of the events after those.
    pub fn watch_from(&self, revision: i64) -> Option<(Vec<Arc<CachedEvent>>, Receiver)> {
        let mut state = self.lock();
        if state.failed || revision < state.window_start || revision > state.revision {
            return None;
        }
        let replay = state
            .window
            .iter()
            .filter(|event| event.revision > revision)
            .cloned()
            .collect();
        Some((replay, state.watch()))
    }

    /// The objects under `prefix` now; `None` when the cache has failed.
    pub fn objects_under(&self, prefix: &str) -> Option<Vec<Value>> {
        let state = self.lock();
        (!state.failed).then(|| state.under(prefix))
    }

    /// The revision the cache reflects; `None` when it has failed.
    pub fn revision(&self) -> Option<i64> {
        let state = self.lock();
        (!state.failed).then_some(state.revision)
    }

    /// The object at `key` as of the cache's revision: `Some(None)` when
    /// there is none, `None` when the cache has failed (ask the store).
    pub fn lookup(&self, key: &str) -> Option<Option<Value>> {
        let state = self.lock();
        (!state.failed).then(|| state.objects.get(key).map(|object| object.value().clone()))
    }
}

/// Moves the store's events into the cache until the store watch fails.
async fn feed(
    cache: &std::sync::Weak<Cache>,
    resource: &'static ResourceInfo,
    events: &mut keelson_store::WatchStream,
) -> Result<(), ApiError> {
    let mut last_publish = tokio::time::Instant::now() - COALESCE;
    while let Some(Ok(event)) = events.next().await {
        let mut batch = vec![Pending::decode(resource, event)?];
        let until = last_publish + COALESCE;
        while batch.len() < MAX_BATCH {
            // Take what is ready; wait for more only while publishing again
            // so soon would be too often.
            let next = match futures::FutureExt::now_or_never(events.next()) {
                Some(next) => next,
                None if tokio::time::Instant::now() < until => {
                    match tokio::time::timeout_at(until, events.next()).await {
                        Ok(next) => next,
                        Err(_) => break,
                    }
                }
                None => break,
            };
            match next {
                Some(Ok(event)) => batch.push(Pending::decode(resource, event)?),
                _ => {
                    if let Some(cache) = cache.upgrade() {
                        cache.apply(batch)?;
                    }
                    return Ok(());
                }
            }
        }
        let Some(live) = cache.upgrade() else {
            return Ok(());
        };
        live.apply(batch)?;
        last_publish = tokio::time::Instant::now();
    }
    Ok(())
}

async fn list_all(
    store: &Arc<dyn Store>,
    resource: &ResourceInfo,
    prefix: &str,
) -> Result<(BTreeMap<String, Arc<CachedObject>>, i64), ApiError> {
    let mut objects = BTreeMap::new();
    let mut start_after = None;
    let mut revision = None;
    loop {
        let page = store
            .range(RangeRequest {
                prefix: prefix.to_string(),
                start_after: start_after.take(),
                revision,
                limit: Some(1000),
            })
            .await
            .map_err(|err| store_error(err, resource.group, resource.plural, ""))?;
        revision = Some(page.revision);
        start_after = page.kvs.last().map(|kv| kv.key.clone());
        for kv in &page.kvs {
            let object = CachedObject::decode(resource, kv)?;
            objects.insert(kv.key.clone(), Arc::new(object));
        }
        if !page.more {
            return Ok((objects, page.revision));
        }
    }
}

/// A resource's group, version and plural name (two versions of one
/// resource each have their own cache, decoding to their own form).
type GroupResource = (&'static str, &'static str, &'static str);

/// The caches of every resource, made on first use.
#[derive(Clone)]
pub struct Caches {
    store: Arc<dyn Store>,
    caches: Arc<tokio::sync::Mutex<HashMap<GroupResource, Arc<Cache>>>>,
}

impl Caches {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Caches {
            store,
            caches: Arc::default(),
        }
    }

    /// The cache of `resource`, started (or restarted after a failure) if needed.
    pub async fn of(&self, resource: &'static ResourceInfo) -> Result<Arc<Cache>, ApiError> {
        let mut caches = self.caches.lock().await;
        let key = (resource.group, resource.version, resource.plural);
        if let Some(cache) = caches.get(&key)
            && !cache.lock().failed
        {
            return Ok(Arc::clone(cache));
        }
        let cache = Cache::start(Arc::clone(&self.store), resource).await?;
        caches.insert(key, Arc::clone(&cache));
        Ok(cache)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_maps() -> &'static ResourceInfo {
        registry::by_resource("", "configmaps").expect("configmaps are registered")
    }

    async fn put(store: &Arc<dyn Store>, name: &str) {
        put_sized(store, name, 0).await;
    }

    async fn put_sized(store: &Arc<dyn Store>, name: &str, bytes: usize) {
        let key = registry::storage_key(config_maps(), "default", name);
        let pad = "x".repeat(bytes);
        let value = format!(
            r#"{{"metadata":{{"name":"{name}","namespace":"default"}},"data":{{"pad":"{pad}"}}}}"#
        );
        store
            .create(&key, bytes::Bytes::from(value))
            .await
            .expect("a create");
    }

    async fn cache_with(names: &[&str]) -> (tempfile::TempDir, Arc<dyn Store>, Arc<Cache>) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = keelson_store::open(&format!("embedded:{}", dir.path().display()))
            .await
            .expect("a store");
        for name in names {
            put(&store, name).await;
        }
        let cache = Caches::new(Arc::clone(&store))
            .of(config_maps())
            .await
            .expect("a cache");
        (dir, store, cache)
    }

    fn names(snapshot: &Snapshot) -> Vec<String> {
        snapshot
            .under("/")
            .map(|o| {
                o.value()["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    #[tokio::test]
    async fn watches_from_now_share_one_snapshot_until_a_change() {
        let (_dir, store, cache) = cache_with(&["b", "a"]).await;
        let (first, live) = cache.watch_now().expect("a working cache");
        let (second, _other) = cache.watch_now().expect("a working cache");
        assert_eq!(names(&first), ["a", "b"]);
        let (one, two) = (first.under("/"), second.under("/"));
        for (x, y) in one.zip(two) {
            assert!(Arc::ptr_eq(&x, &y), "the same objects, not copies");
        }
        put(&store, "c").await;
        let batch = tokio::time::timeout(std::time::Duration::from_secs(5), live.recv())
            .await
            .expect("the change arrives")
            .expect("a batch");
        assert_eq!(batch[0].plain(), Seen::Added);
        // The earlier snapshot stays as it was; a new one has the change.
        assert_eq!(names(&first), ["a", "b"]);
        let third = cache.snapshot().expect("a working cache");
        assert_eq!(names(&third), ["a", "b", "c"]);
        // The cache's object and the event's are one.
        let shared = third.under("/").last().expect("c");
        assert!(Arc::ptr_eq(&shared, batch[0].new.as_ref().expect("new")));
        let (replay, after) = cache
            .watch_from(third.revision() - 1)
            .expect("in the window");
        assert_eq!(replay.len(), 1);
        assert!(after.try_recv().is_none());
    }

    #[tokio::test]
    async fn a_watcher_left_unread_is_closed_and_the_others_go_on() {
        let (_dir, store, cache) = cache_with(&[]).await;
        let (_, unread) = cache.watch_now().expect("a working cache");
        let (_, read) = cache.watch_now().expect("a working cache");
        // Large objects, so that the buffer fills by size in a few writes.
        let size = 64 * 1024;
        let writes = watcher::MAX_BYTES / size + 10;
        let mut received = 0;
        for i in 0..writes {
            put_sized(&store, &format!("cm-{i:05}"), size).await;
            while let Some(batch) = read.try_recv() {
                received += batch.len();
            }
        }
        while received < writes {
            let batch = tokio::time::timeout(std::time::Duration::from_secs(5), read.recv())
                .await
                .expect("the reading watcher goes on")
                .expect("a batch");
            received += batch.len();
        }
        assert!(unread.is_closed(), "closed once its buffer was full");
        assert!(unread.recv().await.is_none());
        assert!(!read.is_closed());
        assert_eq!(cache.lock().watchers.len(), 1, "the cache forgot it");
    }
}
