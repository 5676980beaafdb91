//! The scheduler as a running API client: watches that keep the cache,
//! the queue and the listers current, one loop that takes the next pod
//! and runs its scheduling cycle over a fresh snapshot, and a binding
//! cycle per placed pod that runs on its own task, so the next pod is
//! scheduled while the last one is being bound.
//!
//! A pod that fits nowhere gets upstream's `FailedScheduling` event and
//! `PodScheduled=False` condition; preemption's victims are deleted and
//! the preemptor nominated; a bound pod gets the `Scheduled` event.

mod binding;
mod events;
mod failure;
mod watch;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keelson_client::events::Events;
use kube::Client;

use crate::cache::Cache;
use crate::config::{ConfigError, SchedulerConfiguration};
use crate::framework::runtime::Framework;
use crate::framework::{
    CycleState, Handle, Listers, Nominator, PodInfo, QueuedPodInfo, Registry, Snapshot,
};
use crate::queue::SchedulingQueue;
use crate::schedule::{Cycle, Rotation, ScheduleError};

/// The component name events are reported by (upstream's).
pub const COMPONENT: &str = "default-scheduler";

/// Why the scheduler could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("failed to watch {kind}: {message}")]
    Watch { kind: &'static str, message: String },
}

/// A scheduler: its profiles, queue, cache and listers.
pub struct Scheduler {
    client: Client,
    profiles: Vec<Arc<Framework>>,
    queue: Arc<SchedulingQueue>,
    cache: Arc<Cache>,
    listers: Arc<Listers>,
    nominator: Arc<Nominator>,
    events: events::EventQueue,
    percentage: Option<i32>,
    /// The pending pods by uid, as last seen by the watch: a failed pod
    /// is requeued in its newest version, or dropped if gone or bound.
    pending: Arc<
        Mutex<std::collections::HashMap<String, Arc<keelson_api::k8s_openapi::api::core::v1::Pod>>>,
    >,
    /// At most this many pods are being bound at once.
    binding_slots: Arc<tokio::sync::Semaphore>,
}

/// How many bindings run at once.
const BINDING_CONCURRENCY: usize = 32;

impl Scheduler {
    /// A scheduler of the profiles `config` names (upstream's default
    /// profile when it names none), with `registry`'s plugins.
    pub fn new(
        client: Client,
        config: &SchedulerConfiguration,
        registry: &Registry,
    ) -> Result<Scheduler, Error> {
        let listers = Arc::new(Listers::default());
        let nominator = Arc::new(Nominator::default());
        let handle = Handle {
            listers: listers.clone(),
            client: Some(client.clone()),
        };
        let profiles: Vec<Arc<Framework>> = config
            .frameworks(registry, &handle, &nominator)?
            .into_iter()
            .map(Arc::new)
            .collect();
        let (initial, max) = config.backoffs()?;
        let queue = Arc::new(SchedulingQueue::new(profiles.clone(), initial, max));
        Ok(Scheduler {
            events: events::EventQueue::new(Events::new(client.clone(), COMPONENT)),
            client,
            profiles,
            queue,
            cache: Arc::new(Cache::new()),
            listers,
            nominator,
            percentage: config.percentage_of_nodes_to_score.filter(|p| *p > 0),
            pending: Arc::default(),
            binding_slots: Arc::new(tokio::sync::Semaphore::new(BINDING_CONCURRENCY)),
        })
    }

    /// The names of the profiles (the `schedulerName`s it serves).
    pub fn profile_names(&self) -> Vec<String> {
        self.profiles.iter().map(|p| p.name().to_string()).collect()
    }

    /// Runs until `shutdown` completes: the watches, then (once every
    /// watch has listed) the scheduling loop.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), Error> {
        let this = Arc::new(self);
        let recorder = this.events.start();
        let (watches, synced) = watch::start(this.clone());
        let flusher = tokio::spawn({
            let queue = this.queue.clone();
            async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    queue.flush();
                }
            }
        });
        let scheduling = {
            let this = this.clone();
            async move {
                synced.await;
                tracing::info!("the scheduler's caches are synced; scheduling");
                this.schedule_loop().await;
            }
        };
        tokio::select! {
            () = shutdown => {}
            () = scheduling => {}
        }
        this.queue.close();
        flusher.abort();
        recorder.abort();
        for watch in watches {
            watch.abort();
        }
        Ok(())
    }

    async fn schedule_loop(self: &Arc<Self>) {
        let mut snapshot = Snapshot::default();
        let mut rotation = Rotation::default();
        while let Some((queued, cycle)) = self.queue.pop().await {
            self.schedule_one(&mut snapshot, &mut rotation, queued, cycle);
            // Let the watches and bindings run between cycles.
            tokio::task::yield_now().await;
        }
    }

    fn framework_for(&self, pod: &PodInfo) -> Option<&Arc<Framework>> {
        let name = crate::queue::scheduler_name(&pod.pod);
        self.profiles.iter().find(|p| p.name() == name)
    }

    /// One pod's scheduling cycle: choose, assume, reserve, permit; then
    /// its binding cycle on a task of its own.
    fn schedule_one(
        self: &Arc<Self>,
        snapshot: &mut Snapshot,
        rotation: &mut Rotation,
        queued: QueuedPodInfo,
        cycle: u64,
    ) {
        let pod = queued.pod_info.clone();
        let (Some(framework), false) = (self.framework_for(&pod).cloned(), self.skip(&pod)) else {
            self.queue.done(pod.uid());
            return;
        };
        self.cache.update_snapshot(snapshot);
        let mut state = CycleState::new();
        let chosen = Cycle {
            framework: &framework,
            snapshot,
            listers: &self.listers,
            percentage: self.percentage,
        }
        .schedule(&mut state, &pod, rotation);
        let node = match chosen {
            Ok(result) => result.node,
            Err(error) => {
                let error = match error {
                    ScheduleError::Fit(fit) => {
                        self.post_filter(&framework, &state, &pod, snapshot, *fit)
                    }
                    other => failure::Failure::from_schedule_error(other),
                };
                self.fail(queued, cycle, error);
                return;
            }
        };
        let assumed = Arc::new(assumed_on(&pod, &node));
        self.cache.assume(assumed.clone(), &node);
        let reserved = framework.run_reserve(&mut state, &assumed, &node);
        let permitted = if reserved.is_success() {
            framework.run_permit(&mut state, &assumed, &node)
        } else {
            reserved
        };
        if !permitted.is_success() && permitted.code() != crate::framework::Code::Wait {
            framework.run_unreserve(&mut state, &assumed, &node);
            self.cache.forget(pod.uid());
            self.fail(queued, cycle, failure::Failure::from_status(permitted));
            return;
        }
        self.nominator.remove(pod.uid());
        self.spawn_binding(framework, state, queued, assumed, node, cycle);
    }

    /// Pods being deleted, or already assumed or bound, are not scheduled.
    fn skip(&self, pod: &PodInfo) -> bool {
        pod.pod.metadata.deletion_timestamp.is_some() || self.cache.contains(pod.uid())
    }
}

/// `pod` as placed on `node`.
fn assumed_on(pod: &PodInfo, node: &str) -> PodInfo {
    let mut assumed = (*pod.pod).clone();
    if let Some(spec) = assumed.spec.as_mut() {
        spec.node_name = Some(node.to_string());
    }
    PodInfo::new(Arc::new(assumed))
}

/// Runs the scheduler of `config` (built-in plugins and `extra`) against
/// the API server of `client` until `shutdown`.
pub async fn run(
    client: Client,
    config: &SchedulerConfiguration,
    extra: Registry,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
    let mut registry = crate::plugins::in_tree();
    registry.extend(extra);
    Scheduler::new(client, config, &registry)?
        .run(shutdown)
        .await
}
