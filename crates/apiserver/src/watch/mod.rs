//! The watch cache: one store watch per resource, fanned out in memory to
//! every client watch, with the current objects (for watches and lists at
//! `resourceVersion=0`) and a window of recent events (for watches that
//! resume from a recent resourceVersion).
//!
//! Each event is decoded once and, per event type, serialized once; every
//! watcher shares the result.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use futures::StreamExt;
use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use keelson_store::{Event, EventKind, RangeRequest, Store};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::objects::decode;
use crate::objects::store_error;

/// Events published to watchers together.
pub type Batch = Arc<EventBatch>;

/// Events published together, with their lines as a watcher without
/// selectors sees them, joined once for every such watcher.
pub struct EventBatch {
    events: Vec<Arc<CachedEvent>>,
    plain: OnceLock<Bytes>,
}

impl EventBatch {
    pub(crate) fn new(events: Vec<Arc<CachedEvent>>) -> Self {
        EventBatch {
            events,
            plain: OnceLock::new(),
        }
    }

    /// Every event's line as a watcher without selectors gets it.
    pub fn plain_lines(&self) -> Bytes {
        self.plain
            .get_or_init(|| {
                let mut joined = Vec::new();
                for event in &self.events {
                    let seen = match (&event.new, &event.old) {
                        (Some(_), Some(_)) => Seen::Modified,
                        (Some(_), None) => Seen::Added,
                        (None, _) => Seen::Deleted,
                    };
                    joined.extend_from_slice(&event.line(seen));
                }
                Bytes::from(joined)
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

/// Under load, events are published at most this often, in batches, so
/// that each watcher writes to its client once per batch rather than once
/// per event. An event after a quiet spell goes out at once.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(10);
/// The most events in one batch.
const MAX_BATCH: usize = 256;

/// Events kept for resuming watches.
const WINDOW: usize = 2048;
/// Published events a watcher may fall behind before it must catch up
/// from the window.
const LIVE_BUFFER: usize = 4096;

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
    pub new: Option<Value>,
    /// The object before the change.
    pub old: Option<Value>,
    lines: [OnceLock<Bytes>; 4],
}

impl CachedEvent {
    /// Decodes a store event.
    pub fn decode(resource: &ResourceInfo, event: &Event) -> Result<Self, ApiError> {
        let new = match event.kind {
            EventKind::Put => Some(decode(resource, &event.kv)?),
            EventKind::Delete => None,
        };
        let old = event
            .prev
            .as_ref()
            .map(|kv| decode(resource, kv))
            .transpose()?;
        Ok(CachedEvent {
            revision: event.revision(),
            key: event.kv.key.clone(),
            new,
            old,
            lines: Default::default(),
        })
    }

    /// The object a watcher is sent for this change.
    pub fn object(&self, seen: Seen) -> Value {
        match (seen, &self.new, &self.old) {
            (Seen::Deleted, _, Some(old)) => {
                let mut old = old.clone();
                old["metadata"]["resourceVersion"] = Value::from(self.revision.to_string());
                old
            }
            (_, Some(new), _) => new.clone(),
            _ => Value::Null,
        }
    }

    /// The JSON line of this change as `seen`, serialized once.
    pub fn line(&self, seen: Seen) -> Bytes {
        self.lines[seen as usize]
            .get_or_init(|| event_line(seen.event_type(), &self.object(seen)))
            .clone()
    }
}

/// One watch event as a line of JSON.
pub fn event_line(event_type: &str, object: &Value) -> Bytes {
    let mut bytes =
        serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

struct State {
    objects: BTreeMap<String, Value>,
    /// The revision `objects` reflects.
    revision: i64,
    /// Every event after `window_start` up to `revision`.
    window: VecDeque<Arc<CachedEvent>>,
    window_start: i64,
    failed: bool,
}

impl State {
    /// Copies of the objects under `prefix`.
    fn under(&self, prefix: &str) -> Vec<Value> {
        self.objects
            .range(prefix.to_string()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(_, object)| object.clone())
            .collect()
    }
}

/// The cache of one resource.
pub struct Cache {
    state: Mutex<State>,
    live: broadcast::Sender<Batch>,
    /// Dropped with the cache, which ends its store watch.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A watcher's start: what it must replay, and the live events after.
pub struct Subscription {
    pub replay: Vec<Arc<CachedEvent>>,
    pub live: broadcast::Receiver<Batch>,
}

impl Cache {
    async fn start(
        store: Arc<dyn Store>,
        resource: &'static ResourceInfo,
    ) -> Result<Arc<Self>, ApiError> {
        let prefix = registry::storage_prefix(resource, None);
        let (objects, revision) = list_all(&store, resource, &prefix).await?;
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let cache = Arc::new(Cache {
            state: Mutex::new(State {
                objects,
                revision,
                window: VecDeque::new(),
                window_start: revision,
                failed: false,
            }),
            live,
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
                        cache.lock().failed = true;
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

    fn apply(&self, batch: Batch) {
        let mut state = self.lock();
        for event in batch.iter() {
            match &event.new {
                Some(object) => state.objects.insert(event.key.clone(), object.clone()),
                None => state.objects.remove(&event.key),
            };
            state.revision = event.revision;
            state.window.push_back(Arc::clone(event));
            if state.window.len() > WINDOW
                && let Some(oldest) = state.window.pop_front()
            {
                state.window_start = oldest.revision;
            }
        }
        // Sent under the lock so a subscriber sees each event exactly once.
        let _ = self.live.send(batch);
    }

    /// The objects under `prefix` now, their revision, and the live
    /// events after it.
    pub fn snapshot(&self, prefix: &str) -> Option<(Vec<Value>, i64, broadcast::Receiver<Batch>)> {
        let state = self.lock();
        if state.failed {
            return None;
        }
        let objects = state.under(prefix);
        Some((objects, state.revision, self.live.subscribe()))
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
        (!state.failed).then(|| state.objects.get(key).cloned())
    }

    /// The events after `revision`, if the window still has them all.
    pub fn subscribe_from(&self, revision: i64) -> Option<Subscription> {
        let state = self.lock();
        if state.failed || revision < state.window_start || revision > state.revision {
            return None;
        }
        let replay = state
            .window
            .iter()
            .filter(|event| event.revision > revision)
            .cloned()
            .collect();
        Some(Subscription {
            replay,
            live: self.live.subscribe(),
        })
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
        let mut batch = vec![Arc::new(CachedEvent::decode(resource, &event)?)];
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
                Some(Ok(event)) => batch.push(Arc::new(CachedEvent::decode(resource, &event)?)),
                _ => {
                    if let Some(cache) = cache.upgrade() {
                        cache.apply(Arc::new(EventBatch::new(batch)));
                    }
                    return Ok(());
                }
            }
        }
        let Some(live) = cache.upgrade() else {
            return Ok(());
        };
        live.apply(Arc::new(EventBatch::new(batch)));
        last_publish = tokio::time::Instant::now();
    }
    Ok(())
}

async fn list_all(
    store: &Arc<dyn Store>,
    resource: &ResourceInfo,
    prefix: &str,
) -> Result<(BTreeMap<String, Value>, i64), ApiError> {
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
            objects.insert(kv.key.clone(), decode(resource, kv)?);
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
