//! The collector's loop: discovery (again every [`DISCOVERY_EVERY`], so
//! that custom resources are picked up) starts one metadata-only watch per
//! served kind that can be listed, watched and deleted; the watches feed
//! the [`Graph`]; the graph's effects feed the [`Queue`], whose workers
//! ([`super::work`]) carry out the decisions. Watches read with `reader`;
//! lookups, patches, deletes and events go with `writer`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::core::PartialObjectMeta;
use kube::discovery::{Discovery, Scope, verbs};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::graph::{Change, Effects, Graph, Identity, Object};
use super::queue::{Queue, Work};

/// How often discovery runs again.
pub const DISCOVERY_EVERY: Duration = Duration::from_secs(30);
/// How many workers attempt deletions at once.
const WORKERS: usize = 4;
/// The kinds never watched, as upstream's default ignored resources.
const IGNORED: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];

/// A kind the collector knows from discovery.
#[derive(Clone, Debug)]
pub struct Kind {
    /// Its resource.
    pub resource: ApiResource,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
}

/// What the workers share.
pub struct Shared {
    /// The ownerReference graph.
    pub graph: Mutex<Graph>,
    /// Kinds by `(apiVersion, kind)`, every served version.
    pub kinds: RwLock<HashMap<(String, String), Kind>>,
    /// The work queue.
    pub queue: Arc<Queue>,
    /// The collector's own client, for lookups and writes.
    pub writer: Client,
    recorder: Recorder,
}

impl Shared {
    /// The graph, whatever a panicked holder left (a change is applied
    /// whole or not at all as far as the queue is concerned).
    pub fn graph(&self) -> std::sync::MutexGuard<'_, Graph> {
        self.graph.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The kind of `api_version`/`kind`, if discovery served it.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<Kind> {
        let kinds = self.kinds.read().unwrap_or_else(|e| e.into_inner());
        kinds
            .get(&(api_version.to_string(), kind.to_string()))
            .cloned()
    }

    /// Applies `change` to the graph and queues its effects.
    pub fn apply(&self, change: Change) {
        let effects = self.graph().apply(change);
        self.follow(effects);
    }

    fn follow(&self, effects: Effects) {
        for uid in effects.attempt_delete {
            self.queue.add(Work::Delete(uid));
        }
        for uid in effects.attempt_orphan {
            self.queue.add(Work::Orphan(uid));
        }
        for (dependent, owner) in effects.invalid_namespace {
            let recorder = self.recorder.clone();
            tokio::spawn(async move { invalid_namespace(&recorder, &dependent, &owner).await });
        }
    }
}

/// Records upstream's `OwnerRefInvalidNamespace` warning on `dependent`.
async fn invalid_namespace(
    recorder: &Recorder,
    dependent: &Identity,
    owner: &keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
) {
    let named = Identity::of_reference(owner, &dependent.namespace);
    let event = Event {
        type_: EventType::Warning,
        reason: "OwnerRefInvalidNamespace".to_string(),
        note: Some(format!(
            "ownerRef {named} does not exist in namespace {:?}",
            dependent.namespace
        )),
        action: "GarbageCollect".to_string(),
        secondary: None,
    };
    let reference = keelson_api::k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some(dependent.api_version.clone()),
        kind: Some(dependent.kind.clone()),
        namespace: (!dependent.namespace.is_empty()).then(|| dependent.namespace.clone()),
        name: Some(dependent.name.clone()),
        uid: Some(dependent.uid.clone()),
        ..Default::default()
    };
    if let Err(err) = recorder.publish(&event, &reference).await {
        tracing::debug!(error = %err, "an event was not recorded");
    }
}

/// Runs the collector until the future is dropped.
pub async fn run(reader: Client, writer: Client) {
    let reporter = Reporter {
        controller: "garbage-collector-controller".to_string(),
        instance: None,
    };
    let shared = Arc::new(Shared {
        graph: Mutex::new(Graph::default()),
        kinds: RwLock::new(HashMap::new()),
        queue: Arc::new(Queue::default()),
        recorder: Recorder::new(writer.clone(), reporter),
        writer,
    });
    let (changes, mut incoming) = mpsc::unbounded_channel();
    let mut tasks = JoinSet::new();
    tasks.spawn(discover(reader, shared.clone(), changes));
    for _ in 0..WORKERS {
        tasks.spawn(super::work::worker(shared.clone()));
    }
    let graph = shared.clone();
    tasks.spawn(async move {
        while let Some(change) = incoming.recv().await {
            graph.apply(change);
        }
    });
    while let Some(ended) = tasks.join_next().await {
        if let Err(err) = ended {
            tracing::error!(error = %err, "a garbage collector task ended");
        }
    }
}

/// Discovery, again and again: the kinds known, and a watch on each new
/// deletable kind that lists.
async fn discover(reader: Client, shared: Arc<Shared>, changes: mpsc::UnboundedSender<Change>) {
    let mut watches = JoinSet::new();
    let mut watched: HashSet<(String, String)> = HashSet::new();
    loop {
        match Discovery::new(reader.clone()).run().await {
            Ok(discovery) => {
                let mut kinds = HashMap::new();
                let mut deletable = Vec::new();
                for group in discovery.groups() {
                    for version in group.versions() {
                        for (resource, caps) in group.versioned_resources(version) {
                            let namespaced = caps.scope == Scope::Namespaced;
                            let key = (resource.api_version.clone(), resource.kind.clone());
                            kinds.insert(
                                key,
                                Kind {
                                    resource,
                                    namespaced,
                                },
                            );
                        }
                    }
                    for (resource, caps) in group.recommended_resources() {
                        let key = (resource.group.clone(), resource.plural.clone());
                        let ignored = IGNORED.contains(&(key.0.as_str(), key.1.as_str()));
                        let verbs_ok = [verbs::LIST, verbs::WATCH, verbs::DELETE]
                            .iter()
                            .all(|v| caps.supports_operation(v));
                        if verbs_ok && !ignored && !watched.contains(&key) {
                            deletable.push((key, resource));
                        }
                    }
                }
                *shared.kinds.write().unwrap_or_else(|e| e.into_inner()) = kinds;
                for (key, resource) in deletable {
                    if lists(&reader, &resource).await {
                        watched.insert(key);
                        watches.spawn(watch(reader.clone(), resource, changes.clone()));
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "discovery failed"),
        }
        tokio::time::sleep(DISCOVERY_EVERY).await;
    }
}

/// Whether `resource` can be listed; a kind that answers 403, 404 or 405
/// is left out until the next discovery.
async fn lists(reader: &Client, resource: &ApiResource) -> bool {
    let api: Api<DynamicObject> = Api::all_with(reader.clone(), resource);
    match api.list_metadata(&ListParams::default().limit(1)).await {
        Ok(_) => true,
        Err(kube::Error::Api(status)) if matches!(status.code, 403..=405) => false,
        Err(err) => {
            tracing::debug!(kind = resource.kind, error = %err, "a kind did not list");
            false
        }
    }
}

/// One kind's metadata watch, feeding the graph. A re-list sends the
/// deletions it implies (objects known before and absent from it).
async fn watch(reader: Client, resource: ApiResource, changes: mpsc::UnboundedSender<Change>) {
    // An API of `PartialObjectMeta` asks for metadata only.
    let api: Api<PartialObjectMeta<DynamicObject>> = Api::all_with(reader, &resource);
    let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
    let mut stream = std::pin::pin!(stream);
    let mut known: HashMap<String, Identity> = HashMap::new();
    let mut relisted: Option<HashMap<String, Identity>> = None;
    while let Some(event) = stream.next().await {
        let sent = match event {
            Ok(watcher::Event::Init) => {
                relisted = Some(HashMap::new());
                true
            }
            Ok(watcher::Event::InitApply(object)) => {
                let Some(object) = observed(&resource, &object) else {
                    continue;
                };
                let uid = object.identity.uid.clone();
                relisted
                    .get_or_insert_with(HashMap::new)
                    .insert(uid, object.identity.clone());
                changes.send(Change::Upsert(object)).is_ok()
            }
            Ok(watcher::Event::InitDone) => {
                let now = relisted.take().unwrap_or_default();
                let gone: Vec<Identity> = known
                    .iter()
                    .filter(|(uid, _)| !now.contains_key(*uid))
                    .map(|(_, identity)| identity.clone())
                    .collect();
                known = now;
                gone.into_iter()
                    .all(|identity| changes.send(Change::Delete(identity)).is_ok())
            }
            Ok(watcher::Event::Apply(object)) => {
                let Some(object) = observed(&resource, &object) else {
                    continue;
                };
                known.insert(object.identity.uid.clone(), object.identity.clone());
                changes.send(Change::Upsert(object)).is_ok()
            }
            Ok(watcher::Event::Delete(object)) => {
                let Some(object) = observed(&resource, &object) else {
                    continue;
                };
                known.remove(&object.identity.uid);
                changes.send(Change::Delete(object.identity)).is_ok()
            }
            Err(err) => {
                tracing::debug!(kind = resource.kind, error = %err, "a watch failed");
                true
            }
        };
        // The graph is gone: the collector was dropped.
        if !sent {
            return;
        }
    }
}

/// What the graph takes of one watched object; `None` without a uid.
pub fn observed(
    resource: &ApiResource,
    object: &PartialObjectMeta<DynamicObject>,
) -> Option<Object> {
    let uid = object.metadata.uid.clone()?;
    Some(Object {
        identity: Identity {
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
            namespace: object.namespace().unwrap_or_default(),
            name: object.name_any(),
            uid,
        },
        owners: object.owner_references().to_vec(),
        being_deleted: object.metadata.deletion_timestamp.is_some(),
        finalizers: object.finalizers().to_vec(),
    })
}
