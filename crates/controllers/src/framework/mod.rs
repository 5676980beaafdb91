//! The framework every controller here is written with, and a user's own
//! controllers too.
//!
//! Level-triggered, as upstream's controllers: watches feed shared caches
//! ([`Informers`]: one watch per kind in the process, without
//! `managedFields`); a change enqueues the *key* of the object it concerns
//! (kube-runtime's [`Controller`], fed from the caches with
//! `for_shared_stream` and `watches_shared_stream`, which deduplicates keys
//! and never runs one key twice at once); a worker reads the whole object
//! from the cache and syncs it. A controller's decision is a pure
//! `reconcile(desired, observed, now) -> Plan`; its sync carries the plan
//! out with a [`Context`]'s clients, records upstream's events
//! ([`Events`]), and answers with an [`Action`] (when to look again).
//!
//! [`drive`] runs a controller: a failed sync is tried again after a
//! per-key [`Backoff`]; a conflict ([`Error::Conflict`]) is tried again at
//! once and never reported as a failure; one object's failure never stops
//! the loop.

mod backoff;
mod informers;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use std::panic::AssertUnwindSafe;

use futures::{FutureExt, StreamExt};
use kube::Client;
use kube::runtime::controller::{self, Action, Controller};

pub use backoff::{BASE_DELAY, Backoff, CONFLICT_DELAY, MAX_DELAY};
pub use informers::{Cached, Change, Informer, Informers};
pub use keelson_client::events::{Event, EventType, Events};

/// What a controller runs with.
#[derive(Clone)]
pub struct Context {
    /// The controller's name (upstream's, e.g. `replicaset-controller`).
    pub name: String,
    /// The client of its writes, with its own identity.
    pub client: Client,
    /// The manager's own client, for reads beside the shared caches (a
    /// controller's own role may not list what it watches).
    pub reader: Client,
    /// The process's shared caches.
    pub informers: Informers,
    /// Its events, recorded with its own identity.
    pub events: Events,
}

impl Context {
    /// The context of the controller `name` writing with `client`, and
    /// reading with the client of `informers`.
    pub fn new(name: &str, client: Client, informers: Informers) -> Self {
        Self {
            name: name.to_string(),
            events: Events::new(client.clone(), name),
            reader: informers.client().clone(),
            client,
            informers,
        }
    }
}

/// Why a sync did not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A write lost to another write of the same object (409): the sync
    /// runs again on the new version.
    #[error("failed to write: the object was changed meanwhile: {0}")]
    Conflict(String),
    /// The API server refused or failed a request.
    #[error("failed to sync: {0}")]
    Api(String),
}

impl From<kube::Error> for Error {
    fn from(err: kube::Error) -> Self {
        match &err {
            kube::Error::Api(status) if status.code == 409 => {
                Error::Conflict(status.message.clone())
            }
            _ => Error::Api(error_text(&err)),
        }
    }
}

/// The message of a failed request, as the API server gave it.
pub fn error_text(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

/// A write that lost to the object's deletion is not an error: the next
/// change brings the loop back. Conflicts are left to [`drive`].
pub fn ignore_not_found<T>(result: Result<T, kube::Error>) -> Result<Option<T>, kube::Error> {
    match result {
        Ok(made) => Ok(Some(made)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(err) => Err(err),
    }
}

/// The `namespace/name` (or `name`) key of an object.
pub fn key<K: kube::Resource>(object: &K) -> String {
    let meta = object.meta();
    let name = meta.name.as_deref().unwrap_or("");
    match meta.namespace.as_deref() {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_string(),
    }
}

/// Runs `controller`, syncing each object with `sync` and `context`, until
/// the future is dropped. Failures wait a [`Backoff`] per key; conflicts
/// run again after [`CONFLICT_DELAY`].
pub async fn drive<K, C, F, Fut>(controller: Controller<K>, context: Arc<C>, sync: F)
where
    K: Cached,
    C: Send + Sync + 'static,
    F: Fn(Arc<K>, Arc<C>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, Error>> + Send + 'static,
{
    let state = Arc::new(Driven {
        context,
        sync,
        backoff: Backoff::default(),
    });
    controller
        .run(
            |object: Arc<K>, state: Arc<Driven<C, F>>| {
                let key = key(&*object);
                let running = (state.sync)(object, state.context.clone());
                async move {
                    // A sync that panics fails that object's sync only: the
                    // loop goes on for every other object.
                    let done = match AssertUnwindSafe(running).catch_unwind().await {
                        Ok(done) => done,
                        Err(_) => Err(Error::Api(format!("the sync of {key} panicked"))),
                    };
                    if done.is_ok() {
                        state.backoff.succeeded(&key);
                    }
                    done
                }
            },
            |object: Arc<K>, error: &Error, state: Arc<Driven<C, F>>| {
                let key = key(&*object);
                match error {
                    Error::Conflict(_) => Action::requeue(CONFLICT_DELAY),
                    Error::Api(message) => {
                        let wait = state.backoff.failed(&key);
                        tracing::info!(key, message, ?wait, "a sync failed; it is tried again");
                        Action::requeue(wait)
                    }
                }
            },
            state,
        )
        .for_each(|ended| async move {
            if let Err(err) = ended {
                report(&err);
            }
        })
        .await;
}

struct Driven<C, F> {
    context: Arc<C>,
    sync: F,
    backoff: Backoff,
}

fn report<K: Debug>(err: &controller::Error<Error, K>) {
    match err {
        // An object gone from the cache between its change and its sync:
        // nothing to do.
        controller::Error::ObjectNotFound(_) => {}
        controller::Error::ReconcilerFailed(_, _) => {}
        other => tracing::debug!(error = ?other, "a controller's queue reported an error"),
    }
}
