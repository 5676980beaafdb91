//! Shared caches: one watch per resource kind for every controller in the
//! process, as upstream's shared informer factory keeps them.
//!
//! An [`Informer`] watches one kind across all namespaces, keeps what it
//! saw in a kube-runtime [`Store`] (without `managedFields`, which no
//! controller reads and which would double the cache's size), and tells
//! each subscriber every change *after* the store holds it, deletions
//! included. kube-runtime's own shared streams (behind its
//! `unstable-runtime-subscribe` feature) broadcast only the objects still
//! in the store, so a controller would never hear that a pod it owns was
//! deleted; this fan-out carries [`Change::Deleted`] too, and feeds
//! kube-runtime's `Controller::for_shared_stream` and
//! `watches_shared_stream` with the objects.
//!
//! Watches start when [`Informers::start`] is called (after every
//! controller has subscribed, so that none misses the first list); an
//! informer asked for later starts at once, and a late subscriber first
//! gets the store's current contents.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{ObjectRef, Store, store::Writer};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// How many changes a slow subscriber may fall behind before it is given
/// the whole store again instead. The channel holds keys, not objects, so
/// a full buffer keeps no old versions alive.
const BUFFER: usize = 1 << 14;

/// One change an informer saw, once its store holds it.
#[derive(Debug)]
pub enum Change<K> {
    /// An object the store did not have.
    Added(Arc<K>),
    /// A new version of an object the store had (or, after a subscriber
    /// fell behind, an object it is told about again).
    Updated(Arc<K>),
    /// An object gone from the store, as last seen.
    Deleted(Arc<K>),
}

impl<K> Clone for Change<K> {
    fn clone(&self) -> Self {
        match self {
            Self::Added(o) => Self::Added(o.clone()),
            Self::Updated(o) => Self::Updated(o.clone()),
            Self::Deleted(o) => Self::Deleted(o.clone()),
        }
    }
}

impl<K> Change<K> {
    /// The object changed.
    pub fn object(&self) -> &Arc<K> {
        match self {
            Self::Added(o) | Self::Updated(o) | Self::Deleted(o) => o,
        }
    }

    /// The object changed, taken.
    pub fn into_object(self) -> Arc<K> {
        match self {
            Self::Added(o) | Self::Updated(o) | Self::Deleted(o) => o,
        }
    }
}

/// A change as the channel carries it: the key of an object the store
/// holds (looked up when a subscriber takes it), or a deleted object as
/// last seen. Keys rather than objects, so that the channel's buffer keeps
/// no old versions of objects alive.
enum Note<K: Cached> {
    Added(Arc<ObjectRef<K>>),
    Updated(Arc<ObjectRef<K>>),
    Deleted(Arc<K>),
}

impl<K: Cached> Clone for Note<K> {
    fn clone(&self) -> Self {
        match self {
            Self::Added(key) => Self::Added(key.clone()),
            Self::Updated(key) => Self::Updated(key.clone()),
            Self::Deleted(object) => Self::Deleted(object.clone()),
        }
    }
}

impl<K: Cached> Note<K> {
    /// The change it tells, with the object as the store holds it now;
    /// none when it is gone since (its deletion follows).
    fn resolve(self, store: &Store<K>) -> Option<Change<K>> {
        match self {
            Self::Added(key) => store.get(&key).map(Change::Added),
            Self::Updated(key) => store.get(&key).map(Change::Updated),
            Self::Deleted(object) => Some(Change::Deleted(object)),
        }
    }
}

/// What a kind must be to be cached.
pub trait Cached:
    Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static
{
}

impl<K> Cached for K where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static
{
}

/// The shared caches of one process, cheap to clone. Dropping the last
/// clone stops every watch.
#[derive(Clone)]
pub struct Informers {
    inner: Arc<Shared>,
}

struct Shared {
    client: Client,
    started: Mutex<bool>,
    informers: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
    /// What each kind's objects are cut down to before they are cached.
    transforms: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
    pending: Mutex<Vec<StartWatch>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// Starts one informer's watch.
type StartWatch = Box<dyn FnOnce() -> JoinHandle<()> + Send>;

impl Drop for Shared {
    fn drop(&mut self) {
        let tasks = self.tasks.get_mut().unwrap_or_else(|e| e.into_inner());
        for task in tasks.drain(..) {
            task.abort();
        }
    }
}

impl Informers {
    /// Caches that watch with `client` (the manager's own identity, whose
    /// role may list and watch everything the controllers read).
    pub fn new(client: Client) -> Self {
        Self {
            inner: Arc::new(Shared {
                client,
                started: Mutex::new(false),
                informers: Mutex::new(HashMap::new()),
                transforms: Mutex::new(HashMap::new()),
                pending: Mutex::new(Vec::new()),
                tasks: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The client the caches watch with.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Cuts the objects of kind `K` down with `transform` before they are
    /// cached (as upstream's informer transforms do), to keep the cache
    /// small: every reader of the cache sees them so. Takes effect for an
    /// informer not yet made.
    pub fn transform<K: Cached>(&self, transform: fn(&mut K)) {
        lock(&self.inner.transforms).insert(TypeId::of::<K>(), Box::new(transform));
    }

    /// The informer of kind `K`, made on first use.
    pub fn get<K: Cached>(&self) -> Informer<K> {
        let mut informers = lock(&self.inner.informers);
        if let Some(found) = informers.get(&TypeId::of::<K>()) {
            return found
                .downcast_ref::<Informer<K>>()
                .expect("the informers are keyed by their kind's type")
                .clone();
        }
        let transform = lock(&self.inner.transforms)
            .get(&TypeId::of::<K>())
            .and_then(|t| t.downcast_ref::<fn(&mut K)>())
            .copied();
        let api = Api::all(self.inner.client.clone());
        let (informer, watch) = Informer::<K>::new(api, transform);
        informers.insert(TypeId::of::<K>(), Box::new(informer.clone()));
        drop(informers);
        let start: StartWatch = Box::new(move || tokio::spawn(watch));
        if *lock(&self.inner.started) {
            lock(&self.inner.tasks).push(start());
        } else {
            lock(&self.inner.pending).push(start);
        }
        informer
    }

    /// Starts the watches of every informer asked for so far; later ones
    /// start as they are asked for.
    pub fn start(&self) {
        *lock(&self.inner.started) = true;
        let pending: Vec<_> = lock(&self.inner.pending).drain(..).collect();
        let mut tasks = lock(&self.inner.tasks);
        tasks.extend(pending.into_iter().map(|start| start()));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shared cache of one kind.
pub struct Informer<K: Cached> {
    store: Store<K>,
    changes: broadcast::Sender<Note<K>>,
}

impl<K: Cached> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            changes: self.changes.clone(),
        }
    }
}

impl<K: Cached> Informer<K> {
    /// An informer over `api`, and the watch that fills it (run as a task).
    fn new(
        api: Api<K>,
        transform: Option<fn(&mut K)>,
    ) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let writer = Writer::<K>::default();
        let store = writer.as_reader();
        let (changes, _) = broadcast::channel(BUFFER);
        let informer = Self {
            store: store.clone(),
            changes: changes.clone(),
        };
        (informer, watch(api, writer, changes, transform))
    }

    /// The cache, for reads.
    pub fn store(&self) -> &Store<K> {
        &self.store
    }

    /// Waits until the cache holds a first complete list.
    pub async fn synced(&self) {
        // The writer lives as long as the watch; a dropped one means the
        // process is stopping, when nothing waits on a cache any more.
        let _ = self.store.wait_until_ready().await;
    }

    /// Every change from now on, after what the cache holds already (as
    /// [`Change::Updated`]). A subscriber that falls more than 16,384
    /// changes behind is told the whole cache again (as added).
    pub fn subscribe(&self) -> impl Stream<Item = Change<K>> + Send + 'static {
        let receiver = self.changes.subscribe();
        let store = self.store.clone();
        let present = replay(&store);
        futures::stream::iter(present).chain(
            futures::stream::unfold((receiver, store), |(mut receiver, store)| async move {
                match receiver.recv().await {
                    Ok(note) => {
                        let change = note.resolve(&store);
                        Some((change.into_iter().collect(), (receiver, store)))
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "a controller fell behind its cache; reading it again"
                        );
                        // As added: what was created meanwhile is seen, and
                        // telling more creates than there were only lets a
                        // controller act on the cache that now shows them.
                        let all: Vec<Change<K>> =
                            store.state().into_iter().map(Change::Added).collect();
                        Some((all, (receiver, store)))
                    }
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            })
            .flat_map(futures::stream::iter),
        )
    }

    /// The objects of [`Self::subscribe`], deleted ones included, as
    /// kube-runtime's shared-stream triggers take them.
    pub fn objects(&self) -> impl Stream<Item = Arc<K>> + Send + 'static {
        self.subscribe().map(Change::into_object)
    }
}

fn replay<K: Cached>(store: &Store<K>) -> Vec<Change<K>> {
    store.state().into_iter().map(Change::Updated).collect()
}

/// The watch of one informer: lists and watches (re-listing, with
/// kube-runtime's backoff, when the watch breaks), writes the store, then
/// tells the subscribers.
async fn watch<K: Cached>(
    api: Api<K>,
    mut writer: Writer<K>,
    changes: broadcast::Sender<Note<K>>,
    transform: Option<fn(&mut K)>,
) {
    let store = writer.as_reader();
    let mut before_relist: HashMap<ObjectRef<K>, Arc<K>> = HashMap::new();
    let events = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(move |object: &mut K| {
            object.meta_mut().managed_fields = None;
            if let Some(transform) = transform {
                transform(object);
            }
        });
    let mut events = std::pin::pin!(events);
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(err) => {
                tracing::debug!(kind = %K::kind(&()), error = %err, "a watch broke; it is resumed");
                continue;
            }
        };
        let told = match &event {
            Event::Apply(object) => {
                let key = Arc::new(ObjectRef::from_obj(object));
                let known = store.get(&key).is_some();
                writer.apply_watcher_event(&event);
                vec![if known {
                    Note::Updated(key)
                } else {
                    Note::Added(key)
                }]
            }
            Event::Delete(object) => {
                writer.apply_watcher_event(&event);
                vec![Note::Deleted(Arc::new(object.clone()))]
            }
            Event::Init => {
                before_relist = store
                    .state()
                    .into_iter()
                    .map(|o| (ObjectRef::from_obj(&*o), o))
                    .collect();
                writer.apply_watcher_event(&event);
                Vec::new()
            }
            Event::InitApply(_) => {
                writer.apply_watcher_event(&event);
                Vec::new()
            }
            Event::InitDone => {
                writer.apply_watcher_event(&event);
                relisted(&store, std::mem::take(&mut before_relist))
            }
        };
        for note in told {
            // No subscriber is not an error: nobody asked yet.
            let _ = changes.send(note);
        }
    }
}

/// What a finished (re)list changed against the store before it.
fn relisted<K: Cached>(
    store: &Store<K>,
    mut before: HashMap<ObjectRef<K>, Arc<K>>,
) -> Vec<Note<K>> {
    let mut told = Vec::new();
    for object in store.state() {
        let key = ObjectRef::from_obj(&*object);
        match before.remove(&key) {
            Some(old) if old.meta().resource_version == object.meta().resource_version => {}
            Some(_) => told.push(Note::Updated(Arc::new(key))),
            None => told.push(Note::Added(Arc::new(key))),
        }
    }
    told.extend(before.into_values().map(Note::Deleted));
    told
}
