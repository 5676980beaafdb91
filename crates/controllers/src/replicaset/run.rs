//! The ReplicaSet controller's loop: what carries out [`super::reconcile`]'s
//! plans against the API server. Level-triggered on the ReplicaSets and
//! the pods they own (a kube-runtime [`Controller`]); each sync reads the
//! namespace's pods from the API (a consistent read, so that no lagging
//! cache makes it create or delete twice), claims, creates in slow-start
//! batches that stop at the first failure, deletes, records upstream's
//! events and writes the status with the `ReplicaFailure` condition of
//! a failure. A failed sync is tried again after a pause; one ReplicaSet's
//! failure never stops the others.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use keelson_api::k8s_openapi::api::apps::v1::ReplicaSet;
use keelson_api::k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event as Published, EventType as PublishedType, Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};

use super::{Event, EventType, Observed, reconcile, status_after};

/// How long a failed sync waits before it is tried again.
const RETRY: Duration = Duration::from_secs(5);

/// The loop's clients: the manager's own for watches and reads, and the
/// controller's for its writes and events.
struct Clients {
    own: Client,
    writer: Client,
    recorder: Recorder,
}

/// Errors of one sync.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<kube::Error> for Error {
    fn from(err: kube::Error) -> Self {
        Error(err.to_string())
    }
}

/// Runs the ReplicaSet controller until the future is dropped.
pub async fn run(own: Client, writer: Client) {
    let reporter = Reporter {
        controller: "replicaset-controller".to_string(),
        instance: None,
    };
    let clients = Arc::new(Clients {
        recorder: Recorder::new(writer.clone(), reporter),
        own: own.clone(),
        writer,
    });
    let sets: Api<ReplicaSet> = Api::all(own.clone());
    let pods: Api<Pod> = Api::all(own);
    Controller::new(sets, watcher::Config::default())
        .owns(pods, watcher::Config::default())
        .run(sync, |_, _, _| Action::requeue(RETRY), clients)
        .for_each(|_| async {})
        .await;
}

async fn sync(rs: Arc<ReplicaSet>, clients: Arc<Clients>) -> Result<Action, Error> {
    let namespace = rs.namespace().unwrap_or_default();
    let name = rs.name_any();
    let now = Timestamp::now();
    let read: Api<Pod> = Api::namespaced(clients.own.clone(), &namespace);
    let pods = read.list(&ListParams::default()).await?.items;
    let plan = match reconcile(
        &rs,
        Observed {
            pods: &pods,
            related_pods: &[],
            expectations_satisfied: true,
        },
        now,
    ) {
        Ok(plan) => plan,
        // Left alone until it changes, as upstream does.
        Err(err) => {
            tracing::info!(replicaset = name, error = %err, "replica set not synced");
            return Ok(Action::await_change());
        }
    };
    let write: Api<Pod> = Api::namespaced(clients.writer.clone(), &namespace);
    for patch in plan.adopt.iter().chain(&plan.release) {
        let result = write
            .patch(
                &patch.name,
                &PatchParams::default(),
                &Patch::Strategic(&patch.patch),
            )
            .await;
        ignore_gone(result)?;
    }
    let mut failure: Option<String> = None;
    if let Some(creates) = &plan.create {
        let post = PostParams::default();
        'batches: for batch in &creates.batches {
            let made =
                futures::future::join_all((0..*batch).map(|_| write.create(&post, &creates.pod)))
                    .await;
            for result in made {
                match result {
                    Ok(pod) => clients.publish(&rs, Event::created(&pod.name_any())).await,
                    Err(err) => {
                        let message = error_text(&err);
                        clients.publish(&rs, Event::failed_create(&message)).await;
                        failure.get_or_insert(message);
                    }
                }
            }
            if failure.is_some() {
                break 'batches;
            }
        }
    }
    for pod in &plan.delete {
        match write.delete(pod, &DeleteParams::default()).await {
            Ok(_) => clients.publish(&rs, Event::deleted(pod)).await,
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(err) => {
                let message = error_text(&err);
                clients.publish(&rs, Event::failed_delete(&message)).await;
                failure.get_or_insert(message);
            }
        }
    }
    let status = status_after(&rs, &plan.claimed, failure.as_deref(), now);
    if Some(&status) != rs.status.as_ref() {
        let sets: Api<ReplicaSet> = Api::namespaced(clients.writer.clone(), &namespace);
        let mut next = (*rs).clone();
        next.status = Some(status);
        ignore_gone(
            sets.replace_status(&name, &PostParams::default(), &next)
                .await,
        )?;
    }
    Ok(match (failure, plan.requeue_after) {
        (Some(_), _) => Action::requeue(RETRY),
        (None, Some(after)) => Action::requeue(Duration::try_from(after).unwrap_or(RETRY)),
        (None, None) => Action::await_change(),
    })
}

impl Clients {
    /// Records `event` about `rs`; a failure to record is only logged.
    async fn publish(&self, rs: &ReplicaSet, event: Event) {
        let published = Published {
            type_: match event.type_ {
                EventType::Normal => PublishedType::Normal,
                EventType::Warning => PublishedType::Warning,
            },
            reason: event.reason.to_string(),
            note: Some(event.message),
            action: event.reason.to_string(),
            secondary: None,
        };
        if let Err(err) = self.recorder.publish(&published, &rs.object_ref(&())).await {
            tracing::debug!(error = %err, "an event was not recorded");
        }
    }
}

/// The message of a failed write, as the API server gave it.
fn error_text(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

/// A write that lost to a deletion or to another write: the next change
/// brings the loop back.
fn ignore_gone<T>(result: Result<T, kube::Error>) -> Result<(), kube::Error> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if matches!(status.code, 404 | 409) => Ok(()),
        Err(err) => Err(err),
    }
}
